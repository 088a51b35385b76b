import { lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import { syncDirectory } from '../fs/atomic-write';
import { isMissing, isRealDirectory, isRegularFile, pathExists } from './fs-checks';
import type { GamePaths } from './layout';

/**
 * Removes a downloaded (not installed) game root. Deliberately separate from uninstall and
 * deliberately narrow, because it deletes a whole folder: the id must be a catalog id whose root
 * is a direct child of the game directory, the game must not be installed or mid-transaction,
 * and the root must hold a regular root-level version.ini (so it really is a game root).
 */
export async function removeDownloadedGame(gameDir: string, paths: GamePaths, inCatalog: (id: string) => boolean): Promise<void> {
  if (!inCatalog(paths.gameId)) throw new LanspreadError('NOT_IN_CATALOG', `${paths.gameId} is not in the catalog`);
  if (path.dirname(paths.root) !== path.resolve(gameDir)) {
    throw new LanspreadError('PATH_OUTSIDE_ROOT', `${paths.gameId} is not a direct child of the game directory`);
  }
  let stats;
  try {
    stats = await lstat(paths.root);
  } catch (error) {
    if (isMissing(error)) throw new LanspreadError('NOT_DOWNLOADED', `${paths.gameId} is not downloaded`);
    throw error;
  }
  // A symlinked game root could point anywhere; never delete through it.
  if (!stats.isDirectory()) throw new LanspreadError('PATH_FORBIDDEN', `${paths.gameId} is not a plain folder`);
  if (await isRealDirectory(paths.local)) throw new LanspreadError('ALREADY_INSTALLED', `${paths.gameId} is installed; uninstall it first`);
  if ((await pathExists(paths.installing)) || (await pathExists(paths.backup))) {
    throw new LanspreadError('OPERATION_IN_PROGRESS', `${paths.gameId} has an unfinished install (.local.installing or .local.backup)`);
  }
  if (await pathExists(paths.intent)) throw new LanspreadError('OPERATION_IN_PROGRESS', `${paths.gameId} has an unfinished install transaction`);
  if (!(await isRegularFile(paths.versionIni))) {
    throw new LanspreadError('NOT_DOWNLOADED', `${paths.gameId} has no regular root-level version.ini; refusing to delete the folder`);
  }
  await rm(paths.root, { recursive: true, force: true });
  await syncDirectory(path.dirname(paths.root));
}
