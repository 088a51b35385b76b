import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateGame } from '../../../src/main/peer/demo/generate-game';
import { archiveDifferences, archiveHashes, downloadAtOnce, startCrowd, waitUntilSeeSeed, type Crowd } from '../../support/flash-crowd';
import { createNetns, netnsSupport, type NetnsHarness } from '../../support/netns';
import { netDevCounters } from '../../support/procfs';
import { makeWorkDir } from '../../support/runtime-harness';

/**
 * A small flash crowd: one seed and four players in network namespaces on one bridge, every
 * link shaped to 20 Mbit/s both ways (low, so two cores are not what limits the room), all four
 * start the same game at once through their control sockets. Swarming means every player also
 * serves what it has: each one's own link must carry a real share of the game upwards, far
 * above the ACKs a pure downloader sends (~2-3% of what it receives). No timing asserts.
 */
const GAME_ID = 'demo-arena';
const GAME_BYTES = 24 * 1024 * 1024;
const DOWNLOADERS = 4;
const LINK = { egress: '20mbit', ingress: '20mbit', burst: '64kb' };

const support = netnsSupport();
if (!support.ok) console.warn(`[skip] flash-crowd-netns: ${support.reason}`);

describe.skipIf(!support.ok)('a flash crowd of four players in network namespaces', () => {
  let net: NetnsHarness | null = null;
  let work: { dir: string; cleanup: () => Promise<void> } | null = null;
  let crowd: Crowd | null = null;

  beforeAll(async () => {
    work = await makeWorkDir('flash-crowd');
    const rateLimits = Object.fromEntries(Array.from({ length: DOWNLOADERS + 1 }, (_, index) => [index, LINK]));
    net = createNetns({ count: DOWNLOADERS + 1, rateLimits });
    const seedGames = path.join(work.dir, 'seed-games');
    await generateGame({ gameDir: seedGames, gameId: GAME_ID, version: '1.0', files: [{ path: 'data/game.bin', size: GAME_BYTES }], seed: 13 });
    crowd = await startCrowd(net, work.dir, seedGames);
  }, 120_000);

  afterAll(async () => {
    await crowd?.stop();
    await net?.teardown();
    await work?.cleanup();
  }, 60_000);

  it('finishes byte-identically on every player, each having uploaded to the others', async () => {
    const room = crowd as Crowd;
    await waitUntilSeeSeed(room.downloaders, room.seed, GAME_ID, 60_000);
    const txBefore = room.downloaders.map((peer) => netDevCounters(peer.host.ns, peer.host.iface).tx);

    const outcomes = await downloadAtOnce(room.downloaders, GAME_ID, 240_000);

    expect(outcomes.filter((outcome) => outcome.error !== null)).toEqual([]);
    const expected = await archiveHashes(path.join(room.seed.gameDir, GAME_ID));
    for (const peer of room.downloaders) expect({ peer: peer.name, problems: await archiveDifferences(expected, path.join(peer.gameDir, GAME_ID)) }).toEqual({ peer: peer.name, problems: [] });
    const uploaded = room.downloaders.map((peer, index) => ({ peer: peer.name, txBytes: netDevCounters(peer.host.ns, peer.host.iface).tx - (txBefore[index] as number) }));
    console.info(`[flash-crowd-netns] bytes each player sent while downloading ${GAME_BYTES} bytes: ${uploaded.map((u) => `${u.peer} ${u.txBytes}`).join(', ')}`);
    const tooLittle = uploaded.filter((u) => u.txBytes < GAME_BYTES / 8);
    expect(tooLittle, `players that sent less than 1/8 of the game (${GAME_BYTES / 8} bytes), i.e. served no other player`).toEqual([]);
  }, 330_000);
});
