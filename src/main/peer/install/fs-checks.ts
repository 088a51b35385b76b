import { lstat, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory } from '../fs/atomic-write';
import { OWNED_MARKER } from './layout';

/** Small filesystem questions the transactions ask; symlinks never count as ours. */

export async function isRealDirectory(target: string): Promise<boolean> {
  try {
    return (await lstat(target)).isDirectory();
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

export async function isRegularFile(target: string): Promise<boolean> {
  try {
    return (await lstat(target)).isFile();
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

export async function pathExists(target: string): Promise<boolean> {
  try {
    await lstat(target);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

export function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The marker proves a reserved directory is ours: a regular file, not a link. */
export async function hasOwnedMarker(dir: string): Promise<boolean> {
  return isRegularFile(path.join(dir, OWNED_MARKER));
}

export async function writeOwnedMarker(dir: string, info: { gameId: string; operation: string }): Promise<void> {
  await writeFile(path.join(dir, OWNED_MARKER), `${JSON.stringify({ ...info, createdAt: new Date().toISOString() })}\n`);
  await syncDirectory(dir);
}

export async function removeOwnedMarker(dir: string): Promise<void> {
  await rm(path.join(dir, OWNED_MARKER), { force: true });
}

/** Deletes a directory tree; the caller has already proven it is ours. */
export async function removeTree(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await syncDirectory(path.dirname(dir));
}

/** Removes a directory only if it is empty (an unproven leftover we may have just created). */
export async function removeIfEmpty(dir: string): Promise<boolean> {
  try {
    if ((await readdir(dir)).length > 0) return false;
    await rmdir(dir);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}
