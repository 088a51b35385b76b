import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import { syncDirectory } from '../fs/atomic-write';
import { isReservedRootEntry } from '../fs/safe-path';
import type { DownloadPlan } from './download-plan';
import { FileHandleCache } from './file-handle-cache';
import { SENTINEL_FILE } from './types';
import { WritebackPacer } from './writeback-pacer';
import { WriteSlots } from './write-slots';

export const SENTINEL_TMP = '.version.ini.tmp';
export const SENTINEL_DISCARDED = '.version.ini.discarded';

/** version.ini is held in memory until the commit; anything larger is not a version file. */
const MAX_SENTINEL_BYTES = 1024 * 1024;

/**
 * The version-sentinel transaction of one download (upstream behaviour, kept exactly):
 * - begin: an old root version.ini is parked as .version.ini.discarded (the game stops
 *   counting as downloaded), payload files are pre-created without truncation, and sized with
 *   ftruncate only where their size differs;
 * - chunks are written at their offsets, never truncating, so sources can fill different
 *   regions of one file at once and a resumed download keeps what is already there; written
 *   bytes are flushed to the disk as the transfer goes (WritebackPacer);
 * - version.ini is buffered in memory, never written during the transfer;
 * - commit: root files the new manifest does not name (a previous version's archives) are
 *   removed, then version.ini goes through .version.ini.tmp + fsync + atomic rename + directory
 *   fsync, LAST, so "version.ini exists" always means "every other byte is in place";
 * - fail: sweeps .version.ini.tmp and .version.ini.discarded; the old sentinel is NOT restored
 *   (its archives may already be overwritten);
 * - discardPayload (cancel, disk full): removes the manifest's files as well; local/ and the
 *   install metadata are never touched.
 */
export class SentinelTransaction {
  private readonly handles = new FileHandleCache();
  private readonly slots = new WriteSlots();
  private readonly writeback = new WritebackPacer((file) => this.handles.with(file, (handle) => handle.datasync()));
  private readonly sentinelBuffer: Buffer;

  constructor(private readonly plan: DownloadPlan) {
    const size = plan.manifest.files[plan.sentinelIndex]?.size ?? 0;
    if (size > MAX_SENTINEL_BYTES) {
      throw new LanspreadError('MALFORMED_MESSAGE', `Invalid game manifest: ${SENTINEL_FILE} of ${size} bytes`);
    }
    this.sentinelBuffer = Buffer.alloc(size);
  }

  get root(): string {
    return this.plan.gameRoot;
  }

  /** The new version.ini as received so far (its chunks are only served once verified). */
  sentinelBytes(): Uint8Array {
    return this.sentinelBuffer;
  }

  isSentinel(fileIndex: number): boolean {
    return fileIndex === this.plan.sentinelIndex;
  }

  async begin(): Promise<void> {
    await guard(async () => {
      await mkdir(this.root, { recursive: true });
      await this.parkOldSentinel();
      for (let index = 0; index < this.plan.targets.length; index += 1) {
        if (this.isSentinel(index)) continue;
        await this.precreate(this.plan.targets[index] as string, this.plan.manifest.files[index]?.size ?? 0);
      }
    });
  }

  /** Writes bytes of a file at `position` (positional, never truncating); version.ini goes to memory. */
  async write(fileIndex: number, position: number, data: Uint8Array): Promise<void> {
    if (this.isSentinel(fileIndex)) {
      this.sentinelBuffer.set(data, position);
      return;
    }
    const target = this.plan.targets[fileIndex] as string;
    const write = () =>
      this.handles.with(target, async (handle) => {
        let done = 0;
        while (done < data.byteLength) {
          const { bytesWritten } = await handle.write(data, done, data.byteLength - done, position + done);
          done += bytesWritten;
        }
      });
    await guard(() => this.slots.run(target, write));
    this.writeback.wrote(target, data.byteLength);
  }

  async commit(): Promise<void> {
    await guard(async () => {
      await this.syncPayload();
      await this.handles.closeAll();
      await this.removeStaleRootFiles();
      const tmp = path.join(this.root, SENTINEL_TMP);
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(this.sentinelBuffer);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, path.join(this.root, SENTINEL_FILE));
      await rm(path.join(this.root, SENTINEL_DISCARDED), { force: true });
      await syncDirectory(this.root);
    });
  }

  /**
   * Payload bytes reach the disk before the sentinel may say "downloaded" (power loss, not just
   * crashes). commit() runs it; calling it earlier as well (the download manager does, while
   * the whole-file check reads) leaves the commit's own pass almost nothing to write.
   */
  async syncPayload(): Promise<void> {
    await guard(async () => {
      await this.writeback.idle();
      const flushFailure = this.writeback.takeError();
      if (flushFailure) throw flushFailure;
      for (const [fileIndex, target] of this.plan.targets.entries()) {
        if (this.isSentinel(fileIndex)) continue;
        // 'r+', not the cache's O_CREAT: a payload file that vanished is an error, not an empty file.
        const handle = await open(target, 'r+');
        try {
          await handle.datasync();
        } finally {
          await handle.close();
        }
      }
    });
  }

  /** A failed download: the payload stays (a later attempt resumes it); the sentinels go. */
  async fail(): Promise<void> {
    await this.writeback.idle();
    await this.handles.closeAll();
    await this.sweepSentinels();
  }

  /** Cancel or disk full: the payload goes too. */
  async discardPayload(): Promise<void> {
    await this.writeback.idle();
    await this.handles.closeAll();
    const dirs = new Set<string>();
    for (let index = 0; index < this.plan.targets.length; index += 1) {
      if (this.isSentinel(index)) continue;
      const target = this.plan.targets[index] as string;
      await rm(target, { force: true }).catch(() => undefined);
      for (let dir = path.dirname(target); dir.startsWith(this.root + path.sep); dir = path.dirname(dir)) dirs.add(dir);
    }
    // Deepest first; rmdir refuses non-empty folders, so nothing we did not create empty goes.
    const ordered = [...dirs].sort((a, b) => b.length - a.length);
    for (const dir of ordered) await rmdir(dir).catch(() => undefined);
    await this.sweepSentinels();
  }

  private async sweepSentinels(): Promise<void> {
    await rm(path.join(this.root, SENTINEL_TMP), { force: true }).catch(() => undefined);
    await rm(path.join(this.root, SENTINEL_DISCARDED), { force: true }).catch(() => undefined);
  }

  private async parkOldSentinel(): Promise<void> {
    const current = path.join(this.root, SENTINEL_FILE);
    const stats = await stat(current).catch(() => null);
    if (!stats?.isFile()) return;
    await rename(current, path.join(this.root, SENTINEL_DISCARDED));
    await syncDirectory(this.root);
  }

  private async precreate(target: string, size: number): Promise<void> {
    await mkdir(path.dirname(target), { recursive: true });
    await this.handles.with(target, async (handle) => {
      const current = await handle.stat();
      if (current.size !== size) await handle.truncate(size);
    });
  }

  private async removeStaleRootFiles(): Promise<void> {
    const keep = new Set(this.plan.manifest.files.map((file) => (file.path.split('/')[0] ?? '').toLowerCase()));
    const entries = await readdir(this.root, { withFileTypes: true });
    for (const entry of entries) {
      const lower = entry.name.toLowerCase();
      if (keep.has(lower) || isReservedRootEntry(entry.name) || lower === SENTINEL_FILE) continue;
      if (entry.isFile()) await rm(path.join(this.root, entry.name), { force: true });
    }
  }
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toLanspreadError(error);
  }
}
