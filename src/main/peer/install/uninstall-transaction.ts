import { rename } from 'node:fs/promises';
import { LanspreadError } from '../../../shared/errors';
import { syncDirectory } from '../fs/atomic-write';
import { hasOwnedMarker, isRealDirectory, removeOwnedMarker, removeTree, writeOwnedMarker } from './fs-checks';
import { clearInstalledRecord, clearIntent, writeIntent } from './intent-store';
import type { GamePaths } from './layout';
import type { TransactionContext } from './transaction-context';

/**
 * Uninstall proves ownership before deleting: local/ is marked and renamed to .local.backup/,
 * so a crash mid-delete leaves a reserved folder that the intent (or marker) proves is ours,
 * never a half-deleted local/ that looks installed.
 */
export async function uninstallGame(ctx: TransactionContext, paths: GamePaths): Promise<void> {
  if (!(await isRealDirectory(paths.local))) throw new LanspreadError('NOT_INSTALLED', `${paths.gameId} is not installed`);
  if (await isRealDirectory(paths.backup)) {
    if (!(await hasOwnedMarker(paths.backup))) {
      throw new LanspreadError('PATH_FORBIDDEN', 'A folder .local.backup that Lanspread did not create is in the game folder; move it away first');
    }
    await removeTree(paths.backup);
  }
  await writeIntent(paths, 'uninstall', 'renaming', null);
  await ctx.checkpoint('intent-renaming');
  try {
    await writeOwnedMarker(paths.local, { gameId: paths.gameId, operation: 'uninstall' });
    await ctx.checkpoint('uninstall-marked');
    await rename(paths.local, paths.backup);
    await syncDirectory(paths.root);
    await ctx.checkpoint('uninstall-renamed');
  } catch (error) {
    await removeOwnedMarker(paths.local);
    await clearIntent(paths);
    throw error;
  }
  await finishUninstall(ctx, paths);
}

export async function finishUninstall(ctx: TransactionContext, paths: GamePaths): Promise<void> {
  await writeIntent(paths, 'uninstall', 'deleting', null);
  await ctx.checkpoint('intent-deleting');
  await removeTree(paths.backup);
  await ctx.checkpoint('uninstall-deleted');
  await clearInstalledRecord(paths);
  await ctx.checkpoint('installed-cleared');
  await clearIntent(paths);
  await ctx.checkpoint('intent-cleared');
}
