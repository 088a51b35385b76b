import type { FileHandle } from 'node:fs/promises';
import { constants, open } from 'node:fs/promises';

// Read-write, create if missing, and never O_TRUNC: other chunks of the same file may already be there.
const OPEN_FLAGS = constants.O_RDWR | constants.O_CREAT;

interface Entry {
  handle: FileHandle;
  users: number;
}

/**
 * Keeps a bounded number of payload files open for positional writes, so a game of thousands
 * of files neither reopens a file per piece nor runs out of descriptors. Only idle handles are
 * closed to make room, in least-recently-used order (Map keeps insertion order).
 */
export class FileHandleCache {
  private readonly entries = new Map<string, Entry>();
  private readonly opening = new Map<string, Promise<Entry>>();

  constructor(private readonly maxOpen = 64) {}

  /** Runs `use` with an open handle of `file`; the handle stays open for later calls. */
  async with<T>(file: string, use: (handle: FileHandle) => Promise<T>): Promise<T> {
    const entry = await this.acquire(file);
    entry.users += 1;
    try {
      return await use(entry.handle);
    } finally {
      entry.users -= 1;
      await this.evictIdle();
    }
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.opening.values()]);
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(entries.map((entry) => entry.handle.close()));
  }

  private async acquire(file: string): Promise<Entry> {
    const existing = this.entries.get(file);
    if (existing) {
      this.entries.delete(file);
      this.entries.set(file, existing);
      return existing;
    }
    let pending = this.opening.get(file);
    if (!pending) {
      pending = open(file, OPEN_FLAGS, 0o666).then((handle) => {
        const entry = { handle, users: 0 };
        this.entries.set(file, entry);
        return entry;
      });
      this.opening.set(file, pending);
      pending.then(
        () => this.opening.delete(file),
        () => this.opening.delete(file),
      );
    }
    return pending;
  }

  private async evictIdle(): Promise<void> {
    if (this.entries.size <= this.maxOpen) return;
    const closing: Promise<void>[] = [];
    for (const [file, entry] of this.entries) {
      if (this.entries.size <= this.maxOpen) break;
      if (entry.users > 0) continue;
      this.entries.delete(file);
      closing.push(entry.handle.close());
    }
    await Promise.allSettled(closing);
  }
}
