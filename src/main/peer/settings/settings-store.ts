import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultSettings, MAX_CONCURRENT_DOWNLOADS, SETTINGS_SCHEMA_VERSION, type Settings } from '../../../shared/settings';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import { writeFileAtomic } from '../fs/atomic-write';
import type { SettingsAccess } from '../launcher/launcher-backend';

const FILE_NAME = 'settings.json';

/**
 * Persisted settings in the state directory: JSON with a schema version, migrated on load,
 * saved atomically and debounced. Unknown or invalid fields fall back to defaults rather than
 * stopping the launcher from starting.
 */
export class SettingsStore implements SettingsAccess {
  private timer: NodeJS.Timeout | null = null;
  private saving: Promise<void> = Promise.resolve();
  /** The debounced save every update() of the current window waits for. */
  private window: Deferred | null = null;

  private constructor(
    private readonly file: string,
    private current: Settings,
    private readonly debounceMs: number,
  ) {}

  static async open(stateDir: string, options: { displayName?: string; debounceMs?: number } = {}): Promise<SettingsStore> {
    const file = path.join(stateDir, FILE_NAME);
    const defaults = defaultSettings(options.displayName);
    let loaded: Settings = defaults;
    try {
      loaded = migrate(JSON.parse(await readFile(file, 'utf8')), defaults);
    } catch {
      // First start or unreadable: defaults.
    }
    return new SettingsStore(file, loaded, options.debounceMs ?? 250);
  }

  get(): Settings {
    return this.current;
  }

  /**
   * Applies `patch` at once and resolves once it is on disk. Saves are debounced (several quick
   * changes write once), and every update of a window waits for that one save: if it fails, each
   * caller gets a coded error the UI can show, instead of believing its change was kept.
   */
  async update(patch: Partial<Omit<Settings, 'schemaVersion'>>): Promise<Settings> {
    this.current = migrate({ ...this.current, ...patch }, this.current);
    if (this.timer) clearTimeout(this.timer);
    const window = (this.window ??= deferred());
    this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.debounceMs);
    await window.promise;
    return this.current;
  }

  /** Applies `patch` and saves at once, without the debounce (start-up, where nothing else batches). */
  async updateNow(patch: Partial<Omit<Settings, 'schemaVersion'>>): Promise<Settings> {
    this.current = migrate({ ...this.current, ...patch }, this.current);
    await this.flush();
    return this.current;
  }

  /** Saves now (also what the debounce timer runs); settles the updates waiting in the window. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const window = this.window;
    this.window = null;
    const snapshot = JSON.stringify(this.current, null, 2);
    this.saving = this.saving
      .catch(() => undefined)
      .then(() => writeFileAtomic(this.file, snapshot))
      .catch((error: unknown) => {
        // The shared mapping gives the code (ENOSPC and EDQUOT are DISK_FULL); the message says what failed.
        const { code } = toLanspreadError(error);
        throw new LanspreadError(code, `Settings could not be saved to ${this.file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      });
    this.saving.then(
      () => window?.resolve(),
      (error: unknown) => window?.reject(error),
    );
    return this.saving;
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Brings any stored shape to the current schema, field by field. */
function migrate(raw: unknown, fallback: Settings): Settings {
  const value = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const num = (key: keyof Settings) => (typeof value[key] === 'number' && (value[key] as number) >= 0 ? (value[key] as number) : (fallback[key] as number));
  return {
    schemaVersion: SETTINGS_SCHEMA_VERSION,
    gameDir: typeof value.gameDir === 'string' ? value.gameDir : value.gameDir === null ? null : fallback.gameDir,
    displayName: typeof value.displayName === 'string' && value.displayName.trim() !== '' ? value.displayName.slice(0, 64) : fallback.displayName,
    lowDiskDefault: typeof value.lowDiskDefault === 'boolean' ? value.lowDiskDefault : fallback.lowDiskDefault,
    downloadLimitBytesPerSec: num('downloadLimitBytesPerSec'),
    uploadLimitBytesPerSec: num('uploadLimitBytesPerSec'),
    manualPeers: Array.isArray(value.manualPeers) ? value.manualPeers.filter((p): p is string => typeof p === 'string') : fallback.manualPeers,
    maxConcurrentDownloads: validConcurrency(value.maxConcurrentDownloads) ? value.maxConcurrentDownloads : fallback.maxConcurrentDownloads,
  };
}

function validConcurrency(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_CONCURRENT_DOWNLOADS;
}
