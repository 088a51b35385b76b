import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import { formatBytes } from '../../../shared/units';

/**
 * Bytes an unprivileged process may still write on the file system holding `target` (the
 * nearest existing ancestor is asked, so a game root that does not exist yet works too).
 */
export async function freeBytes(target: string): Promise<number> {
  let dir = path.resolve(target);
  for (;;) {
    try {
      const stats = await statfs(dir);
      return Number(stats.bavail) * Number(stats.bsize);
    } catch (error) {
      const parent = path.dirname(dir);
      const code = (error as { code?: unknown } | null)?.code;
      if (parent === dir || (code !== 'ENOENT' && code !== 'ENOTDIR')) throw error;
      dir = parent;
    }
  }
}

/**
 * Refuses up front what cannot fit, instead of filling the disk and failing half-way. Both
 * numbers go into the message, so the player knows how much to free.
 */
export async function ensureFreeSpace(target: string, neededBytes: number, what: string): Promise<void> {
  const free = await freeBytes(target);
  if (neededBytes <= free) return;
  throw new LanspreadError('DISK_FULL', `Not enough disk space for ${what}: ${formatBytes(neededBytes)} needed, ${formatBytes(free)} free in ${target} (${neededBytes} bytes needed, ${free} bytes free)`);
}
