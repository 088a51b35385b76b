import { existsSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killCliPeers, makeWorkDir, runCliToEnd as runCli, spawnCliPeer, startTestPeer, waitFor, type CliPeer, type TestPeer } from '../../support/runtime-harness';

const GAME = 'demo-arena';
const FILES = [{ path: 'bin/game.bin', size: 6_000_000 }, { path: 'data/level.pak', size: 3_000_000 }];

describe('lanspread-peer stream-install, and recovery after the receiver is SIGKILLed mid-stream', () => {
  const children: CliPeer[] = [];
  const runtimes: TestPeer[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    await killCliPeers(children);
    for (const runtime of runtimes.splice(0)) await runtime.stop();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('recovers an interrupted streamed install on restart, then streams it to completion', async () => {
    const work = await makeWorkDir('stream-cli');
    cleanups.push(work.cleanup);
    // The seed's upload cap makes the stream last long enough to be interrupted.
    const seed = await startTestPeer(work.dir, 'seed', { catalogIds: [GAME], games: [{ id: GAME, version: '3.1', files: FILES, seed: 5 }], uploadLimitBytesPerSec: 3_000_000 });
    runtimes.push(seed);
    const gameDir = path.join(work.dir, 'receiver', 'games');
    const stateDir = path.join(work.dir, 'receiver', 'state');
    const root = path.join(gameDir, GAME);
    const serveArgs = ['serve', '--game-dir', gameDir, '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--peer', `127.0.0.1:${seed.runtime.port}`];
    await mkdir(gameDir, { recursive: true });

    let receiver = await spawnCliPeer(serveArgs);
    children.push(receiver);
    const gamesCli = () => runCli(['games', '--state-dir', stateDir]);
    await waitFor(async () => (await gamesCli()).stdout.includes('available'), 30_000, 'the receiver to see the seed');

    const interrupted = runCli(['stream-install', GAME, '--state-dir', stateDir]);
    const staged = path.join(root, '.local.installing', 'bin', 'game.bin');
    await waitFor(async () => ((await stat(staged).catch(() => null))?.size ?? 0) > 1_000_000, 30_000, 'the stream to be under way');
    receiver.child.kill('SIGKILL');
    await receiver.exited;
    const cut = await interrupted;
    expect(cut.code).not.toBe(0);
    expect(existsSync(path.join(root, '.local.installing'))).toBe(true);
    expect(existsSync(path.join(stateDir, 'games', GAME, 'install_intent.json'))).toBe(true);

    // Restart: recovery runs before the peer is ready and removes what the stream left.
    receiver = await spawnCliPeer(serveArgs);
    children.push(receiver);
    expect(existsSync(path.join(root, '.local.installing'))).toBe(false);
    expect(existsSync(path.join(root, 'local'))).toBe(false);
    expect(existsSync(path.join(stateDir, 'games', GAME, 'install_intent.json'))).toBe(false);

    await waitFor(async () => (await gamesCli()).stdout.includes('available'), 30_000, 'the restarted receiver to see the seed');
    const done = await runCli(['stream-install', GAME, '--state-dir', stateDir]);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/stream\s+\[#+-*\]\s+\d+%/);
    expect(done.stdout).toContain(`${GAME} is installed.`);
    expect((await stat(path.join(root, 'local', 'bin', 'game.bin'))).size).toBe(6_000_000);
    expect((await stat(path.join(root, 'local', 'data', 'level.pak'))).size).toBe(3_000_000);
    expect(await readdir(root)).toEqual(['local']);
  });
});
