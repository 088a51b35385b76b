import { open, readFile, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LanspreadError } from '../../../src/shared/errors';
import type { GameManifest } from '../../../src/shared/model';
import { loadOrCreateIdentity, type PeerIdentity } from '../../../src/main/peer/identity/identity';
import { manifestId } from '../../../src/main/peer/protocol/manifest-id';
import type { HaveEndReason } from '../../../src/main/peer/protocol/have';
import { HaveSubscription } from '../../../src/main/peer/swarm/have-subscription';
import { DataLaneClient, type LaneTarget } from '../../../src/main/peer/transport/data-lane/lane-client';
import { silentLogger } from '../../../src/main/peer/util/logger';
import { waitFor, type GameSpec, type TestPeer } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

const IDS = ['demo-arena'];
/** 32 chunks of 64 KiB (the test peers' chunk size) plus version.ini. */
const GAME: GameSpec = { id: 'demo-arena', version: '1.0', files: [{ path: 'data/game.bin', size: 2 * 1024 * 1024 }], seed: 21 };
const CHUNK = 64 * 1024;
/** 16 chunks plus the archive's headers and version.ini. */
const SMALL_GAME: GameSpec = { ...GAME, files: [{ path: 'data/game.bin', size: 1024 * 1024 }] };

async function fileCrc(file: string): Promise<number> {
  return crc32(await readFile(file)) >>> 0;
}

/** Byte-for-byte the seed's archive and version.ini. */
async function expectSameGame(peer: TestPeer, seed: TestPeer): Promise<void> {
  for (const file of ['demo-arena.rar', 'version.ini']) {
    expect(await fileCrc(path.join(peer.gameDir, 'demo-arena', file)), `${file} of ${peer.runtime.displayName}`).toBe(await fileCrc(path.join(seed.gameDir, 'demo-arena', file)));
  }
}

/** Where `peer`'s data lane is, as `viewer` knows it. */
function laneOf(viewer: TestPeer, peer: TestPeer): LaneTarget {
  const info = viewer.runtime.peers().find((record) => record.info.peerId === peer.runtime.peerId)?.info;
  if (info?.dataPort === undefined) throw new Error(`${viewer.runtime.displayName} does not know the lane of ${peer.runtime.displayName}`);
  return { host: info.host, dataPort: info.dataPort, peerId: info.peerId };
}

function announcesPartial(viewer: TestPeer, peer: TestPeer): boolean {
  return viewer.runtime.peers().some((record) => record.info.peerId === peer.runtime.peerId && record.games.some((game) => game.id === 'demo-arena' && game.partial === true));
}

/** A test client speaking the real protocol: have subscriptions and chunk requests with its own identity. */
async function observer(dir: string): Promise<{ identity: PeerIdentity; lane: DataLaneClient; watch(target: LaneTarget, manifest: GameManifest): HaveSubscription; stop(): void }> {
  const identity = await loadOrCreateIdentity(path.join(dir, 'observer'));
  const lane = new DataLaneClient({ identity, connectTimeoutMs: 5_000, requestTimeoutMs: 15_000 });
  const subscriptions: HaveSubscription[] = [];
  return {
    identity,
    lane,
    watch(target, manifest) {
      const chunks = manifest.files.reduce((sum, file) => sum + file.chunkHashes.length, 0);
      const subscription = new HaveSubscription(target, manifest.gameId, manifestId(manifest), chunks, { identity, connectTimeoutMs: 5_000, idleTimeoutMs: 30_000, retryMs: 100, logger: silentLogger });
      subscriptions.push(subscription);
      subscription.start();
      return subscription;
    },
    stop() {
      for (const subscription of subscriptions) subscription.close();
      lane.stop();
    },
  };
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  return work.then(
    () => 'resolved',
    (error: unknown) => (error as LanspreadError).code ?? String(error),
  );
}

