import { LanspreadError } from '../../../../shared/errors';
import type { PeerId } from '../../../../shared/model';

/**
 * How many chunk uploads run at once, shared fairly between the peers that ask. A crowd of
 * downloaders no longer splits the uplink into dozens of slow transfers (each chunk would
 * take so long that nobody could pass it on): a few chunks go out at a time, each at a good
 * fraction of the link, and a waiting request is queued, never refused. Not too few either:
 * each upload also runs at most at its receiver's share of its own downlink, where it meets
 * the uploads of every other peer that receiver pulls from. Waiting peers take
 * turns (round robin over peers, first come first served within one peer), so a peer with
 * many connections gets no more than one with few.
 */
export class UploadSlots {
  private free: number;
  /** Waiting peers in turn order; each with its waiters in arrival order. */
  private readonly queues = new Map<PeerId, Waiter[]>();

  constructor(readonly slots: number) {
    this.free = Math.max(1, slots);
  }

  get waiting(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  /** Whether any waiting request passes `test` (given the asker and what it asked for, `wants` of acquire). */
  someWaiting(test: (peerId: PeerId, wants: string) => boolean): boolean {
    for (const [peerId, queue] of this.queues) for (const waiter of queue) if (test(peerId, waiter.wants)) return true;
    return false;
  }

  /** A slot at once when one is free and nobody waits (the release function), else null. */
  tryAcquire(): (() => void) | null {
    if (this.free === 0 || this.queues.size > 0) return null;
    this.free--;
    return this.releaser();
  }

  /**
   * Resolves with the release function once a slot is this caller's; rejects with
   * REQUEST_CANCELLED if `signal` aborts first. `wants` names what the caller asks for, for
   * someWaiting.
   */
  acquire(peerId: PeerId, signal?: AbortSignal, wants = ''): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(cancelled());
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const grant = (release: () => void) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(release);
      };
      const waiter: Waiter = { grant, wants };
      const onAbort = () => {
        const queue = this.queues.get(peerId);
        const index = queue?.indexOf(waiter) ?? -1;
        if (queue && index >= 0) {
          queue.splice(index, 1);
          if (queue.length === 0) this.queues.delete(peerId);
        }
        reject(cancelled());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const queue = this.queues.get(peerId);
      if (queue) queue.push(waiter);
      else this.queues.set(peerId, [waiter]);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free++;
      this.grantNext();
    };
  }

  private grantNext(): void {
    while (this.free > 0) {
      const next = this.queues.entries().next();
      if (next.done) return;
      const [peerId, queue] = next.value;
      const waiter = queue.shift();
      // The peer goes to the back of the turn order (Map keeps insertion order).
      this.queues.delete(peerId);
      if (queue.length > 0) this.queues.set(peerId, queue);
      if (!waiter) continue;
      this.free--;
      waiter.grant(this.releaser());
    }
  }
}

interface Waiter {
  grant: (release: () => void) => void;
  wants: string;
}

function cancelled(): LanspreadError {
  return new LanspreadError('REQUEST_CANCELLED', 'Upload request was cancelled while queued');
}
