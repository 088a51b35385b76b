import type { PeerId } from '../../../../shared/model';

/**
 * Which chunks this peer sent lately, and to whom: the memory behind super-seeding. A peer
 * facing a crowd (requests waiting for an upload slot) does not send a chunk again that it sent
 * to another peer moments ago; that peer passes it on, and the slot goes to a chunk the room
 * does not have yet (BitTorrent's super-seeding, BEP 16, done by refusing repeats rather than
 * by hiding pieces). It heals itself: once every asker waits on chunks that were sent before,
 * they ask for nothing else, nobody is left waiting, and the repeat is served. Bounded: old
 * entries go first.
 */
export class RecentUploads {
  private readonly sent = new Map<string, { to: PeerId; at: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether a peer other than `peerId` got this chunk within the window. */
  sentElsewhere(key: string, peerId: PeerId): boolean {
    const entry = this.sent.get(key);
    return entry !== undefined && entry.to !== peerId && this.now() - entry.at < this.windowMs;
  }

  /** The send to `peerId` did not complete: it does not count. */
  forget(key: string, peerId: PeerId): void {
    if (this.sent.get(key)?.to === peerId) this.sent.delete(key);
  }

  record(key: string, peerId: PeerId): void {
    this.sent.delete(key);
    this.sent.set(key, { to: peerId, at: this.now() });
    // Insertion order is age order: drop the oldest past the bound or the window.
    for (const [oldest, entry] of this.sent) {
      if (this.sent.size <= this.maxEntries && this.now() - entry.at < this.windowMs) break;
      this.sent.delete(oldest);
    }
  }
}
