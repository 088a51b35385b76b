import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { makeWorkDir, repoRoot, waitFor } from '../support/runtime-harness';
import { groupAlive } from '../support/procfs';

/**
 * `npm start -- --demo` without Electron: two seed peers on loopback with the generated demo
 * games, and the player's peer (web UI mode) pointed at them as manual peers.
 */

const run = promisify(execFile);
const peerCli = path.join(repoRoot, 'bin/lanspread-peer.mjs');
// npm test builds before vitest runs; on its own this file needs `npm run build` first (start.mjs
// would otherwise spend its first run building the web UI).
const rendererBuilt = existsSync(path.join(repoRoot, 'out/renderer/index.html'));
if (!rendererBuilt) console.warn('demo-start.test.ts skipped: out/renderer/index.html is missing; run `npm run build` first.');

async function cli(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [peerCli, ...args], { cwd: repoRoot, timeout: 60_000 });
  return stdout;
}

interface GameRow {
  id: string;
  latestVersion: string | null;
  sourcePeers: string[];
}

describe.skipIf(!rendererBuilt)('npm start -- --demo (web UI mode)', () => {
  let start: ChildProcess | null = null;
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    // start.mjs leads its own process group (detached), so its seeds and its peer go with it.
    const pgid = start?.pid;
    if (pgid !== undefined && groupAlive(pgid)) {
      process.kill(-pgid, 'SIGKILL');
      await waitFor(() => !groupAlive(pgid), 10_000, 'the demo process group to be gone');
    }
    start = null;
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('starts two seeds, and the player\'s peer lists the demo games from both, downloads one, and stops them all', async () => {
    const work = await makeWorkDir('demo-start');
    cleanups.push(work.cleanup);
    const demoDir = path.join(work.dir, 'demo');
    const stateDir = path.join(work.dir, 'player', 'state');
    const gameDir = path.join(work.dir, 'player', 'games');

    // --no-mdns goes through to the player's `serve`: this test must see only its own seeds.
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts/start.mjs'), '--demo', '--no-mdns'], {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LANSPREAD_NO_ELECTRON: '1', LANSPREAD_GAME_DIR: gameDir, LANSPREAD_STATE_DIR: stateDir, LANSPREAD_WEB_PORT: '0', LANSPREAD_DEMO_DIR: demoDir },
    });
    start = child;
    const output: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        output.push(line);
        if (line.startsWith('LANSPREAD_READY ')) resolve();
      });
      void exited.then((code) => reject(new Error(`start.mjs exited with ${code} before the peer was ready:\n${output.join('\n')}`)));
    });
    expect(output.join('\n')).toContain('Demo: two seed peers on loopback share demo-arena, demo-racer, demo-tanks');

    // Seed 1 shares all three games, seed 2 demo-arena and demo-racer.
    const sources = async () => {
      const games = JSON.parse(await cli(['games', '--state-dir', stateDir, '--json'])) as GameRow[];
      return Object.fromEntries(games.filter((g) => g.id.startsWith('demo-')).map((g) => [g.id, g.sourcePeers.length]));
    };
    await waitFor(async () => JSON.stringify(await sources()) === JSON.stringify({ 'demo-arena': 2, 'demo-racer': 2, 'demo-tanks': 1 }), 60_000, 'the demo games from both seeds');
    const peers = JSON.parse(await cli(['peers', '--state-dir', stateDir, '--json'])) as { name: string; host: string }[];
    expect(peers.map((p) => p.name).sort()).toEqual(['Demo seed 1', 'Demo seed 2']);
    expect(peers.every((p) => p.host === '127.0.0.1')).toBe(true);

    // The two seeds hold identical bytes, so a download may take chunks from either.
    for (const file of ['demo-racer/demo-racer.rar', 'demo-racer/version.ini']) {
      const [one, two] = await Promise.all([1, 2].map((i) => readFile(path.join(demoDir, `seed-${i}`, 'games', file))));
      expect(one!.equals(two!)).toBe(true);
    }
    const download = await cli(['download', 'demo-racer', '--state-dir', stateDir]);
    expect(download).toContain('demo-racer is installed.');
    expect((await stat(path.join(gameDir, 'demo-racer', 'local', 'data', 'tracks.pak'))).size).toBe(20 * 1024 * 1024);

    // SIGTERM to start.mjs stops the player's peer, then both seeds: nothing of the group is left.
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await waitFor(() => !groupAlive(child.pid!), 15_000, 'the seeds to stop with start.mjs');

    // The demo games are generated once: a second run keeps them.
    const again = await cli(['demo-games', '--game-dir', path.join(demoDir, 'seed-1', 'games'), '--seed-index', '1']);
    expect(again.trim().split('\n')).toEqual(['demo-arena 1.2: already there', 'demo-racer 2.0: already there', 'demo-tanks 0.9: already there']);
  }, 180_000);
});
