import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { isReservedRootEntry, splitRelativePath } from '../fs/safe-path';

export interface ServedFile {
  /** Relative to the game root, '/'-separated. */
  path: string;
  size: number;
}

/**
 * What a peer serves of one game root: every regular file, recursively, except local/, the
 * launcher's reserved entries (.local.installing/, .local.backup/, .version.ini.tmp,
 * .version.ini.discarded, .lanspread*), symlinks (never followed) and anything that is not a
 * regular file. version.ini is included. The scan's announced size and the manifest both come
 * from this one list, so a summary never promises bytes the manifest will not offer.
 * Sorted by path; a missing root is an empty list.
 */
export async function listServedFiles(root: string): Promise<ServedFile[]> {
  const out: ServedFile[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      // A folder that vanished mid-walk is simply not there any more; the root itself is too.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      if (prefix === '' && isReservedRootEntry(entry.name)) continue;
      const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, relative);
      else if (entry.isFile() && isPortablePath(relative)) {
        const stats = await lstat(full).catch(() => null);
        if (stats?.isFile()) out.push({ path: relative, size: stats.size });
      }
    }
  };
  await walk(root, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Names a downloader would refuse (backslash, ':', trailing dot...) are not offered at all. */
function isPortablePath(relative: string): boolean {
  try {
    splitRelativePath(relative);
    return true;
  } catch {
    return false;
  }
}
