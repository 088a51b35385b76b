import { chmod, copyFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { CATALOG_ID_PATTERN } from '../../../shared/catalog';
import { syncDirectory } from '../fs/atomic-write';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../fs/private-files';
import { isMissing, isRegularFile, pathExists } from './fs-checks';
import { gamePaths } from './layout';

/**
 * Pre-start phase: launcher-owned files that older versions kept inside game folders move to
 * the state directory, so every later path (install, recovery, scan, serving) looks only there.
 * `install_intent.json` becomes the game's intent (if none is saved yet) so recovery sees it;
 * anything else is kept under `<state>/games/<id>/legacy/`.
 */

const LEGACY_FILES = ['install_intent.json', '.lanspread.json'] as const;

export interface MigratedFile {
  gameId: string;
  from: string;
  to: string;
}

export async function migrateLegacyFiles(gameDir: string, stateDir: string): Promise<MigratedFile[]> {
  let entries;
  try {
    entries = await readdir(gameDir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  const moved: MigratedFile[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !CATALOG_ID_PATTERN.test(entry.name)) continue;
    const paths = gamePaths(gameDir, stateDir, entry.name);
    for (const name of LEGACY_FILES) {
      const from = path.join(paths.root, name);
      if (!(await isRegularFile(from))) continue;
      let to = path.join(paths.stateGameDir, 'legacy', name);
      if (name === 'install_intent.json' && !(await pathExists(paths.intent))) to = paths.intent;
      await moveFile(from, to);
      moved.push({ gameId: entry.name, from, to });
    }
  }
  return moved;
}

/** rename when on the same filesystem, else copy + fsync the folder + delete. */
async function moveFile(from: string, to: string): Promise<void> {
  await makePrivateDir(path.dirname(to));
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EXDEV') throw error;
    await copyFile(from, to);
    await syncDirectory(path.dirname(to));
    await rm(from, { force: true });
  }
  // It kept the mode it had in the game folder: in the state directory it is the user's alone.
  if (process.platform !== 'win32') await chmod(to, PRIVATE_FILE_MODE);
  await syncDirectory(path.dirname(to));
  await syncDirectory(path.dirname(from));
}
