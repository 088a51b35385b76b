import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../../src/main/peer/protocol/codec';
import { MAX_REQUEST_BYTES } from '../../../../src/main/peer/protocol/messages';
import { laneClientOptions } from '../../../../src/main/peer/transport/data-lane/lane-tls';
import type { LanspreadError } from '../../../../src/shared/errors';
import { killCliPeers, makeWorkDir, seedGames, spawnCliPeer, startTestPeer, waitFor, type CliPeer, type TestPeer } from '../../../support/runtime-harness';
import { createIdentities, type Identities } from './lane-fixtures';

/**
 * Hostile lane clients against a real peer (#15 items 5 and 6): readers that take a trickle of a
 * streamed install, and many connections that ask for data and never read. Each while a
 * well-behaved peer is served. Bounded loops and generous bounds, no timing asserts.
 */
const GAME = 'demo-arena';
const MIB = 1024 * 1024;

let ids: Identities;
const cleanups: Array<() => unknown> = [];
const children: CliPeer[] = [];

beforeAll(async () => {
  ids = await createIdentities();
});
afterAll(async () => ids.cleanup());
afterEach(async () => {
  await killCliPeers(children);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TLS lane connection with a certificate of its own, through its handshake, reading nothing yet. */
async function laneConnection(dataPort: number): Promise<TLSSocket> {
  const socket = connect(laneClientOptions({ host: '127.0.0.1', dataPort }, ids.stranger));
  socket.on('error', () => undefined);
  cleanups.push(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('close', () => reject(new Error('lane connection closed before its handshake')));
  });
  socket.pause();
  return socket;
}

/** Asks for a streamed install and then reads one byte every 300 ms: the slow-loris of readers. */
async function trickleReader(dataPort: number, version: string): Promise<{ got(): number }> {
  const socket = await laneConnection(dataPort);
  socket.write(encodeFrame({ type: 'StreamInstall', gameId: GAME, version }, MAX_REQUEST_BYTES));
  let got = 0;
  const timer = setInterval(() => {
    const piece = socket.read(1) as Buffer | null;
    if (piece) got += piece.byteLength;
  }, 300);
  cleanups.push(() => clearInterval(timer));
  return { got: () => got };
}

function dataPortOf(receiver: TestPeer, seedId: string): number {
  const port = receiver.runtime.peers().find((record) => record.info.peerId === seedId)?.info.dataPort;
  if (port === undefined) throw new Error('the seed announced no data lane');
  return port;
}

describe('data lane against hostile peers', () => {
  it('two readers taking a trickle of a streamed install lose their slots at the write deadline; a well-behaved peer gets its streamed install', async () => {
    const work = await makeWorkDir('lane-trickle');
    cleanups.push(work.cleanup);
    // Far more than loopback's socket buffers hold, so a reader that does not keep up holds a
    // write; the write deadline is shortened for the test (2 s, or 512 KiB/s for a Data frame).
    const spec = { id: GAME, version: '2.0', files: [{ path: 'bin/game.bin', size: 48 * MIB }], seed: 3 };
    const seed = await startTestPeer(work.dir, 'seed', { catalogIds: [GAME], games: [spec], laneTuning: { writeStallMs: 2_000, minWriteRate: 512 * 1024 } });
    cleanups.push(() => seed.stop());
    const receiver = await startTestPeer(work.dir, 'receiver', { catalogIds: [GAME], manualPeers: [`127.0.0.1:${seed.runtime.port}`] });
    cleanups.push(() => receiver.stop());
    await waitFor(() => receiver.runtime.remoteGames().get(GAME)?.sources.length === 1, 20_000, 'the receiver to see the seed');
    const dataPort = dataPortOf(receiver, seed.runtime.peerId);

    // Both streamed-install slots (two per peer) taken by readers whose streams began.
    const trickles = [];
    for (let i = 0; i < 2; i++) {
      const trickle = await trickleReader(dataPort, spec.version);
      await waitFor(() => trickle.got() > 0, 20_000, 'a trickle reader to get its first byte');
      trickles.push(trickle);
    }

    // The well-behaved peer asks until it is served: refusals may only be PEER_BUSY.
    const refusals: string[] = [];
    let report = null;
    for (let attempt = 0; attempt < 60 && report === null; attempt++) {
      report = await receiver.runtime.streamInstall(GAME).catch((error: LanspreadError) => {
        refusals.push(error.code);
        return null;
      });
      if (report === null) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(report, `refused ${refusals.join(', ')}`).not.toBeNull();
    expect(refusals.filter((code) => code !== 'PEER_BUSY')).toEqual([]);
    expect((await stat(path.join(receiver.gameDir, GAME, 'local', 'bin', 'game.bin'))).size).toBe(48 * MIB);
    // The trickle readers got a sliver of the stream, nothing like the game.
    for (const trickle of trickles) expect(trickle.got()).toBeLessThan(MIB);
  }, 120_000);

  it('200 lane connections that ask for a chunk and never read keep the seed process within a bounded RSS; a well-behaved peer downloads meanwhile', async () => {
    const work = await makeWorkDir('lane-memory');
    cleanups.push(work.cleanup);
    const seedDir = path.join(work.dir, 'seed');
    // The hostile connections ask for the whole of a big game (16 MiB, more than loopback's socket
    // buffers take), the well-behaved peer downloads a small one.
    const SMALL = 'quake-3-arena';
    const games = await seedGames(path.join(seedDir, 'games'), [
      { id: GAME, version: '1.0', files: [{ path: 'bin/game.bin', size: 16 * MIB }], seed: 4 },
      { id: SMALL, version: '1.0', files: [{ path: 'baseq3/pak0.pk3', size: 512 * 1024 }], seed: 5 },
    ]);
    const archive = games.get(GAME)?.archives[0] ?? '';
    const archiveBytes = (await stat(archive)).size;
    // The seed is a child process of its own, so its RSS is its own (not this test runner's).
    const seed = await spawnCliPeer(['serve', '--game-dir', path.join(seedDir, 'games'), '--state-dir', path.join(seedDir, 'state'), '--host', '127.0.0.1', '--no-mdns', '--name', 'seed']);
    children.push(seed);
    const pid = seed.child.pid as number;
    const receiver = await startTestPeer(work.dir, 'receiver', { catalogIds: [GAME, SMALL], manualPeers: [`127.0.0.1:${seed.port}`] });
    cleanups.push(() => receiver.stop());
    await waitFor(() => receiver.runtime.remoteGames().get(SMALL)?.sources.length === 1 && receiver.runtime.remoteGames().get(GAME)?.sources.length === 1, 30_000, 'the receiver to see the seed');
    const dataPort = dataPortOf(receiver, seed.peerId);

    const before = rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 100);
    cleanups.push(() => clearInterval(sampler));

    // In batches, so the handshakes in flight stay under the per-address cap of unauthenticated connections.
    const hostile: TLSSocket[] = [];
    for (let batch = 0; batch < 200 / 20; batch++) {
      const opened = await Promise.all(Array.from({ length: 20 }, () => laneConnection(dataPort)));
      const request = { type: 'GetChunk', gameId: GAME, path: path.basename(archive), offset: 0, length: Math.min(archiveBytes, 16 * MIB) };
      for (const socket of opened) socket.write(encodeFrame(request, MAX_REQUEST_BYTES));
      hostile.push(...opened);
    }

    const startedAt = performance.now();
    await receiver.runtime.download(SMALL);
    const tookSeconds = (performance.now() - startedAt) / 1000;
    expect((await stat(path.join(receiver.gameDir, SMALL, 'local', 'baseq3', 'pak0.pk3'))).size).toBe(512 * 1024);
    peak = Math.max(peak, rssBytes(pid));
    clearInterval(sampler);
    console.log(`seed RSS ${Math.round(before / MIB)} MiB before 200 non-reading connections, peak ${Math.round(peak / MIB)} MiB; the well-behaved download took ${tookSeconds.toFixed(1)} s`);
    // Before upload slots and the write deadline: about 3 MB per connection (600 MB for 200).
    expect(peak - before).toBeLessThan(200 * MIB);
    expect(seed.child.exitCode).toBeNull();
    for (const socket of hostile) socket.destroy();
  }, 300_000);
});

/** Resident set size of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}
