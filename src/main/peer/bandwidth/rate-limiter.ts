import { LanspreadError } from '../../../shared/errors';

export interface RateLimiterOptions {
  /** 0 = unlimited. */
  bytesPerSec: number;
  /** How much may pass at once after a quiet spell, as time at the current rate. */
  burstMs?: number;
  /** Milliseconds clock; injectable so tests can reason about refills. */
  now?: () => number;
}

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const DEFAULT_BURST_MS = 100;

/**
 * Token bucket shared by every transfer in one direction (one global download limiter, one
 * global upload limiter per runtime). Takers are served strictly first come, first served, so
 * several concurrent streams split the rate evenly instead of the fastest one starving the
 * rest. A taker larger than the bucket is let through once the bucket is full and leaves it in
 * debt, so pieces of any size pass while the average rate still holds. A timer exists only
 * while someone waits: an idle limiter keeps no process alive.
 */
export class RateLimiter {
  private rate: number;
  private readonly burstMs: number;
  private readonly now: () => number;
  private tokens: number;
  private lastRefill: number;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(options: RateLimiterOptions) {
    this.burstMs = options.burstMs ?? DEFAULT_BURST_MS;
    this.now = options.now ?? (() => performance.now());
    this.rate = checkedRate(options.bytesPerSec);
    this.tokens = this.capacity();
    this.lastRefill = this.now();
  }

  /** Bytes per second; 0 = unlimited. */
  get bytesPerSec(): number {
    return this.rate;
  }

  /** Number of takers currently waiting (for tests and diagnostics). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Applies at once, also to takers already waiting. */
  setRate(bytesPerSec: number): void {
    const next = checkedRate(bytesPerSec);
    this.refill();
    const wasUnlimited = this.rate === 0;
    this.rate = next;
    // Coming out of "unlimited" the bucket holds nothing meaningful: start with one burst.
    this.tokens = wasUnlimited ? this.capacity() : Math.min(this.tokens, this.capacity());
    this.reschedule();
  }

  /** Resolves once `bytes` may pass. Rejects with REQUEST_CANCELLED if `signal` aborts first. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelled());
    if (this.tryTake(bytes)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => this.abandon(waiter);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.reschedule();
    });
  }

  /**
   * Takes `bytes` at once if they may pass now (nobody waits ahead and the bucket holds enough),
   * without a promise: a hot path calls this per 16 KiB piece. False means: call take().
   */
  tryTake(bytes: number): boolean {
    if (bytes <= 0) return true;
    if (this.queue.length > 0) return false;
    if (this.rate === 0) return true;
    this.refill();
    if (this.tokens < this.needed(bytes)) return false;
    this.tokens -= bytes;
    return true;
  }

  private capacity(): number {
    return Math.max(1, (this.rate * this.burstMs) / 1000);
  }

  /** A taker bigger than the bucket only waits for a full bucket (it then runs into debt). */
  private needed(bytes: number): number {
    return Math.min(bytes, this.capacity());
  }

  private refill(): void {
    const at = this.now();
    if (this.rate > 0) this.tokens = Math.min(this.capacity(), this.tokens + ((at - this.lastRefill) * this.rate) / 1000);
    this.lastRefill = at;
  }

  private reschedule(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pump();
  }

  private pump(): void {
    this.timer = undefined;
    this.refill();
    while (this.queue.length > 0) {
      const head = this.queue[0] as Waiter;
      if (this.rate !== 0) {
        if (this.tokens < this.needed(head.bytes)) break;
        this.tokens -= head.bytes;
      }
      this.queue.shift();
      this.settle(head);
      head.resolve();
    }
    const head = this.queue[0];
    if (head === undefined) return;
    const waitMs = ((this.needed(head.bytes) - this.tokens) * 1000) / this.rate;
    this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(waitMs)));
  }

  private abandon(waiter: Waiter): void {
    const index = this.queue.indexOf(waiter);
    if (index === -1) return;
    this.queue.splice(index, 1);
    this.settle(waiter);
    waiter.reject(cancelled());
    // The head may have changed (and with it the wait): recompute rather than keep a stale timer.
    this.reschedule();
  }

  private settle(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }
}

function checkedRate(bytesPerSec: number): number {
  if (!Number.isFinite(bytesPerSec) || bytesPerSec < 0) {
    throw new LanspreadError('INTERNAL', `Bandwidth limit must be a non-negative number of bytes per second, got ${bytesPerSec}`);
  }
  return bytesPerSec;
}

function cancelled(): LanspreadError {
  return new LanspreadError('REQUEST_CANCELLED', 'Waiting for bandwidth was cancelled');
}
