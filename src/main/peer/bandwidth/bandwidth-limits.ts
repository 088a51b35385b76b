import { RateLimiter } from './rate-limiter';

export interface BandwidthSettings {
  /** Bytes per second; 0 = unlimited. */
  downloadBytesPerSec: number;
  uploadBytesPerSec: number;
}

/**
 * The runtime's two global limiters. They live as long as the runtime and are handed to the
 * data-lane client (download) and the request handler (upload); settings changes apply live.
 */
export class BandwidthLimits {
  readonly download: RateLimiter;
  readonly upload: RateLimiter;
  /** The player's upload setting, and the uplink guard's cap (UplinkGuard); the lower one holds. */
  private uploadSetting: number;
  private uploadGuard = 0;

  constructor(settings: BandwidthSettings = { downloadBytesPerSec: 0, uploadBytesPerSec: 0 }, now?: () => number) {
    this.download = new RateLimiter({ bytesPerSec: settings.downloadBytesPerSec, ...(now ? { now } : {}) });
    this.upload = new RateLimiter({ bytesPerSec: settings.uploadBytesPerSec, ...(now ? { now } : {}) });
    this.uploadSetting = settings.uploadBytesPerSec;
  }

  apply(settings: Partial<BandwidthSettings>): void {
    if (settings.downloadBytesPerSec !== undefined) this.download.setRate(settings.downloadBytesPerSec);
    if (settings.uploadBytesPerSec !== undefined) {
      this.uploadSetting = settings.uploadBytesPerSec;
      this.applyUpload();
    }
  }

  /** The uplink guard's cap on uploads, bytes per second (0 = none); a lower setting still holds. */
  guardUpload(bytesPerSec: number): void {
    this.uploadGuard = bytesPerSec;
    this.applyUpload();
  }

  private applyUpload(): void {
    const limits = [this.uploadSetting, this.uploadGuard].filter((rate) => rate > 0);
    const rate = limits.length > 0 ? Math.min(...limits) : 0;
    if (rate !== this.upload.bytesPerSec) this.upload.setRate(rate);
  }
}
