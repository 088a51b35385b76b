import path from 'node:path';
import { CATALOG_ID_PATTERN } from '../../../shared/catalog';
import { LanspreadError } from '../../../shared/errors';

/** Names inside a game root and the state directory that the install transactions use. */

export const LOCAL_DIR = 'local';
export const INSTALLING_DIR = '.local.installing';
export const BACKUP_DIR = '.local.backup';
export const OWNED_MARKER = '.lanspread_owned';
export const VERSION_INI = 'version.ini';

export interface GamePaths {
  gameId: string;
  root: string;
  local: string;
  installing: string;
  backup: string;
  versionIni: string;
  stateGameDir: string;
  intent: string;
  installed: string;
}

export function assertGameId(gameId: string): void {
  if (typeof gameId !== 'string' || !CATALOG_ID_PATTERN.test(gameId)) {
    throw new LanspreadError('NOT_IN_CATALOG', `Not a valid game id: ${JSON.stringify(String(gameId).slice(0, 80))}`);
  }
}

export function gamePaths(gameDir: string, stateDir: string, gameId: string): GamePaths {
  assertGameId(gameId);
  const root = path.join(gameDir, gameId);
  const stateGameDir = path.join(stateDir, 'games', gameId);
  return {
    gameId,
    root,
    local: path.join(root, LOCAL_DIR),
    installing: path.join(root, INSTALLING_DIR),
    backup: path.join(root, BACKUP_DIR),
    versionIni: path.join(root, VERSION_INI),
    stateGameDir,
    intent: path.join(stateGameDir, 'install_intent.json'),
    installed: path.join(stateGameDir, 'installed.json'),
  };
}
