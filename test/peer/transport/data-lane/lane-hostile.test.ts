import { connect as connectTcp, type Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataLaneClient } from '../../../../src/main/peer/transport/data-lane/lane-client';
import { DataLaneServer } from '../../../../src/main/peer/transport/data-lane/lane-server';
import { laneClientOptions } from '../../../../src/main/peer/transport/data-lane/lane-tls';
import { encodeFrame } from '../../../../src/main/peer/protocol/codec';
import { MAX_REQUEST_BYTES } from '../../../../src/main/peer/protocol/messages';
import type { Identities } from './lane-fixtures';
import { collector, createIdentities, fileBytes, memoryHandler, waitFor } from './lane-fixtures';

/**
 * Hostile clients against a real data-lane server on loopback (#15 items 3 and 4), each while a
 * well-behaved peer is served. Bounded loops, loopback only, no timing asserts: the waits are
 * generous bounds on things that must happen at all.
 */
let ids: Identities;
const cleanups: Array<() => unknown> = [];
const file = fileBytes(256 * 1024);

beforeAll(async () => {
  ids = await createIdentities();
});
afterAll(async () => ids.cleanup());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(extra: Partial<ConstructorParameters<typeof DataLaneServer>[0]> = {}): Promise<number> {
  const server = new DataLaneServer({ identity: ids.server, host: '127.0.0.1', port: 0, handler: memoryHandler(file).handler, ...extra });
  const { port } = await server.start();
  cleanups.push(() => server.stop());
  return port;
}

/** A real peer fetching one chunk: resolves with its bytes. */
async function honestFetch(port: number): Promise<Buffer> {
  const client = new DataLaneClient({ identity: ids.client, connectTimeoutMs: 10_000, requestTimeoutMs: 15_000 });
  cleanups.push(() => client.stop());
  const sink = collector();
  await client.fetchChunk({ host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId }, { gameId: 'demo', path: 'data.bin', offset: 0, length: file.byteLength }, sink.sink);
  return sink.bytes();
}

function openIdle(port: number, count: number): Socket[] {
  return Array.from({ length: count }, () => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.on('error', () => undefined);
    return socket;
  });
}

function closed(socket: Socket): boolean {
  return socket.destroyed || socket.closed;
}

/** A lane client that asks for the whole of `bytes` (more than the socket buffers hold) and reads nothing. */
async function askAndNeverRead(port: number, bytes: Buffer): Promise<TLSSocket> {
  const stuck = connect(laneClientOptions({ host: '127.0.0.1', dataPort: port }, ids.stranger));
  stuck.on('error', () => undefined);
  cleanups.push(() => stuck.destroy());
  await new Promise<void>((resolve) => stuck.once('secureConnect', () => resolve()));
  stuck.pause();
  stuck.write(encodeFrame({ type: 'GetChunk', gameId: 'demo', path: 'data.bin', offset: 0, length: bytes.byteLength }, MAX_REQUEST_BYTES));
  await new Promise((resolve) => setTimeout(resolve, 200));
  return stuck;
}

/** A real peer fetching the first MiB from the server's only slot, which a non-reader holds. */
async function fetchFirstMiB(port: number, bytes: Buffer): Promise<void> {
  const client = new DataLaneClient({ identity: ids.client, connectTimeoutMs: 10_000, requestTimeoutMs: 15_000 });
  cleanups.push(() => client.stop());
  const sink = collector();
  await client.fetchChunk({ host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId }, { gameId: 'demo', path: 'data.bin', offset: 0, length: 1024 * 1024 }, sink.sink);
  expect(sink.bytes().equals(bytes.subarray(0, 1024 * 1024))).toBe(true);
}

/** The server hung up on it: reading again finds the end long before all it asked for. */
async function expectHungUp(stuck: TLSSocket, asked: number): Promise<void> {
  let got = 0;
  stuck.on('data', (piece: Buffer) => void (got += piece.byteLength));
  stuck.resume();
  await waitFor(() => closed(stuck), 20_000);
  expect(got).toBeLessThan(asked);
}

describe('data lane against hostile clients', () => {
  it('TCP connects that never start TLS are capped per address, oldest dropped first; a real peer is served meanwhile', async () => {
    // A deadline far off: only the cap can close them within the wait below.
    const port = await startServer({ handshakeTimeoutMs: 120_000, maxUnauthenticatedPerAddress: 32 });
    const idle = openIdle(port, 300);
    await waitFor(() => idle.filter(closed).length >= 300 - 32, 20_000);
    expect(idle.slice(-32).some(closed)).toBe(false);
    // The newest (ours) is never the one dropped: the honest peer gets through while the flood is there.
    expect((await honestFetch(port)).equals(file)).toBe(true);
    for (const socket of idle) socket.destroy();
  });

  it('a TCP connect that never starts TLS is dropped at the handshake deadline', async () => {
    const port = await startServer({ handshakeTimeoutMs: 1_000 });
    const idle = openIdle(port, 20);
    await waitFor(() => idle.every(closed), 20_000);
    expect((await honestFetch(port)).equals(file)).toBe(true);
  });

  it('a peer that asks and then reads nothing loses its upload slot at the write deadline; the peer waiting for that only slot is served', async () => {
    const big = fileBytes(16 * 1024 * 1024, 3);
    const port = await startServer({ handler: memoryHandler(big).handler, uploadSlots: 1, writeStallMs: 1_000, minWriteRate: 64 * 1024 * 1024 });
    const stuck = await askAndNeverRead(port, big);
    await fetchFirstMiB(port, big);
    await expectHungUp(stuck, big.byteLength);
  });

  it('while another peer waits for the slot, the rate floor gives a non-reading holder no longer than the write deadline', async () => {
    const big = fileBytes(16 * 1024 * 1024, 4);
    // A floor of 1 KiB/s would give a 1 MiB piece 17 minutes: meant for a reader behind a download cap, not for one that holds a slot others wait for.
    const port = await startServer({ handler: memoryHandler(big).handler, uploadSlots: 1, writeStallMs: 1_000, minWriteRate: 1024 });
    const stuck = await askAndNeverRead(port, big);
    await fetchFirstMiB(port, big);
    await expectHungUp(stuck, big.byteLength);
  }, 60_000);

  it('a request frame that trickles in byte by byte is cut off by the frame deadline; a real peer is served meanwhile', async () => {
    const port = await startServer({ requestFrameDeadlineMs: 1_000 });
    const socket = connect(laneClientOptions({ host: '127.0.0.1', dataPort: port }, ids.stranger));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    let sent = 0;
    // A length prefix announcing 200 bytes, then one byte every 300 ms (each keeps the idle timer alive).
    socket.write(Buffer.from([0, 0, 0, 200]));
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(Buffer.from('x'), () => void sent++);
    }, 300);
    try {
      expect((await honestFetch(port)).equals(file)).toBe(true);
      await waitFor(() => closed(socket), 20_000);
      expect(sent).toBeLessThan(200);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });
});
