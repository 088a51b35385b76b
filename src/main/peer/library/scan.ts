import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LocalGameState } from '../../../shared/model';
import { parseVersionIni } from '../../../shared/version';
import { isReservedRootEntry } from '../fs/safe-path';

/**
 * The on-disk rules of a game root (upstream design; keep exact):
 *   downloaded ⇔ a REGULAR root-level `version.ini` exists (a directory or symlink does not count);
 *   installed  ⇔ `local/` is a directory (a file or symlink named local does not count).
 * Availability: downloaded → Ready (servable); installed only → LocalOnly; else None.
 */
export interface ScannedGame extends Omit<LocalGameState, 'installedVersion'> {
  /** Bytes of the root's regular files other than local/ and launcher entries (what would be served). */
  sizeBytes: number;
  fileCount: number;
}

export async function scanGame(gameDir: string, gameId: string): Promise<ScannedGame | null> {
  const root = path.join(gameDir, gameId);
  const rootStats = await lstat(root).catch(() => null);
  if (!rootStats?.isDirectory()) return null;
  const [sentinel, local] = await Promise.all([lstat(path.join(root, 'version.ini')).catch(() => null), lstat(path.join(root, 'local')).catch(() => null)]);
  const downloaded = sentinel?.isFile() ?? false;
  const installed = local?.isDirectory() ?? false;
  const version = downloaded ? parseVersionIni(await readFile(path.join(root, 'version.ini'), 'utf8').catch(() => '')) : null;
  const payload = downloaded ? await rootPayload(root) : { size: 0, count: 0 };
  return {
    id: gameId,
    downloaded,
    installed,
    version,
    sizeBytes: payload.size,
    fileCount: payload.count,
    availability: downloaded ? 'Ready' : installed ? 'LocalOnly' : 'None',
  };
}

/** Game roots: direct child folders of the game directory whose name is a catalog id. */
export async function listGameRoots(gameDir: string, isCatalogId: (id: string) => boolean): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(gameDir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((entry) => entry.isDirectory() && isCatalogId(entry.name)).map((entry) => entry.name).sort();
}

/** Regular files in the root, recursively, skipping local/ and launcher entries: what is served. */
async function rootPayload(root: string): Promise<{ size: number; count: number }> {
  let size = 0;
  let count = 0;
  const walk = async (dir: string, top: boolean): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
    for (const entry of entries) {
      if (top && isReservedRootEntry(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, false);
      else if (entry.isFile()) {
        size += (await lstat(full).catch(() => null))?.size ?? 0;
        count++;
      }
    }
  };
  await walk(root, true);
  return { size, count };
}
