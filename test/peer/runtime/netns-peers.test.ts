import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GameView, PeerView } from '../../../src/shared/api';
import { createNetns, netnsSupport, type NetnsHarness } from '../../support/netns';
import { makeWorkDir, repoRoot, seedGames, spawnCliPeer, waitFor, type CliPeer } from '../../support/runtime-harness';

const run = promisify(execFile);
const GAMES = ['demo-arena', 'demo-racer', 'demo-tanks'];

/** The CLI's control socket is a file in the state dir, so the host namespace can query every peer. */
async function cliJson<T>(command: 'games' | 'peers', stateDir: string): Promise<T> {
  const { stdout } = await run(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), command, '--state-dir', stateDir, '--json'], { cwd: repoRoot, timeout: 30_000 });
  return JSON.parse(stdout) as T;
}

const support = netnsSupport();
if (!support.ok) console.warn(`[skip] netns-peers: ${support.reason}`);

describe.skipIf(!support.ok)('three CLI peers in three network namespaces', () => {
  let net: NetnsHarness | null = null;
  let work: { dir: string; cleanup: () => Promise<void> } | null = null;
  const peers: (CliPeer & { stateDir: string })[] = [];

  beforeAll(async () => {
    net = createNetns({ count: 3 });
    work = await makeWorkDir('netns-peers');
    for (const [index, host] of net.hosts.entries()) {
      const base = path.join(work.dir, `host${index}`);
      await seedGames(path.join(base, 'games'), [{ id: GAMES[index] as string, version: `1.${index}` }]);
      const stateDir = path.join(base, 'state');
      const peer = await spawnCliPeer(['serve', '--game-dir', path.join(base, 'games'), '--state-dir', stateDir, '--name', `host-${index}`, '--log-level', 'warn'], {
        wrap: ['ip', 'netns', 'exec', host.ns],
      });
      peers.push({ ...peer, stateDir });
    }
  });

  afterAll(async () => {
    for (const peer of peers) {
      if (peer.child.exitCode === null && peer.child.signalCode === null) peer.child.kill('SIGKILL');
      await peer.exited;
    }
    await net?.teardown();
    await work?.cleanup();
  });

  it('find each other by mDNS alone and list the union of the others\' games', async () => {
    for (const [index, peer] of peers.entries()) {
      const others = GAMES.filter((_, i) => i !== index);
      await waitFor(async () => {
        const games = await cliJson<GameView[]>('games', peer.stateDir);
        return others.every((id) => games.some((game) => game.id === id && game.sourcePeers.length === 1));
      }, 60_000, `host-${index} lists ${others.join(', ')}`);
      const peerList = await cliJson<PeerView[]>('peers', peer.stateDir);
      expect(peerList.map((p) => p.name).sort()).toEqual(['host-0', 'host-1', 'host-2'].filter((_, i) => i !== index));
      // Connected to the packet's source address inside the bridge subnet, found by mDNS.
      for (const seen of peerList) {
        expect(seen.source).toBe('mdns');
        expect(net!.hosts.map((h) => h.address)).toContain(seen.host);
      }
    }
  });

  it('see a peer leave on SIGTERM (goodbye) and prune a SIGKILLed one by liveness', async () => {
    const [first, second, third] = peers as [CliPeer & { stateDir: string }, CliPeer & { stateDir: string }, CliPeer & { stateDir: string }];
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    for (const observer of [first, second]) {
      await waitFor(async () => !(await cliJson<PeerView[]>('peers', observer.stateDir)).some((p) => p.peerId === third.peerId), 15_000, 'goodbye seen');
    }
    second.child.kill('SIGKILL');
    await second.exited;
    await waitFor(async () => !(await cliJson<PeerView[]>('peers', first.stateDir)).some((p) => p.peerId === second.peerId), 15_000, 'liveness prunes the killed peer');
    const games = await cliJson<GameView[]>('games', first.stateDir);
    expect(games.map((g) => g.id)).toEqual(['demo-arena']);
  });
});
