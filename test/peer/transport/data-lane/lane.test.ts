import { connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataLaneClient } from '../../../../src/main/peer/transport/data-lane/lane-client';
import { DataLaneServer } from '../../../../src/main/peer/transport/data-lane/lane-server';
import type { PeerIdentity } from '../../../../src/main/peer/identity/identity';
import { RateLimiter } from '../../../../src/main/peer/bandwidth/rate-limiter';
import type { RequestHandler } from '../../../../src/main/peer/transport/types';
import type { Identities } from './lane-fixtures';
import { codeOf, collector, createIdentities, fileBytes, memoryHandler, piecewise, waitFor } from './lane-fixtures';

const FILE = fileBytes(8 * 1024 * 1024);

let ids: Identities;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  ids = await createIdentities();
});
afterAll(async () => {
  await ids.cleanup();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(handler: RequestHandler, extra: { idleTimeoutMs?: number } = {}): Promise<{ server: DataLaneServer; port: number }> {
  const server = new DataLaneServer({ identity: ids.server, host: '127.0.0.1', port: 0, handler, ...extra });
  cleanups.push(() => server.stop());
  const { port } = await server.start();
  return { server, port };
}

function startClient(extra: Partial<ConstructorParameters<typeof DataLaneClient>[0]> = {}): DataLaneClient {
  const client = new DataLaneClient({ identity: ids.client, connectTimeoutMs: 10_000, requestTimeoutMs: 20_000, ...extra });
  cleanups.push(() => client.stop());
  return client;
}

/** A bare TLS client: sends raw bytes and returns everything the server sent before closing. */
function rawExchange(port: number, identity: PeerIdentity | null, bytes: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const socket = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      ...(identity ? { key: identity.keyPem, cert: identity.certPem } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('server did not close the connection'));
    }, 20_000);
    socket.on('secureConnect', () => socket.write(bytes));
    socket.on('data', (data: Buffer) => received.push(data));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
  });
}

function frame(json: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(json));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.byteLength);
  return Buffer.concat([header, body]);
}

function firstFrame(bytes: Buffer): { type: string; code?: string } {
  const length = bytes.readUInt32BE(0);
  return JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as { type: string; code?: string };
}

const chunk = (offset: number, length: number) => ({ gameId: 'demo', path: 'data.bin', offset, length });

