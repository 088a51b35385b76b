import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write';

/**
 * The lightweight library index: per file of each game root, the size, mtime and chunk CRCs
 * last computed, so an unchanged file is never read again (a 50 GiB library rescans in
 * milliseconds). Lives in the state directory; a missing, corrupt or older file starts empty.
 */

const SCHEMA_VERSION = 1;
const FILE_NAME = 'library-index.json';

interface IndexedFile {
  size: number;
  mtimeMs: number;
  chunkSize: number;
  chunkCrcs: number[];
}

interface IndexFile {
  schemaVersion: number;
  games: Record<string, Record<string, IndexedFile>>;
}

export interface FileHasher {
  hashFile(path: string, chunkSize: number): Promise<number[]>;
}

export class FileIndex {
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly hasher: FileHasher,
    private readonly games: Map<string, Map<string, IndexedFile>>,
  ) {}

  static async open(stateDir: string, hasher: FileHasher): Promise<FileIndex> {
    const file = path.join(stateDir, FILE_NAME);
    const games = new Map<string, Map<string, IndexedFile>>();
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as IndexFile;
      if (parsed.schemaVersion === SCHEMA_VERSION && typeof parsed.games === 'object' && parsed.games !== null) {
        for (const [gameId, files] of Object.entries(parsed.games)) {
          if (typeof files !== 'object' || files === null) continue;
          // Entries that do not look right are dropped one by one: they are re-hashed, never trusted.
          const valid = Object.entries(files).filter(([, entry]) => isIndexedFile(entry));
          if (valid.length > 0) games.set(gameId, new Map(valid));
        }
      }
    } catch {
      // Missing or unreadable: the index is only a cache.
    }
    return new FileIndex(file, hasher, games);
  }

  /** Size and chunk CRCs of a file, from the index when size, mtime and chunk size are unchanged. */
  async chunkCrcs(gameId: string, relativePath: string, absolutePath: string, chunkSize: number): Promise<{ size: number; chunkCrcs: number[] }> {
    const stats = await lstat(absolutePath);
    const cached = this.games.get(gameId)?.get(relativePath);
    if (cached && cached.size === stats.size && cached.mtimeMs === stats.mtimeMs && cached.chunkSize === chunkSize) {
      return { size: cached.size, chunkCrcs: cached.chunkCrcs };
    }
    const chunkCrcs = await this.hasher.hashFile(absolutePath, chunkSize);
    let files = this.games.get(gameId);
    if (!files) {
      files = new Map();
      this.games.set(gameId, files);
    }
    files.set(relativePath, { size: stats.size, mtimeMs: stats.mtimeMs, chunkSize, chunkCrcs });
    this.dirty = true;
    return { size: stats.size, chunkCrcs };
  }

  /** Drops entries of files that are no longer part of a game root. */
  retain(gameId: string, relativePaths: ReadonlySet<string>): void {
    const files = this.games.get(gameId);
    if (!files) return;
    for (const key of files.keys()) {
      if (relativePaths.has(key)) continue;
      files.delete(key);
      this.dirty = true;
    }
  }

  forgetGame(gameId: string): void {
    if (this.games.delete(gameId)) this.dirty = true;
  }

  /** Writes the index if it changed; concurrent calls are serialised. */
  flush(): Promise<void> {
    // A failed save must not poison the chain: later flushes run, and retry what it lost.
    this.saving = this.saving.catch(() => undefined).then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const games: IndexFile['games'] = {};
      for (const [gameId, files] of this.games) games[gameId] = Object.fromEntries(files);
      await writeFileAtomic(this.file, JSON.stringify({ schemaVersion: SCHEMA_VERSION, games } satisfies IndexFile)).catch((error: unknown) => {
        this.dirty = true;
        throw error;
      });
    });
    return this.saving;
  }
}

function isIndexedFile(value: unknown): value is IndexedFile {
  const entry = value as Partial<IndexedFile> | null;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    Number.isSafeInteger(entry.size) &&
    typeof entry.mtimeMs === 'number' &&
    Number.isSafeInteger(entry.chunkSize) &&
    (entry.chunkSize as number) > 0 &&
    Array.isArray(entry.chunkCrcs) &&
    entry.chunkCrcs.length === Math.ceil((entry.size as number) / (entry.chunkSize as number)) &&
    entry.chunkCrcs.every((crc) => Number.isInteger(crc) && crc >= 0 && crc <= 0xffffffff)
  );
}
