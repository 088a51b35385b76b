import { readFile, rm } from 'node:fs/promises';
import { syncDirectory, writeFileAtomic } from '../fs/atomic-write';
import { makePrivateDir } from '../fs/private-files';
import { isMissing } from './fs-checks';
import type { GamePaths } from './layout';

/**
 * What an install transaction is doing, saved before each step that changes the game root so
 * that startup recovery can finish or undo it. Lives in the state directory, never in the game.
 */

export type IntentOperation = 'install' | 'update' | 'uninstall';

/**
 * preparing: about to create .local.installing (it may exist, empty and unmarked);
 * extracting: .local.installing is ours and being filled;
 * promoting: extraction finished, .local.installing is about to become local/;
 * swapping: update only: old local/ -> .local.backup, new -> local/;
 * cleanup: update only: the new local/ is in place, .local.backup is ours to delete;
 * renaming / deleting: uninstall: local/ -> .local.backup, then deleting it.
 */
export type IntentPhase = 'preparing' | 'extracting' | 'promoting' | 'swapping' | 'cleanup' | 'renaming' | 'deleting';

export interface InstallIntent {
  schemaVersion: 1;
  gameId: string;
  operation: IntentOperation;
  phase: IntentPhase;
  /** Version being installed (install/update), from the root version.ini. */
  version: string | null;
  updatedAt: string;
}

export interface InstalledRecord {
  schemaVersion: 1;
  gameId: string;
  version: string | null;
  installedAt: string;
}

const OPERATIONS: ReadonlySet<string> = new Set(['install', 'update', 'uninstall']);
const PHASES: ReadonlySet<string> = new Set(['preparing', 'extracting', 'promoting', 'swapping', 'cleanup', 'renaming', 'deleting']);

export async function writeIntent(paths: GamePaths, operation: IntentOperation, phase: IntentPhase, version: string | null): Promise<void> {
  await makePrivateDir(paths.stateGameDir);
  const intent: InstallIntent = { schemaVersion: 1, gameId: paths.gameId, operation, phase, version, updatedAt: new Date().toISOString() };
  await writeFileAtomic(paths.intent, `${JSON.stringify(intent)}\n`);
}

/** The saved intent, or null when there is none or it cannot be understood. */
export async function readIntent(paths: GamePaths): Promise<InstallIntent | null> {
  const raw = await readJson(paths.intent);
  if (!raw || typeof raw !== 'object') return null;
  const value = raw as Partial<InstallIntent>;
  if (value.gameId !== paths.gameId || !OPERATIONS.has(String(value.operation)) || !PHASES.has(String(value.phase))) return null;
  return {
    schemaVersion: 1,
    gameId: paths.gameId,
    operation: value.operation as IntentOperation,
    phase: value.phase as IntentPhase,
    version: typeof value.version === 'string' ? value.version : null,
    updatedAt: String(value.updatedAt ?? ''),
  };
}

export async function clearIntent(paths: GamePaths): Promise<void> {
  await rm(paths.intent, { force: true });
  await syncIfExists(paths.stateGameDir);
}

export async function writeInstalledRecord(paths: GamePaths, version: string | null): Promise<void> {
  await makePrivateDir(paths.stateGameDir);
  const record: InstalledRecord = { schemaVersion: 1, gameId: paths.gameId, version, installedAt: new Date().toISOString() };
  await writeFileAtomic(paths.installed, `${JSON.stringify(record)}\n`);
}

/** The version recorded when local/ was last installed, or null if unknown. */
export async function readInstalledRecord(paths: GamePaths): Promise<InstalledRecord | null> {
  const raw = (await readJson(paths.installed)) as Partial<InstalledRecord> | null;
  if (!raw || typeof raw !== 'object') return null;
  return {
    schemaVersion: 1,
    gameId: paths.gameId,
    version: typeof raw.version === 'string' ? raw.version : null,
    installedAt: String(raw.installedAt ?? ''),
  };
}

export async function clearInstalledRecord(paths: GamePaths): Promise<void> {
  await rm(paths.installed, { force: true });
  await syncIfExists(paths.stateGameDir);
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function syncIfExists(dir: string): Promise<void> {
  try {
    await syncDirectory(dir);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}
