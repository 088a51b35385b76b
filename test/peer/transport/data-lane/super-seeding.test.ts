import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity, type PeerIdentity } from '../../../../src/main/peer/identity/identity';
import { decodeFrameBody, encodeFrame, FRAME_HEADER_BYTES } from '../../../../src/main/peer/protocol/codec';
import { MAX_REQUEST_BYTES } from '../../../../src/main/peer/protocol/messages';
import { DataLaneClient } from '../../../../src/main/peer/transport/data-lane/lane-client';
import { DataLaneServer } from '../../../../src/main/peer/transport/data-lane/lane-server';
import { laneClientOptions } from '../../../../src/main/peer/transport/data-lane/lane-tls';
import type { RequestHandler } from '../../../../src/main/peer/transport/types';
import { collector, fileBytes, memoryHandler, waitFor, type PayloadShape } from './lane-fixtures';

/**
 * Super-seeding on a real data-lane server with one upload slot. A peer serving a game whole
 * refuses to repeat a chunk it just sent to another peer until it has sent the whole game once.
 * A peer serving only part of it refuses a repeat only while a third peer waits for a chunk
 * nobody got yet; when every waiter asks for repeats, they are served.
 */
const CHUNK = 64 * 1024;
const file = fileBytes(8 * CHUNK, 11);
const at = (index: number) => ({ gameId: 'demo', path: 'data.bin', offset: index * CHUNK, length: CHUNK });

let dir: string;
let peers: PeerIdentity[];
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lanspread-superseed-'));
  peers = await Promise.all(['server', 'a', 'b', 'c', 'd', 'holder'].map((name) => loadOrCreateIdentity(path.join(dir, name))));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const [SERVER, A, B, C, D, HOLDER] = [0, 1, 2, 3, 4, 5];

/** The payload of chunk `held` waits for `open()`: whoever asks for it holds the only slot until then. */
function gated(held: number): { shape: PayloadShape; open(): void } {
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const shape: PayloadShape = async function* (bytes) {
    if (bytes.equals(file.subarray(held * CHUNK, (held + 1) * CHUNK))) await gate;
    yield bytes;
  };
  return { shape, open };
}

/** A server with one upload slot, which HOLDER holds (asking for chunk 7) until `open()`. */
async function startHeldServer(): Promise<{ port: number; holding: Promise<Buffer>; open(): void }> {
  const gate = gated(7);
  const { handler, calls } = memoryHandler(file, gate.shape);
  const port = await startServer(handler);
  expect((await fetchAs(port, A, 0)).equals(file.subarray(0, CHUNK))).toBe(true);
  expect((await fetchAs(port, A, 1)).equals(file.subarray(CHUNK, 2 * CHUNK))).toBe(true);
  const holding = fetchAs(port, HOLDER, 7);
  // The handler runs once a request has its slot.
  await waitFor(() => calls.some(({ request }) => request.type === 'GetChunk' && request.offset === 7 * CHUNK));
  return { port, holding, open: gate.open };
}

async function startServer(handler: RequestHandler, servedBytes?: (gameId: string) => number | undefined): Promise<number> {
  return (await startServerWith(handler, servedBytes)).port;
}

async function startServerWith(handler: RequestHandler, servedBytes?: (gameId: string) => number | undefined): Promise<{ port: number; server: DataLaneServer }> {
  const server = new DataLaneServer({ identity: peers[SERVER] as PeerIdentity, host: '127.0.0.1', port: 0, handler, uploadSlots: 1, queuedKeepAliveMs: 50, ...(servedBytes ? { servedBytes } : {}) });
  const { port } = await server.start();
  cleanups.push(() => server.stop());
  return { port, server };
}

function client(who: number): DataLaneClient {
  const lane = new DataLaneClient({ identity: peers[who] as PeerIdentity, connectTimeoutMs: 10_000, requestTimeoutMs: 15_000 });
  cleanups.push(() => lane.stop());
  return lane;
}

async function fetchAs(port: number, who: number, index: number): Promise<Buffer> {
  const sink = collector();
  await client(who).fetchChunk({ host: '127.0.0.1', dataPort: port, peerId: (peers[SERVER] as PeerIdentity).peerId }, at(index), sink.sink);
  return sink.bytes();
}

/**
 * Asks for one chunk on a raw connection and reports when the server says it is queued (its
 * keep-alive frame), and the first answer that is not that: the chunk's header or an error.
 */
