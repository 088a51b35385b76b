import { stat } from 'node:fs/promises';
import type { GameManifest } from '../../../shared/model';
import { buildDownloadPlan } from '../download/download-plan';
import { ensureFreeSpace } from '../fs/free-space';
import { joinInside } from '../fs/safe-path';

/**
 * Before a download starts: refuses with DISK_FULL (needed and free bytes) when the game cannot
 * fit. Payload files are pre-created sparse, so without this a full disk shows only half-way.
 *
 * Needed: the manifest's bytes not yet on disk (a resumed download already holds part of them;
 * blocks actually allocated count, not the sparse size), plus, when an install follows, the
 * archives' size again for `.local.installing/`. That is exact for stored archives and a lower
 * bound for compressed ones; the install checks the exact unpacked size before extracting.
 */
export async function ensureRoomForDownload(manifest: GameManifest, gameDir: string, options: { install: boolean }): Promise<void> {
  const plan = buildDownloadPlan(manifest, joinInside(gameDir, manifest.gameId));
  let missing = 0;
  for (const [index, target] of plan.targets.entries()) {
    const size = manifest.files[index]?.size ?? 0;
    const current = await stat(target).catch(() => null);
    missing += size - (current?.isFile() ? Math.min(size, allocatedBytes(current)) : 0);
  }
  const unpacked = options.install ? plan.totalBytes : 0;
  await ensureFreeSpace(plan.gameRoot, missing + unpacked, `${manifest.gameId} ${manifest.version}${options.install ? ' (download and install)' : ''}`);
}

/** Blocks in use; where the platform does not report them (Windows), the file's size. */
function allocatedBytes(stats: { size: number; blocks?: number }): number {
  return typeof stats.blocks === 'number' && Number.isFinite(stats.blocks) ? stats.blocks * 512 : stats.size;
}

/**
 * Beyond the bytes a streamed install announces: each entry can take a block more than its
 * bytes (a file ends mid-block, a directory takes one), and the file system needs a little
 * for itself. Small next to a game; enough that a stream that "fits" exactly does not fill the
 * disk to its last byte.
 */
const STREAM_MARGIN_BYTES = 1024 * 1024;
const BLOCK_PER_ENTRY_BYTES = 4096;

/**
 * When a stream's Begin arrives, before its first byte: refuses with DISK_FULL (needed and free
 * bytes) when the announced unpacked size, plus the margin, does not fit where it is staged.
 */
export async function ensureRoomForStream(stagingDir: string, announced: { totalBytes: number; entries: number }, what: string): Promise<void> {
  const needed = announced.totalBytes + announced.entries * BLOCK_PER_ENTRY_BYTES + STREAM_MARGIN_BYTES;
  await ensureFreeSpace(stagingDir, needed, what);
}
