import { lstat, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import type { GameDescription, ShareGameRequest } from '../../../shared/game-description';
import { SENTINEL_TMP } from '../download/sentinel-transaction';
import { SENTINEL_FILE } from '../download/types';
import { syncDirectory } from '../fs/atomic-write';
import { validateGameDescription, validateVersion } from '../protocol/game-description';
import type { GameDescriptions } from './game-descriptions';

export interface ShareGameDeps {
  descriptions: GameDescriptions;
  catalogIds: ReadonlySet<string>;
  gameDir: () => string | null;
  isBusy: (gameId: string) => boolean;
  /** The library looks at the game again and announces it with its description. */
  described: (gameId: string) => Promise<void>;
}

/**
 * Shares a game folder that is not in the bundled catalog: `<game folder>/<id>/` with its
 * archives, under a description kept in the state directory. The version comes from the folder's
 * own version.ini, or is given and written as version.ini (through .version.ini.tmp and a rename,
 * like every sentinel), which is what makes the folder count as downloaded and served.
 */
export async function shareGame(request: ShareGameRequest, deps: ShareGameDeps): Promise<GameDescription> {
  if (typeof request !== 'object' || request === null) throw new LanspreadError('DESCRIPTION_INVALID', 'Invalid game description: expected { description, version? }');
  const description = validateGameDescription(request.description, deps.catalogIds);
  const version = request.version === undefined || request.version === '' ? undefined : validateVersion(request.version);
  const gameDir = deps.gameDir();
  if (gameDir === null) throw new LanspreadError('GAME_DIR_NOT_SET', 'Choose a game folder first');
  const root = path.join(gameDir, description.id);
  const stats = await lstat(root).catch(() => null);
  if (!stats?.isDirectory()) {
    throw new LanspreadError('GAME_NOT_FOUND', `No folder ${root}: put the game's archives in a folder named by its id inside the game folder, then share it`);
  }
  if (deps.isBusy(description.id)) throw new LanspreadError('OPERATION_IN_PROGRESS', `Something is already happening with ${description.id}; share it when it is done`);
  if (version !== undefined) await writeSentinel(root, `[version]\nversion=${version}\n`);
  else if (!(await lstat(path.join(root, SENTINEL_FILE)).catch(() => null))?.isFile()) {
    throw new LanspreadError('NOT_DOWNLOADED', `${root} has no ${SENTINEL_FILE}: give the version to write into it`);
  }
  const stored = await deps.descriptions.share(description);
  await deps.described(stored.id);
  return stored;
}

/**
 * Stops sharing a game described here: the description goes, so the folder is no game of this
 * machine's any more (no longer listed, announced or served); nothing in the folder is touched.
 */
export async function unshareGame(gameId: string, deps: ShareGameDeps): Promise<void> {
  if (deps.isBusy(gameId)) throw new LanspreadError('OPERATION_IN_PROGRESS', `Something is already happening with ${gameId}; stop sharing it when it is done`);
  if (!(await deps.descriptions.forgetOwn(gameId))) throw new LanspreadError('GAME_NOT_FOUND', `This machine does not share ${gameId} by a description of its own`);
  await deps.described(gameId);
}

async function writeSentinel(root: string, text: string): Promise<void> {
  const tmp = path.join(root, SENTINEL_TMP);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path.join(root, SENTINEL_FILE));
  await syncDirectory(root);
}