describe('swarming between real peers (QUIC control plane, TLS data lane)', () => {
  const peers = useTestPeers('swarm');

  /** A seed and `count` downloaders that all know each other. */
  async function room(count: number, options: { seedUpload: number; downloaderUpload?: number; downloaderDownload?: number }, game = GAME): Promise<{ seed: TestPeer; downloaders: TestPeer[] }> {
    const seed = await peers.start('seed', { catalogIds: IDS, games: [game], uploadLimitBytesPerSec: options.seedUpload });
    const downloaders: TestPeer[] = [];
    for (let i = 0; i < count; i++) {
      const known = [seed, ...downloaders].map((peer) => `127.0.0.1:${peer.runtime.port}`);
      downloaders.push(
        await peers.start(`player${i}`, {
          catalogIds: IDS,
          manualPeers: known,
          ...(options.downloaderUpload ? { uploadLimitBytesPerSec: options.downloaderUpload } : {}),
          ...(options.downloaderDownload ? { downloadLimitBytesPerSec: options.downloaderDownload } : {}),
        }),
      );
    }
    // Every downloader sees the seed's game and every other downloader (Hellos go both ways).
    for (const player of downloaders) {
      await waitFor(() => player.runtime.remoteGames().get('demo-arena')?.sources.length === 1, 20_000, `${player.runtime.displayName} sees the seed`);
      await waitFor(() => player.runtime.getPeerCount() === count, 20_000, `${player.runtime.displayName} knows the room`);
    }
    return { seed, downloaders };
  }

  it('four downloaders finish from each other after the seed leaves as soon as they hold every chunk between them', async () => {
    // Slow links (a shaped LAN in miniature): while the seed sends each chunk about once, each
    // downloader receives about half the game (a quarter of the seed's uplink plus what the others
    // pass on), so nobody is complete when the seed leaves.
    const { seed, downloaders } = await room(4, { seedUpload: 128 * 1024, downloaderUpload: 40 * 1024 }, SMALL_GAME);
    const manifest = (await downloaders[0]!.runtime.getGame('demo-arena')).manifest;
    const total = manifest.files.reduce((sum, file) => sum + file.chunkHashes.length, 0);
    const watcher = await observer(peers.dir);
    try {
      const downloads = downloaders.map((player) => player.runtime.download('demo-arena', { install: false }));
      const settled = Promise.allSettled(downloads);
      for (const player of downloaders) await waitFor(() => announcesPartial(seed, player), 20_000, `${player.runtime.displayName} announces a partial copy`);
      const haves = downloaders.map((player) => watcher.watch(laneOf(seed, player), manifest));
      const union = () => {
        let held = 0;
        for (let id = 0; id < total; id++) if (haves.some((have) => have.has(id))) held++;
        return held;
      };
      await waitFor(() => union() === total, 60_000, 'the downloaders to hold every chunk between them');
      const heldWhenSeedLeft = haves.map((have) => have.held);
      await peers.stop(seed);
      // The precondition of the test: nobody had it all when the seed left.
      expect(Math.max(...heldWhenSeedLeft)).toBeLessThan(total);

      const outcomes = await settled;
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      for (const player of downloaders) await expectSameGame(player, seed);
      // Each of them passed pieces on to the others.
      for (const player of downloaders) expect(player.runtime.uploadedBytes(), player.runtime.displayName).toBeGreaterThan(0);
      const reports = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<Awaited<(typeof downloads)[number]>>).value);
      for (const report of reports) expect(report.sources.some((source) => source.partial && source.bytes > 0)).toBe(true);
    } finally {
      watcher.stop();
    }
  });

  /** One player downloading slowly from one seed, its have-map watched by a test client, once it holds `chunks` chunks. */
  async function slowPartial(chunks: number) {
    const { seed, downloaders } = await room(1, { seedUpload: 96 * 1024 });
    const [player] = downloaders as [TestPeer];
    const manifest = (await player.runtime.getGame('demo-arena')).manifest;
    const watcher = await observer(peers.dir);
    const download = player.runtime.download('demo-arena', { install: false });
    try {
      await waitFor(() => announcesPartial(seed, player), 20_000, 'the partial announcement');
      const target = laneOf(seed, player);
      const have = watcher.watch(target, manifest);
      await waitFor(() => have.held >= chunks, 30_000, `${chunks} verified chunk(s)`);
      return { seed, player, manifest, watcher, download, target, have };
    } catch (error) {
      watcher.stop();
      throw error;
    }
  }

  it('a partial peer serves only chunks it has verified: any other is CHUNK_NOT_AVAILABLE, never wrong bytes', async () => {
    const { seed, player, manifest, watcher, download, target, have } = await slowPartial(2);
    try {
      const archive = manifest.files.find((file) => file.path === 'demo-arena.rar')!;
      const archiveFirst = manifest.files.slice(0, manifest.files.indexOf(archive)).reduce((sum, file) => sum + file.chunkHashes.length, 0);
      const heldIndex = archive.chunkHashes.findIndex((_, i) => have.has(archiveFirst + i));
      const missingIndex = archive.chunkHashes.findIndex((_, i) => !have.has(archiveFirst + i));
      expect(heldIndex).toBeGreaterThanOrEqual(0);
      expect(missingIndex).toBeGreaterThanOrEqual(0);
      const ask = (offset: number, length: number) => {
        const pieces: Uint8Array[] = [];
        return watcher.lane.fetchChunk(target, { gameId: 'demo-arena', path: archive.path, offset, length }, (piece) => void pieces.push(Buffer.from(piece))).then(() => Buffer.concat(pieces));
      };
      const chunkLength = (index: number) => Math.min(CHUNK, archive.size - index * CHUNK);
      // A verified chunk: exactly the seed's bytes.
      const bytes = await ask(heldIndex * CHUNK, chunkLength(heldIndex));
      const seedArchive = await readFile(path.join(seed.gameDir, 'demo-arena', archive.path));
      expect(bytes.equals(seedArchive.subarray(heldIndex * CHUNK, heldIndex * CHUNK + chunkLength(heldIndex)))).toBe(true);
      // One it does not hold yet (it may be fetching it right now), part of a chunk, and local/: refused.
      expect(await codeOf(ask(missingIndex * CHUNK, chunkLength(missingIndex)))).toBe('CHUNK_NOT_AVAILABLE');
      expect(await codeOf(ask(heldIndex * CHUNK + 1, 100))).toBe('CHUNK_NOT_AVAILABLE');
      const local = await codeOf(watcher.lane.fetchChunk(target, { gameId: 'demo-arena', path: 'local/game.bin', offset: 0, length: 1 }, () => undefined));
      expect(['CHUNK_NOT_AVAILABLE', 'PATH_FORBIDDEN']).toContain(local);
      player.runtime.cancelDownload('demo-arena');
      await download.catch(() => undefined);
    } finally {
      watcher.stop();
    }
  });

  it('cancel on a partial peer withdraws it at once: subscribers hear it and its chunks are refused', async () => {
    const { seed, player, manifest, watcher, download, target, have } = await slowPartial(1);
    try {
      const ended = new Promise<HaveEndReason>((resolve) => have.onEnd(resolve));
      const held = manifest.files[0]!.chunkHashes.findIndex((_, i) => have.has(i));
      const heldFile = manifest.files[0]!;
      expect(player.runtime.cancelDownload('demo-arena')).toBe(true);
      expect(await ended).toBe('withdrawn');
      const refused = await codeOf(
        watcher.lane.fetchChunk(target, { gameId: 'demo-arena', path: heldFile.path, offset: Math.max(0, held) * CHUNK, length: Math.min(CHUNK, heldFile.size - Math.max(0, held) * CHUNK) }, () => undefined),
      );
      expect(['GAME_NOT_SERVED', 'CHUNK_NOT_AVAILABLE']).toContain(refused);
      await expect(download).rejects.toMatchObject({ code: 'REQUEST_CANCELLED' });
      await waitFor(() => !announcesPartial(seed, player), 10_000, 'the partial announcement to go');
    } finally {
      watcher.stop();
    }
  });

  it('a relay that serves a chunk with a wrong SHA-256 is detected and dropped, and the chunk is fetched again from the seed', async () => {
    const seed = await peers.start('seed', { catalogIds: IDS, games: [GAME], uploadLimitBytesPerSec: 512 * 1024 });
    // The relay downloads slowly and serves what it has, after its disk rotted under it.
    const relay = await peers.start('relay', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`], downloadLimitBytesPerSec: 128 * 1024 });
    await waitFor(() => relay.runtime.remoteGames().get('demo-arena')?.sources.length === 1, 20_000, 'relay sees the seed');
    const manifest = (await relay.runtime.getGame('demo-arena')).manifest;
    const watcher = await observer(peers.dir);
    try {
      const relayDownload = relay.runtime.download('demo-arena', { install: false }).catch(() => undefined);
      await waitFor(() => announcesPartial(seed, relay), 20_000, 'the relay announces a partial copy');
      const have = watcher.watch(laneOf(seed, relay), manifest);
      await waitFor(() => have.held >= 6, 30_000, 'the relay to hold six chunks');
      const archive = manifest.files.findIndex((file) => file.path === 'demo-arena.rar');
      const first = manifest.files.slice(0, archive).reduce((sum, file) => sum + file.chunkHashes.length, 0);
      const file = path.join(relay.gameDir, 'demo-arena', 'demo-arena.rar');
      const before = await stat(file);
      const handle = await open(file, 'r+');
      try {
        for (let i = 0; i < manifest.files[archive]!.chunkHashes.length; i++) if (have.has(first + i)) await handle.write(Buffer.from('ROT'), 0, 3, i * CHUNK + 10);
      } finally {
        await handle.close();
      }
      await utimes(file, before.atime, before.mtime);

      const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`, `127.0.0.1:${relay.runtime.port}`] });
      await waitFor(() => announcesPartial(player, relay) && player.runtime.remoteGames().get('demo-arena')?.sources.length === 2, 20_000, 'player sees seed and relay');
      const report = await player.runtime.download('demo-arena', { install: false });
      const relayReport = report.sources.find((source) => source.peerId === relay.runtime.peerId);
      expect(relayReport).toMatchObject({ partial: true });
      expect(relayReport!.badChunks).toBeGreaterThanOrEqual(1);
      expect(relayReport!.lastError?.code).toBe('CHUNK_HASH_MISMATCH');
      if (relayReport!.badChunks >= 3) expect(relayReport!.droppedFor?.code).toBe('CHUNK_HASH_MISMATCH');
      await expectSameGame(player, seed);
      relay.runtime.cancelDownload('demo-arena');
      await relayDownload;
    } finally {
      watcher.stop();
    }
  });

  it('a peer that starts downloading tells the room at once: others list it as a partial source without waiting for a ping', async () => {
    // Pings once a minute: only the announcement can make the seed re-list the player within the wait below.
    const slowPings = { pingIntervalMs: 60_000, pingTimeoutMs: 5_000, pruneAfterMs: 180_000, manualRetryMs: 500, requestTimeoutMs: 10_000 };
    const seed = await peers.start('seed', { catalogIds: IDS, games: [GAME], uploadLimitBytesPerSec: 64 * 1024, timings: slowPings });
    const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`], timings: slowPings });
    await waitFor(() => player.runtime.remoteGames().get('demo-arena')?.sources.length === 1, 20_000, 'player sees the seed');
    await waitFor(() => seed.runtime.peers().some((record) => record.info.peerId === player.runtime.peerId), 20_000, 'seed knows the player');
    const download = player.runtime.download('demo-arena', { install: false });
    await waitFor(() => announcesPartial(seed, player), 10_000, 'the seed to list the player as partial');
    player.runtime.cancelDownload('demo-arena');
    await download.catch(() => undefined);
    await waitFor(() => !announcesPartial(seed, player), 10_000, 'the seed to hear the partial copy is gone');
  });

  it('never mixes two peers that announce the same version with different bytes', async () => {
    const first = await peers.start('first', { catalogIds: IDS, games: [GAME] });
    const second = await peers.start('second', { catalogIds: IDS, games: [{ ...GAME, seed: 99 }] });
    const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${first.runtime.port}`, `127.0.0.1:${second.runtime.port}`] });
    await waitFor(
      () => player.runtime.peers().filter((record) => record.games.some((game) => game.id === 'demo-arena' && game.manifestId !== undefined)).length === 2,
      20_000,
      'both manifests announced',
    );
    const ids = new Set(player.runtime.peers().map((record) => record.games.find((game) => game.id === 'demo-arena')?.manifestId));
    expect(ids.size).toBe(2);
    expect(player.runtime.remoteGames().get('demo-arena')?.manifestConflict).toBe(true);
    const report = await player.runtime.download('demo-arena', { install: false });
    const used = report.sources.filter((source) => source.bytes > 0).map((source) => source.peerId);
    expect(used).toHaveLength(1);
    const from = used[0] === first.runtime.peerId ? first : second;
    expect(report.sources.map((source) => source.peerId)).toEqual([from.runtime.peerId]);
    await expectSameGame(player, from);
  });
});
