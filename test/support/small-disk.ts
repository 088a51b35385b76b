import { spawnSync } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { freeBytes } from '../../src/main/peer/fs/free-space';

/**
 * A small real file system (tmpfs) for disk-full tests. Mounting needs root: without it the
 * caller skips with the printed reason.
 */
export async function mountSmallDisk(mountPoint: string, sizeMiB: number): Promise<{ unmount: () => void } | { skip: string }> {
  await mkdir(mountPoint, { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', mountPoint], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    return { skip: `cannot mount a ${sizeMiB} MiB tmpfs (${(mounted.stderr || mounted.error?.message || 'unknown').trim()}); needs root` };
  }
  return { unmount: () => void spawnSync('umount', ['-l', mountPoint]) };
}

/**
 * Fills the disk holding `file` until `leaveBytes` are free, or until it is full (a download
 * writing at the same time may take the last bytes first).
 */
export async function fillDisk(file: string, leaveBytes: number): Promise<void> {
  const piece = Buffer.alloc(1024 * 1024);
  const handle = await open(file, 'a');
  try {
    for (let left = (await freeBytes(file)) - leaveBytes; left > 0; left -= piece.byteLength) {
      await handle.write(piece, 0, Math.min(left, piece.byteLength));
    }
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}

/** Skips a test that needs a small disk, with the reason printed (a skip must say why). */
export function skipWithoutDisk(context: { skip: (reason: string) => void }, reason: string): void {
  console.warn(`SKIP disk-full test: ${reason}`);
  context.skip(reason);
}
