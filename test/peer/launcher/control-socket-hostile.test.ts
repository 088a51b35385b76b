import { existsSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { journalPath } from '../../../src/main/peer/download/resume-journal';
import { ControlSocketClient, controlSocketPath } from '../../../src/main/peer/launcher/control-socket';
import { makeWorkDir, repoRoot, seedGames, spawnCliPeer, startTestPeer, waitFor } from '../../support/runtime-harness';
import { useCliScope, waitForRemoteGame } from '../../support/cli-scope';
import { invokeToEnd } from '../../support/operation-end';

const GAME = 'quake-3-arena';
const MIB = 1024 * 1024;

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Every entry under `dir` (itself included) whose mode lets anyone but the owner in. */
async function openToOthers(dir: string): Promise<string[]> {
  const wide: string[] = [];
  for (const entry of ['', ...(await readdir(dir, { recursive: true }))]) {
    const stats = await lstat(path.join(dir, entry)).catch(() => null);
    if (stats && (stats.mode & 0o077) !== 0) wide.push(`${entry || '.'} ${(stats.mode & 0o777).toString(8)}`);
  }
  return wide;
}

describe('the control socket and the state directory against local users and clients', () => {
  const { children, defer } = useCliScope();

  it('under umask 000 every file and folder of the state directory, control.sock included, is owner-only, through a download and an install', async (context) => {
    if (process.platform === 'win32') return context.skip('POSIX modes only');
    const work = await makeWorkDir('state-modes');
    defer(work.cleanup);
    const seed = await startTestPeer(work.dir, 'seed', { catalogIds: [GAME], games: [{ id: GAME, version: '1', files: [{ path: 'data/a.pak', size: 3 * MIB }, { path: 'data/b.pak', size: 3 * MIB }] }] });
    defer(() => seed.stop());
    const stateDir = path.join(work.dir, 'player-state');
    const player = await spawnCliPeer(
      ['serve', '--game-dir', path.join(work.dir, 'player-games'), '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--peer', `127.0.0.1:${seed.runtime.port}`, '--download-limit', String(3 * MIB)],
      { wrap: ['sh', '-c', 'umask 000; exec "$0" "$@"'] },
    );
    children.push(player);
    const client = await ControlSocketClient.connect(controlSocketPath(stateDir));
    defer(() => client.close());
    await waitForRemoteGame(client, GAME);
    const installed = invokeToEnd(client, 'install_game', { gameId: GAME, mode: 'normal' });
    // While it runs: the journal and its folder exist.
    await waitFor(() => existsSync(journalPath(stateDir, GAME)), 20_000, 'the journal');
    expect(await openToOthers(stateDir)).toEqual([]);
    await installed;
    const names = await readdir(stateDir, { recursive: true });
    for (const expected of ['control.sock', 'settings.json', 'instance.lock', path.join('games', GAME, 'installed.json')]) expect(names).toContain(expected);
    expect(await openToOthers(stateDir)).toEqual([]);
  });

  it('a client that never reads its replies is dropped; the peer stays small and answers others', async () => {
    const work = await makeWorkDir('control-flood');
    defer(work.cleanup);
    const stateDir = path.join(work.dir, 'state');
    // Games in the library make each games list a few KiB.
    const catalog = JSON.parse(await readFile(path.join(repoRoot, 'resources/catalog.json'), 'utf8')) as { games: { id: string }[] };
    await seedGames(path.join(work.dir, 'games'), catalog.games.slice(0, 12).map((game) => ({ id: game.id, version: '1', files: [{ path: 'a.bin', size: 1000 }] })));
    const peer = await spawnCliPeer(['serve', '--game-dir', path.join(work.dir, 'games'), '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns']);
    children.push(peer);
    const pid = peer.child.pid as number;
    const before = await rssBytes(pid);

    const flood = net.connect(controlSocketPath(stateDir));
    await new Promise<void>((resolve) => flood.once('connect', () => resolve()));
    flood.pause();
    const closed = new Promise<void>((resolve) => flood.once('close', () => resolve()));
    flood.on('error', () => undefined);
    // The whole games list per request: 20,000 of them is about 100 MB of replies.
    const request = Buffer.from(`${JSON.stringify({ id: 1, command: 'request_games' })}\n`.repeat(100));
    let sent = 0;
    let dropped = false;
    void closed.then(() => (dropped = true));
    while (!dropped && sent < 200) {
      if (!flood.write(request)) await new Promise((resolve) => setTimeout(resolve, 20));
      sent += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    expect(dropped, 'the server closed the non-reading client').toBe(true);
    expect(peer.output.join('\n')).toMatch(/does not read its replies/);
    // Generous: the point is that it is bounded, not its exact size.
    const grown = (await rssBytes(pid)) - before;
    console.info(`control-socket flood: ${sent} x 100 requests sent before the drop, RSS grew ${(grown / MIB).toFixed(1)} MiB`);
    expect(grown).toBeLessThan(150 * MIB);

    const other = await ControlSocketClient.connect(controlSocketPath(stateDir));
    defer(() => other.close());
    expect((await other.invoke('get_status')).peerId).toBe(peer.peerId);
  });
});
