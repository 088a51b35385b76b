import type { FileHandle } from 'node:fs/promises';
import { open, stat } from 'node:fs/promises';
import { LanspreadError } from '../../../shared/errors';
import { BufferPool } from '../util/buffer-pool';

/**
 * 256 KiB pieces (half a chunk of a game under 32 GiB: the second is read while the first is
 * sent). Up to 32 buffers are kept for the next request: two for each of the 8 upload slots and
 * as many again for reads beside them, so a busy peer allocates none. With 8 kept and 1 MiB pieces, half the pieces of a
 * crowd's uploads were fresh buffers, and V8's major collections for them took about 7 % of
 * the machine in a flash crowd of 8 (perf, `npm run bench swarm`; under 1 % with this pool).
 */
export const PIECE_BYTES = 256 * 1024;
const pool = new BufferPool(PIECE_BYTES, 32);

/** A served file as it was found just now: where it is, its size, and which file it is (device and inode). */
export interface CheckedFile {
  /** The path the file is kept open under (the requested path joined to its root). */
  key: string;
  size: number;
  dev: number;
  ino: number;
}

interface OpenFile {
  dev: number;
  ino: number;
  handle: FileHandle | null;
  opening: Promise<FileHandle> | null;
  users: number;
  lastUsed: number;
  /** Forgotten (replaced, or the reader closed): its handle closes as soon as no read uses it. */
  retired: boolean;
}

/** An open handle is closed once unused this long; what was checked is forgotten after FORGET_MS. */
const IDLE_CLOSE_MS = 2_000;
const FORGET_MS = 60_000;
const MAX_OPEN = 64;

/**
 * The files this peer serves, kept open between chunks. A crowd asks for the same few files
 * hundreds of times a second; resolving each path (realpath of the root and of the file,
 * lstat), then open, stat and close per chunk, took about 15 % of the main thread of a flash
 * crowd's seed (`--cpu-prof`). Now the path is checked in full once per file (the caller's `validate`),
 * and each later chunk costs one stat of the path and the read: the stat says whether the path
 * still leads to the very file that was checked (same device and inode). A file replaced
 * since (an update, a rename, a symlink swapped in) is a different inode and is checked again.
 *
 * Handles unused for IDLE_CLOSE_MS are closed, so an idle peer holds none (nothing blocks an
 * uninstall on Windows); at most MAX_OPEN stay open. `close()` closes all of them.
 */
export class ServedFileReader {
  private readonly files = new Map<string, OpenFile>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * Stats `key` and returns it as checked: at once when it is the file checked last time,
   * otherwise after `validate()` (which throws a coded error for a path that may not be
   * served, or returns the path it resolved to, which must be the same file).
   */
  async check(key: string, validate: () => Promise<string>): Promise<CheckedFile> {
    const found = await stat(key).catch(() => null);
    const known = this.files.get(key);
    if (found && known && known.dev === found.dev && known.ino === found.ino) return { key, size: found.size, dev: found.dev, ino: found.ino };
    const resolved = await validate();
    const checked = await stat(resolved).catch(() => null);
    if (!checked?.isFile() || (found && (found.dev !== checked.dev || found.ino !== checked.ino))) {
      throw new LanspreadError('FILE_NOT_FOUND', 'The file changed while it was checked');
    }
    // A check running beside this one may have recorded the same file meanwhile: one entry per file.
    const current = this.files.get(key);
    if (current && current.dev === checked.dev && current.ino === checked.ino) return { key, size: checked.size, dev: checked.dev, ino: checked.ino };
    if (current) void this.forget(key, current);
    this.files.set(key, { dev: checked.dev, ino: checked.ino, handle: null, opening: null, users: 0, lastUsed: performance.now(), retired: false });
    this.sweepLater();
    return { key, size: checked.size, dev: checked.dev, ino: checked.ino };
  }

