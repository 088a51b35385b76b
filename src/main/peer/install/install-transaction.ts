import { mkdir, readFile, rename } from 'node:fs/promises';
import { LanspreadError } from '../../../shared/errors';
import { parseVersionIni } from '../../../shared/version';
import { syncDirectory, syncTree } from '../fs/atomic-write';
import { findArchiveSets } from '../unpack/archive-sets';
import type { UnpackResult } from '../unpack/unpacker';
import { hasOwnedMarker, isRealDirectory, isRegularFile, removeIfEmpty, removeOwnedMarker, removeTree, writeOwnedMarker } from './fs-checks';
import { clearIntent, writeInstalledRecord, writeIntent } from './intent-store';
import type { GamePaths } from './layout';
import type { TransactionContext } from './transaction-context';

/**
 * Install: extract into `.local.installing/` (marked `.lanspread_owned`), then rename it to
 * `local/`. Update: the same extraction, then old `local/` -> `.local.backup/`, new -> `local/`,
 * and the backup is deleted. Extracting before touching `local/` keeps the old version playable
 * during the extraction, and a failed extraction never touches it; a failed swap puts it back.
 */

export interface ExtractOptions {
  password?: string;
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

/**
 * Where the content of `.local.installing/` comes from: the game's downloaded archives (the
 * default), or a peer streaming the unpacked files (streamed install). `prepare` runs before
 * anything is written and says which version the content is.
 */
export interface StagingSource {
  /** Known up front for a stream (the version asked for); archives say it in prepare(). */
  version?: string;
  prepare(paths: GamePaths): Promise<PreparedStaging>;
}

export interface PreparedStaging {
  version: string;
  /** Fills the (marked, otherwise empty) staging directory. */
  fill(targetDir: string, options: ExtractOptions): Promise<UnpackResult>;
}

/** Extracts the root-level archive sets next to `version.ini`. */
export function archiveSource(ctx: TransactionContext): StagingSource {
  return {
    async prepare(paths) {
      const version = await readRootVersion(paths);
      const archives = await firstVolumes(paths);
      return {
        version,
        fill: (targetDir, options) => ctx.unpacker.unpack({ archives, targetDir, password: options.password, signal: options.signal, onProgress: options.onProgress }),
      };
    },
  };
}

export interface InstallOutcome {
  version: string | null;
  unpacked: UnpackResult;
}

export async function readRootVersion(paths: GamePaths): Promise<string> {
  if (!(await isRegularFile(paths.versionIni))) {
    throw new LanspreadError('NOT_DOWNLOADED', `${paths.gameId} is not downloaded (no version.ini)`);
  }
  // The version it names (as the library scan reads it), not the file's text: an INI-style
  // version.ini recorded whole never equals the scanned version, so an update looked pending forever.
  return parseVersionIni(await readFile(paths.versionIni, 'utf8'));
}

async function firstVolumes(paths: GamePaths): Promise<string[]> {
  const sets = await findArchiveSets(paths.root);
  if (sets.firstVolumes.length === 0) {
    if (sets.orphanVolumes.length > 0) {
      throw new LanspreadError('ARCHIVE_VOLUME_MISSING', `${paths.gameId}: only later volumes found (${sets.orphanVolumes.length}), the first volume is missing`);
    }
    throw new LanspreadError('ARCHIVE_NOT_FOUND', `${paths.gameId}: no .rar archive in the game folder`);
  }
  return sets.firstVolumes;
}

/** A reserved directory in the way: delete it if it is ours, refuse if it is the player's. */
async function clearReserved(dir: string, what: string): Promise<void> {
  if (!(await isRealDirectory(dir))) return;
  if (await hasOwnedMarker(dir)) {
    await removeTree(dir);
    return;
  }
  throw new LanspreadError('PATH_FORBIDDEN', `A folder ${what} that Lanspread did not create is in the game folder; move it away first`);
}

/** Creates and fills `.local.installing/`; on failure removes it and clears the intent. */
async function extractToStaging(ctx: TransactionContext, paths: GamePaths, operation: 'install' | 'update', staging: PreparedStaging, options: ExtractOptions): Promise<UnpackResult> {
  const { version } = staging;
  await clearReserved(paths.installing, '.local.installing');
  await writeIntent(paths, operation, 'preparing', version);
  await ctx.checkpoint('intent-preparing');
  let created = false;
  try {
    await mkdir(paths.installing);
    created = true;
    await ctx.checkpoint('staging-created');
    await writeOwnedMarker(paths.installing, { gameId: paths.gameId, operation });
    await writeIntent(paths, operation, 'extracting', version);
    await ctx.checkpoint('staging-marked');
    const unpacked = await staging.fill(paths.installing, options);
    // Durable before it can be promoted: an unplugged machine must not wake up to a local/
    // whose files the kernel never wrote.
    await syncTree(paths.installing);
    await ctx.checkpoint('extracted');
    return unpacked;
  } catch (error) {
    if (created) await removeTree(paths.installing);
    else await removeIfEmpty(paths.installing);
    await clearIntent(paths);
    throw error;
  }
}

export async function installGame(ctx: TransactionContext, paths: GamePaths, options: ExtractOptions, source: StagingSource = archiveSource(ctx)): Promise<InstallOutcome> {
  const staging = await source.prepare(paths);
  const { version } = staging;
  if (await isRealDirectory(paths.local)) throw new LanspreadError('ALREADY_INSTALLED', `${paths.gameId} is already installed`);
  const unpacked = await extractToStaging(ctx, paths, 'install', staging, options);
  try {
    await writeIntent(paths, 'install', 'promoting', version);
    await ctx.checkpoint('intent-promoting');
    await rename(paths.installing, paths.local);
    await syncDirectory(paths.root);
    await ctx.checkpoint('promoted');
  } catch (error) {
    await removeTree(paths.installing);
    await clearIntent(paths);
    throw error;
  }
  await finishInstalled(ctx, paths, version);
  return { version, unpacked };
}

export async function updateGame(ctx: TransactionContext, paths: GamePaths, options: ExtractOptions, source: StagingSource = archiveSource(ctx)): Promise<InstallOutcome> {
  const staging = await source.prepare(paths);
  const { version } = staging;
  if (!(await isRealDirectory(paths.local))) throw new LanspreadError('NOT_INSTALLED', `${paths.gameId} is not installed`);
  await clearReserved(paths.backup, '.local.backup');
  const unpacked = await extractToStaging(ctx, paths, 'update', staging, options);
  try {
    await writeIntent(paths, 'update', 'swapping', version);
    await ctx.checkpoint('intent-swapping');
    await swapInNew(ctx, paths, version);
  } catch (error) {
    await rollBackSwap(paths);
    await clearIntent(paths);
    throw error;
  }
  await finishUpdate(ctx, paths, version);
  return { version, unpacked };
}

/** old local/ -> .local.backup/ (marked first, so it is provably ours), staging -> local/. */
export async function swapInNew(ctx: TransactionContext, paths: GamePaths, version: string | null): Promise<void> {
  if (await isRealDirectory(paths.installing)) {
    if (await isRealDirectory(paths.local)) {
      await writeOwnedMarker(paths.local, { gameId: paths.gameId, operation: 'update' });
      await ctx.checkpoint('local-marked');
      await rename(paths.local, paths.backup);
      await syncDirectory(paths.root);
      await ctx.checkpoint('old-parked');
    }
    await rename(paths.installing, paths.local);
    await syncDirectory(paths.root);
    await ctx.checkpoint('new-promoted');
  }
  await writeIntent(paths, 'update', 'cleanup', version);
  await ctx.checkpoint('intent-cleanup');
}

async function rollBackSwap(paths: GamePaths): Promise<void> {
  if (!(await isRealDirectory(paths.local)) && (await isRealDirectory(paths.backup))) {
    await rename(paths.backup, paths.local);
    await syncDirectory(paths.root);
  }
  await removeOwnedMarker(paths.local);
  if (await isRealDirectory(paths.installing)) await removeTree(paths.installing);
}

export async function finishUpdate(ctx: TransactionContext, paths: GamePaths, version: string | null): Promise<void> {
  if (await isRealDirectory(paths.backup)) await removeTree(paths.backup);
  await ctx.checkpoint('backup-removed');
  await finishInstalled(ctx, paths, version);
}

/** local/ is the new version: drop its marker, record the version, clear the intent. */
export async function finishInstalled(ctx: TransactionContext, paths: GamePaths, version: string | null): Promise<void> {
  await removeOwnedMarker(paths.local);
  await ctx.checkpoint('marker-removed');
  await writeInstalledRecord(paths, version);
  await ctx.checkpoint('installed-recorded');
  await clearIntent(paths);
  await ctx.checkpoint('intent-cleared');
}
