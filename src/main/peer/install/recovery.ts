import { readdir, rename } from 'node:fs/promises';
import { CATALOG_ID_PATTERN } from '../../../shared/catalog';
import { missingCase } from '../../../shared/errors';
import { syncDirectory } from '../fs/atomic-write';
import { hasOwnedMarker, isMissing, isRealDirectory, pathExists, removeIfEmpty, removeOwnedMarker, removeTree } from './fs-checks';
import { finishInstalled, finishUpdate, swapInNew } from './install-transaction';
import { clearIntent, readIntent } from './intent-store';
import type { InstallIntent } from './intent-store';
import { gamePaths } from './layout';
import type { GamePaths } from './layout';
import { finishUninstall } from './uninstall-transaction';
import type { TransactionContext } from './transaction-context';

/**
 * Startup recovery: for every game with a saved intent or a reserved directory, combine the
 * intent with what is on disk and finish or undo the interrupted transaction. A reserved
 * directory is deleted only when the intent or its `.lanspread_owned` marker proves it is ours;
 * a player's own `.local.backup` without a marker is never touched.
 */

export interface RecoveryAction {
  gameId: string;
  intent: InstallIntent['operation'] | null;
  phase: InstallIntent['phase'] | null;
  actions: string[];
}

export async function recoverAll(ctx: TransactionContext): Promise<RecoveryAction[]> {
  const ids = new Set<string>([...(await listIds(`${ctx.stateDir}/games`)), ...(await listIds(ctx.gameDir))]);
  const results: RecoveryAction[] = [];
  for (const gameId of [...ids].sort()) {
    const result = await recoverGame(ctx, gamePaths(ctx.gameDir, ctx.stateDir, gameId));
    if (result.actions.length > 0) results.push(result);
  }
  return results;
}

export async function recoverGame(ctx: TransactionContext, paths: GamePaths): Promise<RecoveryAction> {
  const intent = await readIntent(paths);
  const result: RecoveryAction = { gameId: paths.gameId, intent: intent?.operation ?? null, phase: intent?.phase ?? null, actions: [] };
  const log = (action: string) => result.actions.push(action);
  if (!intent) {
    await recoverWithoutIntent(paths, log);
    if (await pathExists(paths.intent)) {
      // Unreadable (e.g. a migrated legacy format): it proves nothing, and would block removal.
      await clearIntent(paths);
      log('discarded unreadable intent');
    }
    return result;
  }
  log(`intent ${intent.operation}/${intent.phase}`);
  switch (intent.operation) {
    case 'install':
      await recoverInstall(ctx, paths, intent, log);
      break;
    case 'update':
      await recoverUpdate(ctx, paths, intent, log);
      break;
    case 'uninstall':
      await recoverUninstall(ctx, paths, intent, log);
      break;
    default:
      // A new kind of operation must get its own recovery, not be skipped silently.
      missingCase(intent.operation);
  }
  await clearIntent(paths);
  return result;
}

/** Staging is ours if marked, or once the intent says we created and marked it. */
async function stagingIsOurs(paths: GamePaths, intent: InstallIntent | null): Promise<boolean> {
  if (await hasOwnedMarker(paths.installing)) return true;
  return intent !== null && intent.operation !== 'uninstall' && intent.phase !== 'preparing';
}

async function dropStaging(paths: GamePaths, intent: InstallIntent | null, log: (a: string) => void): Promise<void> {
  if (!(await isRealDirectory(paths.installing))) return;
  if (await stagingIsOurs(paths, intent)) {
    await removeTree(paths.installing);
    log('removed .local.installing');
  } else if (intent?.phase === 'preparing' && (await removeIfEmpty(paths.installing))) {
    // Created just before the crash, before its marker: empty, so nothing can be lost.
    log('removed empty .local.installing');
  } else {
    log('kept unmarked .local.installing');
  }
}

async function recoverInstall(ctx: TransactionContext, paths: GamePaths, intent: InstallIntent, log: (a: string) => void): Promise<void> {
  if (intent.phase === 'promoting') {
    // Extraction had finished: complete the rename rather than throw the work away.
    if (!(await isRealDirectory(paths.local)) && (await isRealDirectory(paths.installing))) {
      await rename(paths.installing, paths.local);
      await syncDirectory(paths.root);
      log('promoted .local.installing');
    }
    if (await isRealDirectory(paths.local)) {
      await finishInstalled(ctx, paths, intent.version);
      log('install completed');
      return;
    }
  }
  await dropStaging(paths, intent, log);
}

async function recoverUpdate(ctx: TransactionContext, paths: GamePaths, intent: InstallIntent, log: (a: string) => void): Promise<void> {
  switch (intent.phase) {
    case 'swapping':
      await swapInNew(ctx, paths, intent.version);
      await finishUpdate(ctx, paths, intent.version);
      log('update completed');
      return;
    case 'cleanup':
      await finishUpdate(ctx, paths, intent.version);
      log('update completed');
      return;
    default:
      // Extraction did not finish: the old local/ was never touched.
      await dropStaging(paths, intent, log);
      await restoreOrDropBackup(paths, log);
  }
}

async function recoverUninstall(ctx: TransactionContext, paths: GamePaths, intent: InstallIntent, log: (a: string) => void): Promise<void> {
  const renamed = !(await isRealDirectory(paths.local)) && (await isRealDirectory(paths.backup));
  if (intent.phase === 'deleting' || (renamed && (await hasOwnedMarker(paths.backup)))) {
    await finishUninstall(ctx, paths);
    log('uninstall completed');
    return;
  }
  // The rename had not happened: the game stays installed.
  await removeOwnedMarker(paths.local);
  log('uninstall rolled back');
}

async function recoverWithoutIntent(paths: GamePaths, log: (a: string) => void): Promise<void> {
  await dropStaging(paths, null, log);
  await restoreOrDropBackup(paths, log);
  if ((await isRealDirectory(paths.local)) && (await hasOwnedMarker(paths.local))) {
    await removeOwnedMarker(paths.local);
    log('removed stray marker from local');
  }
}

/** A marked backup is ours: put it back if local/ is gone, otherwise delete it. */
async function restoreOrDropBackup(paths: GamePaths, log: (a: string) => void): Promise<void> {
  if (!(await isRealDirectory(paths.backup))) return;
  if (!(await hasOwnedMarker(paths.backup))) {
    log('kept unmarked .local.backup');
    return;
  }
  if (await isRealDirectory(paths.local)) {
    await removeTree(paths.backup);
    log('removed .local.backup');
  } else {
    await rename(paths.backup, paths.local);
    await syncDirectory(paths.root);
    await removeOwnedMarker(paths.local);
    log('restored .local.backup to local');
  }
}

async function listIds(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && CATALOG_ID_PATTERN.test(e.name)).map((e) => e.name);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}
