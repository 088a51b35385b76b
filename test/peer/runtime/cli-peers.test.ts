import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { killCliPeers, makeWorkDir, repoRoot, seedGames, spawnCliPeer, startTestPeer, waitFor, type CliPeer, type TestPeer } from '../../support/runtime-harness';

const run = promisify(execFile);

async function cli(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), ...args], { cwd: repoRoot, timeout: 30_000 });
  return stdout;
}

describe('headless CLI peers', () => {
  const children: CliPeer[] = [];
  const runtimes: TestPeer[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    await killCliPeers(children);
    for (const runtime of runtimes.splice(0)) await runtime.stop();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('two peers started by hand list each other\'s games with `lanspread-peer games`', async () => {
    const work = await makeWorkDir('cli');
    cleanups.push(work.cleanup);
    const dirA = path.join(work.dir, 'a');
    const dirB = path.join(work.dir, 'b');
    await seedGames(path.join(dirA, 'games'), [{ id: 'demo-arena', version: '1.0' }]);
    await seedGames(path.join(dirB, 'games'), [{ id: 'demo-racer', version: '2.0' }]);
    const a = await spawnCliPeer(['serve', '--game-dir', path.join(dirA, 'games'), '--state-dir', path.join(dirA, 'state'), '--name', 'peer-a', '--host', '127.0.0.1', '--no-mdns']);
    children.push(a);
    const b = await spawnCliPeer(['serve', '--game-dir', path.join(dirB, 'games'), '--state-dir', path.join(dirB, 'state'), '--name', 'peer-b', '--host', '127.0.0.1', '--no-mdns', '--peer', `127.0.0.1:${a.port}`]);
    children.push(b);

    await waitFor(async () => (await cli(['games', '--state-dir', path.join(dirA, 'state')])).includes('demo-racer'), 30_000, 'peer a lists b\'s game');
    const gamesOnA = await cli(['games', '--state-dir', path.join(dirA, 'state')]);
    expect(gamesOnA).toMatch(/demo-arena\s+1\.0.*downloaded/);
    expect(gamesOnA).toMatch(/demo-racer\s+2\.0.*available\s+on 1 peer/);
    const gamesOnB = JSON.parse(await cli(['games', '--state-dir', path.join(dirB, 'state'), '--json'])) as { id: string; sourcePeers: string[] }[];
    expect(gamesOnB.find((g) => g.id === 'demo-arena')?.sourcePeers).toEqual([a.peerId]);
    const peersOnB = await cli(['peers', '--state-dir', path.join(dirB, 'state')]);
    expect(peersOnB).toContain('peer-a');

    // `download` drives the running peer: progress lines while it works, then installed.
    const { stdout } = await run(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), 'download', 'demo-racer', '--state-dir', path.join(dirA, 'state')], { cwd: repoRoot, timeout: 60_000 });
    expect(stdout).toMatch(/download\s+\[#+-*\]\s+\d+%/);
    expect(stdout).toContain('demo-racer is installed.');
    expect(existsSync(path.join(dirA, 'games', 'demo-racer', 'local', 'bin', 'game.bin'))).toBe(true);
    const failed = await run(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), 'download', 'no-such-game', '--state-dir', path.join(dirA, 'state')], { cwd: repoRoot }).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining('[NOT_IN_CATALOG]') });

    // `download --no-install` fetches and verifies the archives and leaves local/ alone.
    const preload = await run(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), 'download', 'demo-arena', '--no-install', '--state-dir', path.join(dirB, 'state')], { cwd: repoRoot, timeout: 60_000 });
    expect(preload.stdout).toContain('demo-arena is downloaded');
    expect(existsSync(path.join(dirB, 'games', 'demo-arena', 'version.ini'))).toBe(true);
    expect(existsSync(path.join(dirB, 'games', 'demo-arena', 'local'))).toBe(false);
    expect(await cli(['games', '--state-dir', path.join(dirB, 'state')])).toMatch(/demo-arena\s+1\.0.*downloaded/);

    // Ctrl-C stops cleanly.
    b.child.kill('SIGINT');
    expect(await b.exited).toBe(0);
  });

  it('a peer killed with SIGKILL is pruned from the other\'s PeerGameDB within 10 s', async () => {
    const work = await makeWorkDir('cli-kill');
    cleanups.push(work.cleanup);
    const observer = await startTestPeer(work.dir, 'observer', { catalogIds: ['demo-arena'], timings: { pingIntervalMs: 2_000, pingTimeoutMs: 2_000, pruneAfterMs: 6_000, manualRetryMs: 1_000, requestTimeoutMs: 5_000 } });
    runtimes.push(observer);
    const gameDir = path.join(work.dir, 'victim', 'games');
    await seedGames(gameDir, [{ id: 'demo-arena', version: '1.0' }]);
    const victim = await spawnCliPeer(['serve', '--game-dir', gameDir, '--state-dir', path.join(work.dir, 'victim', 'state'), '--host', '127.0.0.1', '--no-mdns', '--peer', `127.0.0.1:${observer.runtime.port}`]);
    children.push(victim);
    await waitFor(() => observer.runtime.remoteGames().has('demo-arena'), 30_000, 'observer sees the victim');

    const disconnected = new Promise<string>((resolve) => observer.runtime.on('peer-disconnected', ({ peerId }) => resolve(peerId)));
    victim.child.kill('SIGKILL');
    // The requirement is the bound itself: liveness must prune a silent peer within 10 s.
    await waitFor(() => !observer.runtime.peers().some((p) => p.info.peerId === victim.peerId), 10_000, 'prune within 10 s');
    expect(observer.runtime.remoteGames().has('demo-arena')).toBe(false);
    expect(await disconnected).toBe(victim.peerId);
  });
});