describe('DataLane', () => {
  it('round-trips many pipelined chunks byte-exact over two connections', async () => {
    const { handler, calls } = memoryHandler(FILE, piecewise(48 * 1024));
    const { port } = await startServer(handler);
    const client = startClient({ connectionsPerPeer: 2, maxInFlightPerConnection: 4 });
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const chunkSize = 100_003; // odd size: pieces straddle TLS records and frame boundaries
    const jobs = [];
    for (let offset = 0; offset < FILE.byteLength; offset += chunkSize) {
      const length = Math.min(chunkSize, FILE.byteLength - offset);
      const sink = collector();
      jobs.push(client.fetchChunk(target, chunk(offset, length), sink.sink).then(() => ({ offset, length, sink })));
    }
    const done = await Promise.all(jobs);
    for (const { offset, length, sink } of done) {
      expect(sink.bytes().equals(FILE.subarray(offset, offset + length))).toBe(true);
    }
    expect(done.length).toBeGreaterThan(80);
    expect(client.connectionCount(ids.server.peerId)).toBe(2);
    expect(new Set(calls.map((call) => call.context.remotePort)).size).toBe(2);
    expect(calls.every((call) => call.context.remotePeerId === ids.client.peerId)).toBe(true);
  });

  it('pauses reading while a sink pushes back and loses no byte of the pipelined chunks', async () => {
    const { handler } = memoryHandler(FILE, piecewise(256 * 1024));
    const { port } = await startServer(handler);
    const client = startClient({ connectionsPerPeer: 1, maxInFlightPerConnection: 4 });
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const chunkSize = 1_000_003;
    let waits = 0;
    const jobs = [];
    for (let offset = 0; offset < FILE.byteLength; offset += chunkSize) {
      const length = Math.min(chunkSize, FILE.byteLength - offset);
      const pieces: Buffer[] = [];
      // Every third piece makes the connection wait (as a busy disk does).
      const sink = (piece: Uint8Array) => {
        pieces.push(Buffer.from(piece));
        if (pieces.length % 3 !== 0) return undefined;
        waits += 1;
        return new Promise<void>((resolve) => setTimeout(resolve, 1));
      };
      jobs.push(client.fetchChunk(target, chunk(offset, length), sink).then(() => ({ offset, length, bytes: Buffer.concat(pieces) })));
    }
    for (const { offset, length, bytes } of await Promise.all(jobs)) expect(bytes.equals(FILE.subarray(offset, offset + length))).toBe(true);
    expect(waits).toBeGreaterThan(10);
  });

  it('does not count our own wait on a slow sink as the peer being silent', async () => {
    const { handler } = memoryHandler(FILE);
    const { port } = await startServer(handler);
    const client = startClient({ connectionsPerPeer: 1, requestTimeoutMs: 200 });
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    let first = true;
    const pieces: Buffer[] = [];
    const sink = (piece: Uint8Array) => {
      pieces.push(Buffer.from(piece));
      if (!first) return undefined;
      first = false;
      return new Promise<void>((resolve) => setTimeout(resolve, 600));
    };
    await client.fetchChunk(target, chunk(0, 2 * 1024 * 1024), sink);
    expect(Buffer.concat(pieces).equals(FILE.subarray(0, 2 * 1024 * 1024))).toBe(true);
  });

  it('fails only the request whose sink failed with its code; the others get PEER_GONE', async () => {
    const { handler } = memoryHandler(FILE, piecewise(64 * 1024, 5));
    const { port } = await startServer(handler);
    const client = startClient({ connectionsPerPeer: 1, maxInFlightPerConnection: 4 });
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const failing = client.fetchChunk(target, chunk(0, 1024 * 1024), async () => Promise.reject(full));
    const queued = client.fetchChunk(target, chunk(1024 * 1024, 1024 * 1024), () => undefined);
    expect(await codeOf(failing)).toBe('DISK_FULL');
    expect(await codeOf(queued)).toBe('PEER_GONE');
    const sink = collector();
    await client.fetchChunk(target, chunk(10, 1000), sink.sink);
    expect(sink.bytes().equals(FILE.subarray(10, 1010))).toBe(true);
  });

  it('turns an Error frame into a coded error and keeps serving on the same connection', async () => {
    const { handler } = memoryHandler(FILE);
    const { port } = await startServer(handler);
    const client = startClient({ connectionsPerPeer: 1 });
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const missing = client.fetchChunk(target, { gameId: 'demo', path: 'nope.bin', offset: 0, length: 10 }, () => undefined);
    const sink = collector();
    const fine = client.fetchChunk(target, chunk(5, 1000), sink.sink);
    expect(await codeOf(missing)).toBe('FILE_NOT_FOUND');
    await fine;
    expect(sink.bytes().equals(FILE.subarray(5, 1005))).toBe(true);
    expect(client.connectionCount(ids.server.peerId)).toBe(1);
  });

  it('refuses a server whose fingerprint differs before sending any request', async () => {
    const { handler, calls } = memoryHandler(FILE);
    const { port } = await startServer(handler);
    const client = startClient();
    const wrong = { host: '127.0.0.1', dataPort: port, peerId: ids.stranger.peerId };
    expect(await codeOf(client.fetchChunk(wrong, chunk(0, 10), () => undefined))).toBe('PEER_FINGERPRINT_MISMATCH');
    // Give a request that might have slipped out every chance to arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls).toHaveLength(0);
  });

  it('refuses a client without a certificate', async () => {
    const { handler, calls } = memoryHandler(FILE);
    const { port } = await startServer(handler);
    const answer = await rawExchange(port, null, frame({ type: 'GetChunk', ...chunk(0, 10) }));
    expect(answer.byteLength).toBe(0);
    expect(calls).toHaveLength(0);
  });

  it('answers hostile input with a coded Error frame and closes only that connection', async () => {
    const slowPieces = piecewise(64 * 1024, 5);
    const { handler } = memoryHandler(FILE, slowPieces);
    const { port } = await startServer(handler);
    const client = startClient();
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const sink = collector();
    const honest = client.fetchChunk(target, chunk(0, 4 * 1024 * 1024), sink.sink);
    await waitFor(() => sink.received() > 0);

    const oversized = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    const badJson = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('{oops')]);
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const wrongShape = frame({ type: 'GetChunk', gameId: 'demo', path: 'data.bin', offset: -1, length: 10 });
    const answers = await Promise.all([oversized, badJson, garbage, wrongShape].map((bytes) => rawExchange(port, ids.stranger, bytes)));
    expect(answers.map((answer) => firstFrame(answer))).toEqual([
      expect.objectContaining({ type: 'Error', code: 'FRAME_TOO_LARGE' }),
      expect.objectContaining({ type: 'Error', code: 'MALFORMED_MESSAGE' }),
      expect.objectContaining({ type: 'Error', code: 'FRAME_TOO_LARGE' }),
      expect.objectContaining({ type: 'Error', code: 'MALFORMED_MESSAGE' }),
    ]);

    await honest;
    expect(sink.bytes().equals(FILE.subarray(0, 4 * 1024 * 1024))).toBe(true);
  });

  it('answers control-plane requests with UNKNOWN_MESSAGE_TYPE and keeps the connection', async () => {
    const { handler, calls } = memoryHandler(FILE);
    const { port } = await startServer(handler, { idleTimeoutMs: 1_000 });
    // Ping, then a valid GetChunk on the same connection: both answered in order.
    const answer = await rawExchange(port, ids.stranger, Buffer.concat([frame({ type: 'Ping' }), frame({ type: 'GetChunk', ...chunk(0, 3) })]));
    expect(firstFrame(answer)).toMatchObject({ type: 'Error', code: 'UNKNOWN_MESSAGE_TYPE' });
    const second = answer.subarray(4 + answer.readUInt32BE(0));
    expect(firstFrame(second)).toEqual({ type: 'ChunkHeader', length: 3 });
    expect(second.subarray(4 + second.readUInt32BE(0)).equals(FILE.subarray(0, 3))).toBe(true);
    expect(calls.map((call) => call.request.type)).toEqual(['GetChunk']);
  });

  it('never delivers a short chunk when the payload ends early', async () => {
    const shortPayload = async function* (bytes: Buffer) {
      yield bytes.subarray(0, bytes.byteLength - 100);
    };
    const { handler } = memoryHandler(FILE, shortPayload);
    const { port } = await startServer(handler);
    const client = startClient();
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const sink = collector();
    expect(await codeOf(client.fetchChunk(target, chunk(0, 500_000), sink.sink))).toBe('PEER_GONE');
    expect(sink.received()).toBeLessThan(500_000);
  });

  it('fails every request in flight with PEER_GONE when the server dies mid-transfer', async () => {
    const { handler } = memoryHandler(FILE, piecewise(16 * 1024, 20));
    const { server, port } = await startServer(handler);
    const client = startClient({ connectionsPerPeer: 1 });
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const first = collector();
    const running = client.fetchChunk(target, chunk(0, 4 * 1024 * 1024), first.sink);
    const queued = client.fetchChunk(target, chunk(0, 1024), () => undefined);
    await waitFor(() => first.received() > 0);
    await server.stop();
    expect(await codeOf(running)).toBe('PEER_GONE');
    expect(await codeOf(queued)).toBe('PEER_GONE');
    await waitFor(() => client.connectionCount(ids.server.peerId) === 0);
  });

  it('cancels on abort, and a later fetch works on a fresh connection', async () => {
    const { handler } = memoryHandler(FILE, piecewise(16 * 1024, 20));
    const { port } = await startServer(handler);
    const client = startClient({ connectionsPerPeer: 1 });
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const streaming = new AbortController();
    const queuedAbort = new AbortController();
    const first = collector();
    const running = client.fetchChunk(target, chunk(0, 4 * 1024 * 1024), first.sink, { signal: streaming.signal });
    const queued = client.fetchChunk(target, chunk(0, 1024), () => undefined, { signal: queuedAbort.signal });
    await waitFor(() => first.received() > 0);
    queuedAbort.abort();
    expect(await codeOf(queued)).toBe('REQUEST_CANCELLED');
    streaming.abort();
    expect(await codeOf(running)).toBe('REQUEST_CANCELLED');
    const received = first.received();
    await waitFor(() => client.connectionCount(ids.server.peerId) === 0);
    expect(first.received()).toBe(received);

    const again = collector();
    await client.fetchChunk(target, chunk(100, 5000), again.sink);
    expect(again.bytes().equals(FILE.subarray(100, 5100))).toBe(true);
    const preAborted = AbortSignal.abort();
    expect(await codeOf(client.fetchChunk(target, chunk(0, 10), () => undefined, { signal: preAborted }))).toBe('REQUEST_CANCELLED');
  });

  it('a request cancelled with little of its payload left is read to its end and dropped: the requests behind it on that connection go on', async () => {
    const { handler } = memoryHandler(FILE, piecewise(16 * 1024, 20));
    const { port } = await startServer(handler);
    const client = startClient({ connectionsPerPeer: 1 });
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const streaming = new AbortController();
    const first = collector();
    const running = client.fetchChunk(target, chunk(0, 512 * 1024), first.sink, { signal: streaming.signal });
    const behind = collector();
    const next = client.fetchChunk(target, chunk(4096, 100_000), behind.sink);
    await waitFor(() => first.received() > 0);
    streaming.abort();
    expect(await codeOf(running)).toBe('REQUEST_CANCELLED');
    const received = first.received();
    await next;
    expect(behind.bytes().equals(FILE.subarray(4096, 104_096))).toBe(true);
    // Nothing more reached the cancelled request's sink, and the one connection stayed.
    expect(first.received()).toBe(received);
    expect(client.connectionCount(ids.server.peerId)).toBe(1);
  });

  it('reports PEER_UNREACHABLE when nothing listens', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = startClient();
    const target = { host: '127.0.0.1', dataPort: freePort, peerId: ids.server.peerId };
    expect(await codeOf(client.fetchChunk(target, chunk(0, 10), () => undefined))).toBe('PEER_UNREACHABLE');
  });

  it('times out a request the peer never answers', async () => {
    const never: RequestHandler = () => new Promise(() => undefined);
    const { port } = await startServer(never);
    const client = startClient({ requestTimeoutMs: 300 });
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    expect(await codeOf(client.fetchChunk(target, chunk(0, 10), () => undefined))).toBe('REQUEST_TIMEOUT');
  });

  it('throttles downloads through the client limiter', async () => {
    const { handler } = memoryHandler(FILE);
    const { port } = await startServer(handler);
    const limiter = new RateLimiter({ bytesPerSec: 2 * 1024 * 1024 });
    const client = startClient({ downloadLimiter: limiter });
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const [first, second] = [collector(), collector()];
    const started = performance.now();
    await Promise.all([client.fetchChunk(target, chunk(0, 512 * 1024), first.sink), client.fetchChunk(target, chunk(512 * 1024, 512 * 1024), second.sink)]);
    // 1 MiB at 2 MiB/s with a 100 ms burst needs at least 0.4 s: a lower bound only.
    expect(performance.now() - started).toBeGreaterThanOrEqual(350);
    // Pieces the cap delays are delivered after the socket reused its read buffer.
    expect(first.bytes().equals(FILE.subarray(0, 512 * 1024))).toBe(true);
    expect(second.bytes().equals(FILE.subarray(512 * 1024, 1024 * 1024))).toBe(true);
  });

  it('closePeer drops the pooled connections and fails what was in flight', async () => {
    const { handler } = memoryHandler(FILE, piecewise(16 * 1024, 20));
    const { port } = await startServer(handler);
    const client = startClient();
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    const first = collector();
    const running = client.fetchChunk(target, chunk(0, 4 * 1024 * 1024), first.sink);
    await waitFor(() => first.received() > 0);
    client.closePeer(ids.server.peerId);
    expect(client.connectionCount(ids.server.peerId)).toBe(0);
    expect(await codeOf(running)).toBe('PEER_GONE');
    const again = collector();
    await client.fetchChunk(target, chunk(7, 70_000), again.sink);
    expect(again.bytes().equals(FILE.subarray(7, 70_007))).toBe(true);
  });

  it('stops idempotently, refuses work afterwards and leaks no socket or timer', async () => {
    const handles = () => process.getActiveResourcesInfo().filter((name) => /TCP|TLS|Timeout/.test(name)).length;
    await waitFor(() => handles() === 0);
    const { handler } = memoryHandler(FILE);
    const { server, port } = await startServer(handler);
    const client = startClient();
    const target = { host: '127.0.0.1', dataPort: port, peerId: ids.server.peerId };
    await client.fetchChunk(target, chunk(0, 10), () => undefined);
    client.stop();
    client.stop();
    expect(await codeOf(client.fetchChunk(target, chunk(0, 10), () => undefined))).toBe('REQUEST_CANCELLED');
    await server.stop();
    await server.stop();
    const fresh = startClient();
    expect(await codeOf(fresh.fetchChunk(target, chunk(0, 10), () => undefined))).toBe('PEER_UNREACHABLE');
    await waitFor(() => handles() === 0);
  });
});
