import { chmod, mkdir } from 'node:fs/promises';

/**
 * Launcher metadata (identity key, settings, intents, journals, index, control socket) belongs
 * to the local user alone: another user who can change settings.json or reach control.sock can
 * point the game directory anywhere. Modes are given at creation, so whatever the umask they
 * are never wider than owner-only (a umask only ever narrows a mode).
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** mkdir -p with owner-only folders. */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** The state directory: created owner-only, and narrowed if an earlier version (or umask) made it wider. */
export async function preparePrivateStateDir(stateDir: string): Promise<void> {
  await makePrivateDir(stateDir);
  if (process.platform !== 'win32') await chmod(stateDir, PRIVATE_DIR_MODE);
}
