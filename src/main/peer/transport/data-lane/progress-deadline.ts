/**
 * The deadline a sender must beat while we wait on it: within every `windowMs` of waiting, at
 * least `minBytes` must arrive. Silence fails it, and so does a trickle: a byte now and then
 * does not start the window again, only `minBytes` do. Only time spent waiting on the socket
 * counts, so our own download cap or a slow disk never fails a sender.
 */
export class ProgressDeadline {
  private waited = 0;
  private bytes = 0;
  private since = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly minBytes: number,
    /** Called once the window ran out; `bytes` is what arrived in it. */
    private readonly onExpired: (bytes: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** We are about to wait for the sender. */
  waiting(): void {
    clearTimeout(this.timer);
    this.since = this.now();
    this.timer = setTimeout(() => this.onExpired(this.bytes), Math.max(0, this.windowMs - this.waited));
  }

  /** The wait ended with `bytes` from the sender (0 at its end or on an error). */
  arrived(bytes: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waited += this.now() - this.since;
    this.bytes += bytes;
    if (this.bytes >= this.minBytes) {
      this.waited = 0;
      this.bytes = 0;
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
