import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlSocketClient, controlSocketPath } from '../../src/main/peer/launcher/control-socket';
import { makeWorkDir, repoRoot, seedGames, spawnCliPeer, waitFor } from '../support/runtime-harness';
import { useCliScope } from '../support/cli-scope';
import { groupAlive } from '../support/procfs';

/**
 * Settings that stick, through `npm start`'s own path (scripts/start.mjs, web UI mode): the
 * game folder it passes is only the default of a first start, so a folder chosen in Settings
 * is still the one after a restart, with its installed games listed and its interrupted
 * download resumed from where it stopped; `--peer` adds a peer without replacing saved ones.
 */

const rendererBuilt = existsSync(path.join(repoRoot, 'out/renderer/index.html'));
if (!rendererBuilt) console.warn('settings-stick.test.ts skipped: out/renderer/index.html is missing; run `npm run build` first.');

const MIB = 1024 * 1024;
const BIG_BYTES = 6 * MIB;

interface Started {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

describe.skipIf(!rendererBuilt)('npm start keeps what the player saved', () => {
  const { children, defer } = useCliScope();
  const starts: Started[] = [];
  afterEach(async () => {
    for (const start of starts.splice(0)) {
      const pgid = start.child.pid;
      if (pgid !== undefined && groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
      await start.exited;
    }
  });

  /** `node scripts/start.mjs ARGS` without Electron, resolved once its peer is ready. */
  async function npmStart(env: Record<string, string>, args: string[]): Promise<Started> {
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts/start.mjs'), ...args], {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LANSPREAD_NO_ELECTRON: '1', LANSPREAD_WEB_PORT: '0', ...env },
    });
    const output: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = { child, output, exited };
    starts.push(started);
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        output.push(line);
        if (line.startsWith('LANSPREAD_READY ')) resolve();
      });
      void exited.then((code) => reject(new Error(`start.mjs exited with ${code} before its peer was ready:\n${output.join('\n')}`)));
    });
    return started;
  }

  it('a game folder chosen in Settings, its installed game, its interrupted download and a saved manual peer survive a restart', async () => {
    const work = await makeWorkDir('settings-stick');
    defer(work.cleanup);
    // The seed shares a small game to install and a larger one, slowly, to interrupt.
    const seedGamesDir = path.join(work.dir, 'seed', 'games');
    const generated = await seedGames(seedGamesDir, [
      { id: 'demo-arena', version: '1.0' },
      { id: 'demo-racer', version: '2.0', files: [{ path: 'data/tracks.pak', size: BIG_BYTES }] },
    ]);
    const seed = await spawnCliPeer(['serve', '--game-dir', seedGamesDir, '--state-dir', path.join(work.dir, 'seed', 'state'), '--host', '127.0.0.1', '--no-mdns', '--chunk-size', String(64 * 1024), '--upload-limit', String(MIB)]);
    children.push(seed);

    const stateDir = path.join(work.dir, 'player', 'state');
    const firstDir = path.join(work.dir, 'player', 'games');
    const chosenDir = path.join(work.dir, 'chosen');
    await mkdir(chosenDir);
    const env = { LANSPREAD_GAME_DIR: firstDir, LANSPREAD_STATE_DIR: stateDir };
    const args = ['--no-mdns', '--peer', `127.0.0.1:${seed.port}`];

    const first = await npmStart(env, args);
    let client = await ControlSocketClient.connect(controlSocketPath(stateDir));
    defer(() => client.close());
    expect((await client.invoke('get_settings')).gameDir).toBe(firstDir);
    // The player picks another folder and adds a manual peer of its own (nobody answers there).
    await client.invoke('update_game_directory', { path: chosenDir });
    await client.invoke('set_settings', { manualPeers: ['127.0.0.1:9'] });
    await waitFor(async () => (await client.invoke('request_games')).some((g) => g.id === 'demo-racer' && g.sourcePeers.length > 0), 30_000, 'the seed\'s games');
    // The demo seed added by --peer was kept when the saved list changed: it still serves.
    await client.invoke('install_game', { gameId: 'demo-arena', mode: 'normal' });

    // The big download stops part-way: the launcher quits (Ctrl-C / SIGTERM) with it running.
    let verified = 0;
    client.on('game-download-progress', (p) => p.gameId === 'demo-racer' && (verified = p.bytesDone));
    client.invoke('install_game', { gameId: 'demo-racer', mode: 'normal' }).catch(() => undefined);
    await waitFor(() => verified >= 1 * MIB, 60_000, 'a part of demo-racer');
    client.close();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(path.join(chosenDir, 'demo-racer', 'version.ini'))).toBe(false);

    // Started again exactly as before (npm start still passes its default folder).
    await npmStart(env, args);
    client = await ControlSocketClient.connect(controlSocketPath(stateDir));
    const settings = await client.invoke('get_settings');
    expect(settings.gameDir).toBe(chosenDir);
    expect(settings.manualPeers).toEqual(['127.0.0.1:9']);
    expect((await client.invoke('get_status')).gameDir).toBe(chosenDir);
    const arena = (await client.invoke('request_games')).find((g) => g.id === 'demo-arena');
    expect(arena?.installed).toBe(true);

    // The interrupted download resumes on its own and fetches only what it did not have.
    await waitFor(async () => (await client.invoke('request_games')).some((g) => g.id === 'demo-racer' && g.installed), 90_000, 'demo-racer installed after the restart');
    const fromSeed = (await client.invoke('request_peers')).find((p) => p.peerId === seed.peerId);
    expect(fromSeed).toBeDefined();
    expect(fromSeed!.downloadedBytes).toBeGreaterThan(0);
    expect(fromSeed!.downloadedBytes).toBeLessThan(BIG_BYTES - 512 * 1024);
    const installed = await readFile(path.join(chosenDir, 'demo-racer', 'local', 'data', 'tracks.pak'));
    expect(installed.length).toBe(BIG_BYTES);
    expect(crc32(installed)).toBe(generated.get('demo-racer')!.files.find((f) => f.path === 'data/tracks.pak')!.crc32);
    // Nothing went to the first-start folder.
    expect(await stat(path.join(firstDir, 'demo-racer')).catch(() => null)).toBeNull();
    expect(await stat(path.join(firstDir, 'demo-arena')).catch(() => null)).toBeNull();
    client.close();
  }, 240_000);
});
