import { access, stat } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';

/**
 * The one check of a game folder, for every face (Settings in the UI, `serve --game-dir`):
 * an absolute path to an existing, writable folder that is not a file-system root. Resolves
 * with the normalised path; otherwise GAME_DIR_INVALID saying which rule failed.
 */
export async function checkGameDir(dir: unknown): Promise<string> {
  if (typeof dir !== 'string' || dir.trim() === '') throw new LanspreadError('GAME_DIR_INVALID', 'Choose a folder for your games');
  // A relative path would resolve against this process's working directory, which no face's
  // user sees ("../../.." became "/"); a file-system root is never a game folder.
  if (!path.isAbsolute(dir)) throw new LanspreadError('GAME_DIR_INVALID', `The game folder must be a full (absolute) path, not ${JSON.stringify(dir.slice(0, 200))}`);
  const resolved = path.resolve(dir);
  if (path.parse(resolved).root === resolved) throw new LanspreadError('GAME_DIR_INVALID', `The root of a file system (${resolved}) cannot be the game folder`);
  const stats = await stat(resolved).catch(() => null);
  if (!stats) throw new LanspreadError('GAME_DIR_INVALID', `Folder does not exist: ${resolved}`);
  if (!stats.isDirectory()) throw new LanspreadError('GAME_DIR_INVALID', `Not a folder: ${resolved}`);
  await access(resolved, fsConstants.W_OK).catch((error: unknown) => {
    throw new LanspreadError('GAME_DIR_INVALID', `Folder is not writable: ${resolved}`, { cause: error });
  });
  return resolved;
}