  /**
   * Reads `length` bytes of a checked file from `offset` as pieces of at most PIECE_BYTES,
   * ending early only if the file is shorter (the sender checks the count). Two pooled buffers
   * take turns: the next piece is read while the consumer sends the current one; a range of
   * one piece takes one. Nothing is opened before the first piece is asked for.
   *
   * A yielded piece is valid only until the consumer asks for the next one, so the consumer
   * must be done with it by then (its socket write completed, not merely queued). That is what
   * makes the reuse possible: a seed serving a game otherwise allocates a fresh buffer per
   * piece, and the garbage collector's work for those gigabytes cost about a seventh of both
   * cores in a loopback transfer (perf, `npm run bench download`).
   */
  async *read(file: CheckedFile, offset: number, length: number): AsyncGenerator<Uint8Array, void, undefined> {
    const entry = this.files.get(file.key);
    if (this.closed || !entry || entry.dev !== file.dev || entry.ino !== file.ino) {
      throw new LanspreadError('FILE_NOT_FOUND', 'The file changed while it was served');
    }
    entry.users++;
    const buffers: Buffer[] = [];
    let reading: Promise<{ bytesRead: number; buffer: Buffer }> | null = null;
    try {
      const handle = await this.handleOf(file.key, entry);
      const end = offset + length;
      const readAt = (turn: number, position: number) => {
        const buffer = (buffers[turn] ??= pool.take());
        return handle.read(buffer, 0, Math.min(buffer.byteLength, end - position), position);
      };
      let position = offset;
      let turn = 0;
      reading = position < end ? readAt(turn, position) : null;
      while (reading) {
        const { bytesRead, buffer } = await reading;
        reading = null;
        if (bytesRead === 0) return;
        position += bytesRead;
        turn ^= 1;
        if (position < end) reading = readAt(turn, position);
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      // Stopped early: the read in flight still fills a buffer, so it must land before the buffer is reused.
      await reading?.catch(() => undefined);
      for (const buffer of buffers) pool.give(buffer);
      entry.users--;
      entry.lastUsed = performance.now();
      if (entry.retired && entry.users === 0) await this.closeHandle(entry);
      else this.sweepLater();
    }
  }

  /** Closes every handle; reads still running finish on theirs first. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.sweeper);
    this.sweeper = undefined;
    await Promise.allSettled([...this.files.entries()].map(([key, entry]) => this.forget(key, entry)));
  }

  /** Open files, for tests. */
  get openCount(): number {
    let count = 0;
    for (const entry of this.files.values()) if (entry.handle) count++;
    return count;
  }

  private async handleOf(key: string, entry: OpenFile): Promise<FileHandle> {
    if (entry.handle) return entry.handle;
    entry.opening ??= (async () => {
      const handle = await open(key, 'r');
      const opened = await handle.stat().catch(() => null);
      if (!opened || opened.dev !== entry.dev || opened.ino !== entry.ino) {
        await handle.close().catch(() => undefined);
        throw new LanspreadError('FILE_NOT_FOUND', 'The file changed while it was served');
      }
      return handle;
    })().finally(() => (entry.opening = null));
    const handle = await entry.opening;
    // Two reads may have opened at once: one handle is kept (a retired entry closes it after its last read).
    entry.handle ??= handle;
    if (entry.handle !== handle) void handle.close().catch(() => undefined);
    this.trimOpen();
    return entry.handle;
  }

  private sweepLater(): void {
    if (this.sweeper || this.closed) return;
    this.sweeper = setTimeout(() => {
      this.sweeper = undefined;
      this.sweep();
    }, IDLE_CLOSE_MS);
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = performance.now();
    for (const [key, entry] of this.files) {
      if (entry.users > 0) continue;
      if (now - entry.lastUsed >= FORGET_MS) void this.forget(key, entry);
      else if (now - entry.lastUsed >= IDLE_CLOSE_MS) void this.closeHandle(entry);
    }
    if (this.files.size > 0) this.sweepLater();
  }

  /** Past MAX_OPEN, the least recently used unused handles close. */
  private trimOpen(): void {
    if (this.openCount <= MAX_OPEN) return;
    const idle = [...this.files.values()].filter((entry) => entry.handle && entry.users === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const entry of idle.slice(0, this.openCount - MAX_OPEN)) void this.closeHandle(entry);
  }

  private async forget(key: string, entry: OpenFile): Promise<void> {
    if (this.files.get(key) === entry) this.files.delete(key);
    entry.retired = true;
    if (entry.users === 0) await this.closeHandle(entry);
  }

  private async closeHandle(entry: OpenFile): Promise<void> {
    const handle = entry.handle;
    entry.handle = null;
    await handle?.close().catch(() => undefined);
  }
}
