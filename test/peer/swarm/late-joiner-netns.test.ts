import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateGame } from '../../../src/main/peer/demo/generate-game';
import { archiveDifferences, archiveHashes, downloadAtOnce, startCrowdPeer, waitUntilSeeSeed, type CrowdPeer } from '../../support/flash-crowd';
import { createNetns, netnsSupport, type NetnsHarness } from '../../support/netns';
import { makeWorkDir, waitFor } from '../../support/runtime-harness';

/**
 * A player who clicks Install after someone else started: over mDNS a peer that only began
 * sharing a download is not re-listed by the room for half a minute (PeerManager.relistLater),
 * so the late player's download asks the peers that say they are swarming (TXT `sw=1`) itself.
 * Player A downloads slowly (capped) and stays partial; player B starts once A shares a chunk
 * and must count A among its partial sources while it downloads. Links 20 Mbit/s (two cores
 * are not the limit); no timing asserts.
 */
const GAME_ID = 'demo-arena';
const GAME_BYTES = 16 * 1024 * 1024;
const LINK = { egress: '20mbit', ingress: '20mbit', burst: '64kb' };
/** A's download cap: it holds a chunk or two for the whole of B's download. */
const SLOW_BYTES_PER_SEC = 256 * 1024;

const support = netnsSupport();
if (!support.ok) console.warn(`[skip] late-joiner-netns: ${support.reason}`);

describe.skipIf(!support.ok)('a player who starts after the crowd (network namespaces, mDNS)', () => {
  let net: NetnsHarness | null = null;
  let work: { dir: string; cleanup: () => Promise<void> } | null = null;
  const peers: CrowdPeer[] = [];

  beforeAll(async () => {
    work = await makeWorkDir('late-joiner');
    net = createNetns({ count: 3, rateLimits: { 0: LINK, 1: LINK, 2: LINK } });
    const seedGames = path.join(work.dir, 'seed-games');
    await generateGame({ gameDir: seedGames, gameId: GAME_ID, version: '1.0', files: [{ path: 'data/game.bin', size: GAME_BYTES }], seed: 17 });
    const [seedHost, slowHost, lateHost] = net.hosts;
    const at = (name: string) => [path.join(work!.dir, name, 'games'), path.join(work!.dir, name, 'state')] as const;
    peers.push(await startCrowdPeer(seedHost!, 'seed', seedGames, path.join(work.dir, 'seed', 'state')));
    peers.push(await startCrowdPeer(slowHost!, 'slow', ...at('slow'), { serveArgs: ['--download-limit', String(SLOW_BYTES_PER_SEC)] }));
    peers.push(await startCrowdPeer(lateHost!, 'late', ...at('late')));
  }, 120_000);

  afterAll(async () => {
    for (const peer of peers.splice(0)) await peer.stop();
    await net?.teardown();
    await work?.cleanup();
  }, 60_000);

  it('asks the peers that say they are swarming, and downloads from a partial one the room has not re-listed yet', async () => {
    const [seed, slow, late] = peers as [CrowdPeer, CrowdPeer, CrowdPeer];
    await waitUntilSeeSeed([slow, late], seed, GAME_ID, 60_000);

    let slowDone = 0;
    const offSlow = slow.client.on('game-download-progress', (progress) => {
      if (progress.gameId === GAME_ID) slowDone = progress.bytesDone;
    });
    let partialSources = 0;
    const offLate = late.client.on('game-download-progress', (progress) => {
      if (progress.gameId === GAME_ID) partialSources = Math.max(partialSources, progress.partialSources ?? 0);
    });
    try {
      slow.client.invoke('download_game', { gameId: GAME_ID }).catch(() => undefined);
      // A verified chunk (1 MiB) and a moment for its mDNS record to say so.
      await waitFor(() => slowDone >= 2 * 1024 * 1024, 60_000, 'the slow player to hold a chunk');
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      const [outcome] = await downloadAtOnce([late], GAME_ID, 120_000);
      expect(outcome?.error ?? null).toBeNull();
      const expected = await archiveHashes(path.join(seed.gameDir, GAME_ID));
      expect(await archiveDifferences(expected, path.join(late.gameDir, GAME_ID))).toEqual([]);
      expect(partialSources, 'the slow player among the late one’s partial sources').toBeGreaterThanOrEqual(1);
    } finally {
      offSlow();
      offLate();
      await slow.client.invoke('cancel_download', { gameId: GAME_ID }).catch(() => undefined);
    }
  }, 240_000);
});
