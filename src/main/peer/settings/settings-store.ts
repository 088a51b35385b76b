import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultSettings, SETTINGS_SCHEMA_VERSION, type Settings } from '../../../shared/settings';
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

  async update(patch: Partial<Omit<Settings, 'schemaVersion'>>): Promise<Settings> {
    this.current = migrate({ ...this.current, ...patch }, this.current);
    if (this.timer) clearTimeout(this.timer);
    // A failed background save is retried by the next change or the final flush, which reports it.
    this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.debounceMs);
    return this.current;
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const snapshot = JSON.stringify(this.current, null, 2);
    this.saving = this.saving.catch(() => undefined).then(() => writeFileAtomic(this.file, snapshot));
    return this.saving;
  }
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
  };
}