async function askQueued(port: number, who: number, index: number): Promise<{ queued: Promise<void>; answer: Promise<{ type: string; code?: string }> }> {
  const socket: TLSSocket = connect(laneClientOptions({ host: '127.0.0.1', dataPort: port }, peers[who] as PeerIdentity));
  socket.on('error', () => undefined);
  cleanups.push(() => socket.destroy());
  await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
  let markQueued = () => {};
  const queued = new Promise<void>((resolve) => (markQueued = resolve));
  const answer = new Promise<{ type: string; code?: string }>((resolve, reject) => {
    let input = Buffer.alloc(0);
    socket.on('data', (piece: Buffer) => {
      input = Buffer.concat([input, piece]);
      while (input.byteLength >= FRAME_HEADER_BYTES) {
        const length = input.readUInt32BE(0);
        if (input.byteLength < FRAME_HEADER_BYTES + length) return;
        const frame = decodeFrameBody(input.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length)) as { type: string; code?: string };
        input = input.subarray(FRAME_HEADER_BYTES + length);
        if (frame.type === 'Queued') markQueued();
        else return resolve(frame);
      }
    });
    socket.once('close', () => reject(new Error('closed before an answer')));
  });
  socket.write(encodeFrame({ type: 'GetChunk', ...at(index) }, MAX_REQUEST_BYTES));
  return { queued, answer };
}

describe('super-seeding', () => {
  it('a game served whole: a repeat is refused, even with nobody waiting, until every byte went out once; then it is served', async () => {
    const port = await startServer(memoryHandler(file).handler, (gameId) => (gameId === 'demo' ? file.byteLength : undefined));
    expect((await fetchAs(port, A, 0)).equals(file.subarray(0, CHUNK))).toBe(true);
    const early = await askQueued(port, B, 0);
    expect(await early.answer).toMatchObject({ type: 'Error', code: 'CHUNK_NOT_AVAILABLE' });
    for (let index = 1; index < 8; index++) expect((await fetchAs(port, A, index)).equals(file.subarray(index * CHUNK, (index + 1) * CHUNK))).toBe(true);
    // The room holds all of it now: repeats go to whoever is behind.
    expect((await fetchAs(port, B, 0)).equals(file.subarray(0, CHUNK))).toBe(true);
    expect((await fetchAs(port, C, 5)).equals(file.subarray(5 * CHUNK, 6 * CHUNK))).toBe(true);
  });

  it('a game served whole: a chunk that went to a peer that has left the room is served again at once', async () => {
    const { port, server } = await startServerWith(memoryHandler(file).handler, (gameId) => (gameId === 'demo' ? file.byteLength : undefined));
    expect((await fetchAs(port, A, 0)).equals(file.subarray(0, CHUNK))).toBe(true);
    expect(await (await askQueued(port, B, 0)).answer).toMatchObject({ type: 'Error', code: 'CHUNK_NOT_AVAILABLE' });
    // A is gone before it passed chunk 0 on: only this peer can give it now.
    server.peerLeft((peers[A] as PeerIdentity).peerId);
    expect((await fetchAs(port, B, 0)).equals(file.subarray(0, CHUNK))).toBe(true);
  });

  it('refuses a repeat while another peer waits for a chunk nobody got yet, and that peer is served next', async () => {
    const { port, holding, open } = await startHeldServer();
    // B waits for chunk 0 (a repeat: A got it), then C for chunk 2 (nobody got it).
    const repeat = await askQueued(port, B, 0);
    await repeat.queued;
    const fresh = await askQueued(port, C, 2);
    await fresh.queued;
    open();
    expect(await repeat.answer).toMatchObject({ type: 'Error', code: 'CHUNK_NOT_AVAILABLE' });
    expect(await fresh.answer).toMatchObject({ type: 'ChunkHeader', length: CHUNK });
    expect((await holding).equals(file.subarray(7 * CHUNK))).toBe(true);
  });

  it('serves repeats when every waiting peer asks for one (the room already holds what this peer handed out)', async () => {
    const { port, holding, open } = await startHeldServer();
    // B and D each wait for a chunk A got.
    const first = await askQueued(port, B, 0);
    await first.queued;
    const second = await askQueued(port, D, 1);
    await second.queued;
    open();
    expect(await first.answer).toMatchObject({ type: 'ChunkHeader', length: CHUNK });
    expect(await second.answer).toMatchObject({ type: 'ChunkHeader', length: CHUNK });
    expect((await holding).equals(file.subarray(7 * CHUNK))).toBe(true);
  });
});
