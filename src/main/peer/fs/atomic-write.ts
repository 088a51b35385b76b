import { open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PRIVATE_FILE_MODE } from './private-files';

/**
 * Writes a file so that a crash leaves either the old content or the new, never a mix:
 * temp file in the same directory, fsync, rename over the target, fsync the directory.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  // The mode applies from creation, so a secret is never readable by others, not even briefly.
  // Every caller writes launcher metadata into the state directory: owner-only by default.
  const handle = await open(temp, 'w', options.mode ?? PRIVATE_FILE_MODE);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    // A half-written temp file (a full disk) would only hold on to the space that ran out.
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

/** Makes a rename or create in `dir` durable. Not supported on Windows, where it is a no-op. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const SYNC_PARALLELISM = 4;

/**
 * Makes everything under `root` durable: each regular file's data, then each directory's
 * entries, deepest first, `root` last. Run before a staged tree is renamed into place, so a
 * power cut after the rename cannot leave files the kernel had not yet written.
 */
export async function syncTree(root: string): Promise<void> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  const files = entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
  const dirs = entries.filter((entry) => entry.isDirectory()).map((entry) => path.join(entry.parentPath, entry.name));
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const handle = await open(files[next++] as string, 'r');
      try {
        await handle.datasync();
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: SYNC_PARALLELISM }, worker));
  dirs.sort((a, b) => b.length - a.length);
  for (const dir of dirs) await syncDirectory(dir);
  await syncDirectory(root);
}
