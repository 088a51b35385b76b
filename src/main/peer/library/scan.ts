import type { Dirent } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { LocalGameState } from '../../../shared/model';
import { parseVersionIni } from '../../../shared/version';
import { listServedFiles } from './served-files';

/**
 * The on-disk rules of a game root (upstream design; keep exact):
 *   downloaded ⇔ a REGULAR root-level `version.ini` exists (a directory or symlink does not count);
 *   installed  ⇔ `local/` is a directory (a file or symlink named local does not count).
 * Availability: downloaded → Ready (servable); installed only → LocalOnly; else None.
 */
export interface ScannedGame extends Omit<LocalGameState, 'installedVersion'> {
  /** Bytes of the files that would be served (see listServedFiles); 0 when not downloaded. */
  sizeBytes: number;
  fileCount: number;
}

/** A version.ini is a few lines; reading a bounded prefix keeps a bogus huge file harmless. */
const VERSION_INI_MAX_BYTES = 64 * 1024;

/** Scans one game root; null when `<gameDir>/<gameId>` is not a real directory. */
export async function scanGame(gameDir: string, gameId: string): Promise<ScannedGame | null> {
  const root = path.join(gameDir, gameId);
  const rootStats = await lstat(root).catch(() => null);
  if (!rootStats?.isDirectory()) return null;
  const [sentinel, local] = await Promise.all([lstat(path.join(root, 'version.ini')).catch(() => null), lstat(path.join(root, 'local')).catch(() => null)]);
  const downloaded = sentinel?.isFile() ?? false;
  const installed = local?.isDirectory() ?? false;
  const version = downloaded ? parseVersionIni(await readVersionIni(path.join(root, 'version.ini'))) : null;
  const served = downloaded ? await listServedFiles(root) : [];
  return {
    id: gameId,
    downloaded,
    installed,
    version,
    sizeBytes: served.reduce((sum, file) => sum + file.size, 0),
    fileCount: served.length,
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

/** Unreadable (permissions, vanished between lstat and open) reads as empty: version ''. */
async function readVersionIni(file: string): Promise<string> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const buffer = Buffer.alloc(VERSION_INI_MAX_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } catch {
    return '';
  } finally {
    await handle.close();
  }
}
