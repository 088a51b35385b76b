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

  constructor(settings: BandwidthSettings = { downloadBytesPerSec: 0, uploadBytesPerSec: 0 }, now?: () => number) {
    this.download = new RateLimiter({ bytesPerSec: settings.downloadBytesPerSec, ...(now ? { now } : {}) });
    this.upload = new RateLimiter({ bytesPerSec: settings.uploadBytesPerSec, ...(now ? { now } : {}) });
  }

  apply(settings: Partial<BandwidthSettings>): void {
    if (settings.downloadBytesPerSec !== undefined) this.download.setRate(settings.downloadBytesPerSec);
    if (settings.uploadBytesPerSec !== undefined) this.upload.setRate(settings.uploadBytesPerSec);
  }
}
