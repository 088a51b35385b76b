export interface UplinkGuardOptions {
  /** Bytes this peer has uploaded so far, and received (TransferLedger's totals). */
  sent(): number;
  received(): number;
  /** Caps this peer's uploads at that many bytes per second; 0 lifts the cap. */
  cap(bytesPerSec: number): void;
  /** Whether a download cap is set: the download rate then says nothing about the link, and the guard stays out. */
  downloadCapped?: () => boolean;
  /** How often the rates are sampled. */
  tickMs?: number;
  /** Milliseconds clock; injectable so tests can drive ticks. */
  now?: () => number;
}

/** Each sample moves a rate this far towards the latest second: a burst the socket buffers absorbed counts half. */
const SMOOTHING = 0.5;
/** The download has run clearly below its best... */
const DOWNLOAD_DROP = 0.85;
/** ...once its best was at least this share of the best upload (so it is known how fast this link downloads). */
const KNOWN_DOWNLOAD = 0.5;
/** The cap, as a share of the best download rate: the link's pace in the other direction, with room for ACKs and requests. */
const CAP_SHARE = 0.8;
/** Samples without a received byte after which the download counts as over and the cap is lifted. */
const IDLE_SAMPLES = 3;

/**
 * Keeps this peer's uploads below its uplink while they slow its own download. A downloader that
 * others pull from fills its uplink, and its ACKs and chunk requests then wait behind its uploads
 * in the link's queue: in a flash crowd of 12 (each link 30 Mbit/s with a deep queue, as shaped
 * in the bench) such a player uploaded at 30 and received 15-20 Mbit/s for most of the run, and
 * finished 8-10 s after the others. BitTorrent clients answer this with a delay-based transport
 * (uTP's LEDBAT); Node's TCP sockets offer no such control, so the guard works on rates.
 *
 * Once per tick it samples the bytes sent and received. While something is being received, it
 * uploads more than it receives, and its download runs below DOWNLOAD_DROP of its best rate, the
 * uploads are capped at CAP_SHARE of that best rate (links are symmetric on a LAN) until the
 * download ends. Nothing happens before the download has reached KNOWN_DOWNLOAD of the upload
 * rate: early in a crowd a player passes the seed's chunks on far faster than it receives, and
 * capping it then would slow the whole room. A peer that only uploads is never capped, nor one
 * whose download the player capped (its rate then tells nothing of the link).
 */
export class UplinkGuard {
  private readonly tickMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;
  private lastSent = 0;
  private lastReceived = 0;
  private upRate = 0;
  private downRate = 0;
  private upPeak = 0;
  private downPeak = 0;
  private idleSamples = 0;
  private capped = 0;

  constructor(private readonly options: UplinkGuardOptions) {
    this.tickMs = options.tickMs ?? 1_000;
    this.now = options.now ?? (() => performance.now());
    this.restart();
  }

  /** The cap in force (bytes per second), 0 when none. */
  get capBytesPerSec(): number {
    return this.capped;
  }

  start(): void {
    if (this.timer) return;
    this.restart();
    this.timer = setInterval(() => this.sample(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.lift();
  }

  /** Takes one sample (the timer calls this every tickMs). */
  sample(): void {
    const at = this.now();
    const seconds = (at - this.lastAt) / 1000;
    if (seconds <= 0) return;
    const sent = this.options.sent();
    const received = this.options.received();
    const up = (sent - this.lastSent) / seconds;
    const down = (received - this.lastReceived) / seconds;
    this.lastAt = at;
    this.lastSent = sent;
    this.lastReceived = received;
    this.upRate += SMOOTHING * (up - this.upRate);
    this.downRate += SMOOTHING * (down - this.downRate);
    this.upPeak = Math.max(this.upPeak, this.upRate);
    this.downPeak = Math.max(this.downPeak, this.downRate);
    this.idleSamples = down > 0 ? 0 : this.idleSamples + 1;
    if (this.capped > 0) {
      if (this.idleSamples >= IDLE_SAMPLES) this.lift();
      return;
    }
    const strained = !this.options.downloadCapped?.() && down > 0 && this.upRate > this.downRate && this.downRate < DOWNLOAD_DROP * this.downPeak && this.downPeak >= KNOWN_DOWNLOAD * this.upPeak;
    if (!strained) return;
    this.capped = Math.max(1, Math.floor(CAP_SHARE * this.downPeak));
    this.options.cap(this.capped);
  }

  private restart(): void {
    this.lastAt = this.now();
    this.lastSent = this.options.sent();
    this.lastReceived = this.options.received();
  }

  private lift(): void {
    if (this.capped === 0) return;
    this.capped = 0;
    this.options.cap(0);
  }
}
