import { spawn } from 'node:child_process';
import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Catalog, Platform } from '../../../shared/catalog';
import { LanspreadError } from '../../../shared/errors';
import { joinInside } from '../fs/safe-path';

/** A game this launcher started. */
export interface RunningGame {
  /** Ends the game and whatever it started (its process group; on Windows its process tree). */
  stop(): void;
}

/**
 * Starts an installed game from its catalog launch config, detached, with `local/` as the
 * root of every path (the catalog is bundled, but paths are still confined to local/).
 */
export function createGameLauncher(catalog: () => Catalog, gameDir: () => string | null, platform: NodeJS.Platform = process.platform) {
  return async (gameId: string, onExit: () => void): Promise<RunningGame> => {
    const entry = catalog().games.find((game) => game.id === gameId);
    const launch = entry?.launch[platform as Platform];
    if (!entry || !launch) throw new LanspreadError('NOT_IN_CATALOG', `No way to start ${gameId} on ${platform}`);
    const dir = gameDir();
    if (!dir) throw new LanspreadError('GAME_DIR_NOT_SET', 'Choose a game folder first');
    const local = path.join(dir, gameId, 'local');
    const executable = joinInside(local, launch.executable);
    const cwd = launch.cwd ? joinInside(local, launch.cwd) : path.dirname(executable);
    const stats = await stat(executable).catch(() => null);
    if (!stats?.isFile()) throw new LanspreadError('NOT_INSTALLED', `${launch.executable} is missing from ${gameId}; reinstall the game`);
    // RAR archives made on Windows carry no Unix modes, so nothing unpacked is executable; the
    // catalog names this file as the game's entry point, so it may be run.
    if (platform !== 'win32' && (stats.mode & 0o100) === 0) await chmod(executable, stats.mode | 0o755);
    const child = spawn(executable, launch.args, { cwd, detached: true, stdio: 'ignore', windowsHide: false });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new LanspreadError('INTERNAL', `Could not start ${entry.title}: ${error.message}`, { cause: error })));
    });
    child.once('exit', onExit);
    child.unref();
    return {
      stop: () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        // A launch script starts the game as its child: ending the script alone would leave the game running.
        if (platform === 'win32') spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => child.kill());
        else {
          try {
            process.kill(-child.pid, 'SIGTERM');
          } catch {
            child.kill('SIGTERM');
          }
        }
      },
    };
  };
}
