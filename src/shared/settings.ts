/** Persisted launcher settings. Saved with a schema version; never holds progress or errors. */
export const SETTINGS_SCHEMA_VERSION = 1;

export interface Settings {
  schemaVersion: typeof SETTINGS_SCHEMA_VERSION;
  /** Folder holding one sub-folder per game; null until the player picks one. */
  gameDir: string | null;
  displayName: string;
  /** Pre-select the streamed (low-disk) install in the install choice. */
  lowDiskDefault: boolean;
  /** Bytes per second; 0 means unlimited. */
  downloadLimitBytesPerSec: number;
  uploadLimitBytesPerSec: number;
  /** `host:port` of peers to contact directly where multicast is blocked. */
  manualPeers: string[];
  /** How many queued downloads transfer at once (the unpack of a finished one runs beside them). */
  maxConcurrentDownloads: number;
}

export const MAX_CONCURRENT_DOWNLOADS = 8;

export function defaultSettings(displayName = 'Lanspread player'): Settings {
  return {
    schemaVersion: SETTINGS_SCHEMA_VERSION,
    gameDir: null,
    displayName,
    lowDiskDefault: false,
    downloadLimitBytesPerSec: 0,
    uploadLimitBytesPerSec: 0,
    manualPeers: [],
    maxConcurrentDownloads: 1,
  };
}
