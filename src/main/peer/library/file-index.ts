import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write';
import { CHUNK_HASH_PATTERN } from '../protocol/manifest-id';

/**
 * The lightweight library index: per file of each game root, the size, mtime and chunk hashes
 * (SHA-256) last computed, so an unchanged file is never read again (a 50 GiB library rescans in
 * milliseconds). Lives in the state directory; a missing, corrupt or older file starts empty.
 */

// 2: chunk SHA-256s replaced CRC32s; an index of schema 1 starts empty (every file is hashed again once).
const SCHEMA_VERSION = 2;
const FILE_NAME = 'library-index.json';

interface IndexedFile {
  size: number;
  mtimeMs: number;
  chunkSize: number;
  chunkHashes: string[];
}

interface IndexFile {
  schemaVersion: number;
  games: Record<string, Record<string, IndexedFile>>;
}

export interface FileHasher {
  hashFile(path: string, chunkSize: number): Promise<string[]>;
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

  /** Size and chunk hashes of a file, from the index when size, mtime and chunk size are unchanged. */
  async chunkHashes(gameId: string, relativePath: string, absolutePath: string, chunkSize: number): Promise<{ size: number; chunkHashes: string[] }> {
    const stats = await lstat(absolutePath);
    const cached = this.games.get(gameId)?.get(relativePath);
    if (cached && cached.size === stats.size && cached.mtimeMs === stats.mtimeMs && cached.chunkSize === chunkSize) {
      return { size: cached.size, chunkHashes: cached.chunkHashes };
    }
    const chunkHashes = await this.hasher.hashFile(absolutePath, chunkSize);
    this.remember(gameId, relativePath, { size: stats.size, mtimeMs: stats.mtimeMs, chunkSize, chunkHashes });
    return { size: stats.size, chunkHashes };
  }

  /**
   * Records hashes already known to be right for a file as it is on disk now: a download that
   * just verified every chunk of it hands them over, so the file is never read again to share it.
   */
  async adopt(gameId: string, relativePath: string, absolutePath: string, chunkSize: number, chunkHashes: string[]): Promise<void> {
    const stats = await lstat(absolutePath);
    if (Math.ceil(stats.size / chunkSize) !== chunkHashes.length) return;
    this.remember(gameId, relativePath, { size: stats.size, mtimeMs: stats.mtimeMs, chunkSize, chunkHashes });
  }

  private remember(gameId: string, relativePath: string, entry: IndexedFile): void {
    let files = this.games.get(gameId);
    if (!files) {
      files = new Map();
      this.games.set(gameId, files);
    }
    files.set(relativePath, entry);
    this.dirty = true;
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
    Array.isArray(entry.chunkHashes) &&
    entry.chunkHashes.length === Math.ceil((entry.size as number) / (entry.chunkSize as number)) &&
    entry.chunkHashes.every((hash) => typeof hash === 'string' && CHUNK_HASH_PATTERN.test(hash))
  );
}
