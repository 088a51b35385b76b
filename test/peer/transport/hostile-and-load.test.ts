import { afterEach, describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import { ByteReader } from '../../../src/main/peer/protocol/codec';
import type { Response } from '../../../src/main/peer/protocol/messages';
import { parseResponse } from '../../../src/main/peer/protocol/validate';
import type { QuicLink } from '../../../src/main/peer/transport/quic/quic-library';
import { dialQuic, DEFAULT_QUIC_TIMINGS } from '../../../src/main/peer/transport/quic/quic-library';
import type { PeerIdentity } from '../../../src/main/peer/identity/identity';
import { silentLogger } from '../../../src/main/peer/util/logger';
import { makeClient, makeIdentity, startServer } from './helpers';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Our own QUIC client that speaks raw bytes, not the codec: what a hostile peer would send. */
async function rawLink(identity: PeerIdentity, port: number): Promise<QuicLink> {
  const link = await dialQuic({
    host: '127.0.0.1',
    port,
    credentials: identity,
    timings: DEFAULT_QUIC_TIMINGS,
    connectTimeoutMs: 3_000,
    checkServer: () => true,
    maxOpenStreams: 16,
    logger: silentLogger,
  });
  cleanups.push(() => link.close());
  return link;
}

async function sendRaw(link: QuicLink, bytes: Uint8Array, finish = true): Promise<Response> {
  const stream = await link.openStream();
  await stream.write(bytes);
  if (finish) await stream.end();
  const frame = await new ByteReader(stream.incoming).readFrame(1 << 20);
  return parseResponse(frame);
}

function framed(body: string | Uint8Array): Uint8Array {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const out = new Uint8Array(4 + bytes.byteLength);
  new DataView(out.buffer).setUint32(0, bytes.byteLength);
  out.set(bytes, 4);
  return out;
}

describe('QUIC control server against hostile input', () => {
  it('answers every kind of bad stream with a coded Error frame while serving a good client', async () => {
    const [serverId, goodId, evilId] = await Promise.all([makeIdentity(), makeIdentity(), makeIdentity()]);
    const { server, port } = await startServer(
      serverId,
      async (request) => {
        if (request.type === 'GetGame' && request.gameId === 'boom') throw new Error('handler bug');
        if (request.type === 'GetGame') throw new LanspreadError('GAME_NOT_SERVED', 'not shared');
        return { frame: { type: 'Pong', libraryRevision: 3 } };
      },
      { requestReadTimeoutMs: 500, drainTimeoutMs: 500 },
    );
    cleanups.push(() => server.stop());
    const good = makeClient(goodId);
    cleanups.push(() => good.stop());
    const target = { host: '127.0.0.1', port, peerId: serverId.peerId };

    let goodAnswers = 0;
    let hostileDone = false;
    const goodTraffic = (async () => {
      while (!hostileDone || goodAnswers < 20) {
        expect(await good.request(target, { type: 'Ping' })).toEqual({ type: 'Pong', libraryRevision: 3 });
        goodAnswers += 1;
      }
    })();

    const evil = await rawLink(evilId, port);
    const cases: Array<[string, Uint8Array, string, boolean?]> = [
      ['garbage', new Uint8Array([0, 0, 0, 5, 0xff, 0xfe, 0x00, 0x01, 0x02]), 'MALFORMED_MESSAGE'],
      ['http request', new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'FRAME_TOO_LARGE'],
      ['oversized length prefix', new Uint8Array([0x7f, 0xff, 0xff, 0xff]), 'FRAME_TOO_LARGE'],
      ['malformed JSON', framed('{"type": "Ping"'), 'MALFORMED_MESSAGE'],
      ['unknown type', framed('{"type":"FormatDisk"}'), 'UNKNOWN_MESSAGE_TYPE'],
      ['validation failure', framed('{"type":"GetChunk","gameId":"a","path":"b","offset":-1,"length":5}'), 'MALFORMED_MESSAGE'],
      ['not an object', framed('[1,2,3]'), 'MALFORMED_MESSAGE'],
      ['truncated frame', new Uint8Array([0, 0, 0, 100, 1, 2, 3]), 'MALFORMED_MESSAGE'],
      ['empty stream', new Uint8Array([]), 'MALFORMED_MESSAGE'],
      ['handler refusal', framed('{"type":"GetGame","gameId":"quake"}'), 'GAME_NOT_SERVED'],
      ['handler bug', framed('{"type":"GetGame","gameId":"boom"}'), 'INTERNAL'],
      ['slow loris (never finishes its frame)', new Uint8Array([0, 0]), 'REQUEST_TIMEOUT', false],
    ];
    for (const [name, bytes, code, finish] of cases) {
      const response = await sendRaw(evil, bytes, finish ?? true);
      expect({ name, response }).toMatchObject({ name, response: { type: 'Error', code } });
    }
    // Many hostile streams at once still leave the good client served.
    const flood = await Promise.all(Array.from({ length: 40 }, () => sendRaw(evil, new Uint8Array([0xff, 0xff, 0xff, 0xff]))));
    expect(flood.every((response) => response.type === 'Error' && response.code === 'FRAME_TOO_LARGE')).toBe(true);
    hostileDone = true;
    await goodTraffic;
    expect(goodAnswers).toBeGreaterThanOrEqual(20);
    expect(evil.isOpen).toBe(true);
  });
});

describe('QUIC stream-slot accounting', () => {
  it('1,000 concurrent requests over one connection all succeed', async () => {
    const [serverId, clientId] = await Promise.all([makeIdentity(), makeIdentity()]);
    let served = 0;
    // A small per-connection limit on the server: the client must queue on the peer's grant, not its own cap.
    const { server, port } = await startServer(serverId, async () => ({ frame: { type: 'Pong', libraryRevision: ++served } }), { maxStreamsPerConnection: 16 });
    cleanups.push(() => server.stop());
    const client = makeClient(clientId, { maxStreamsPerPeer: 1_000, requestTimeoutMs: 120_000 });
    cleanups.push(() => client.stop());
    const target = { host: '127.0.0.1', port, peerId: serverId.peerId };

    const responses = await Promise.all(Array.from({ length: 1_000 }, () => client.request(target, { type: 'Ping' })));
    expect(responses.every((response) => response.type === 'Pong')).toBe(true);
    const revisions = new Set(responses.map((response) => (response as Extract<Response, { type: 'Pong' }>).libraryRevision));
    expect(revisions.size).toBe(1_000);
    expect(served).toBe(1_000);
    expect(server.connectionCount).toBe(1);
    expect(await client.request(target, { type: 'Ping' })).toMatchObject({ type: 'Pong' });
  });

  it('timed-out and cancelled requests do not leak slots', async () => {
    const [serverId, clientId] = await Promise.all([makeIdentity(), makeIdentity()]);
    const { server, port } = await startServer(
      serverId,
      async (request) => {
        if (request.type === 'ListGames') await new Promise((resolve) => setTimeout(resolve, 300));
        return { frame: { type: 'Pong', libraryRevision: 0 } };
      },
      { maxStreamsPerConnection: 4 },
    );
    cleanups.push(() => server.stop());
    const client = makeClient(clientId);
    cleanups.push(() => client.stop());
    const target = { host: '127.0.0.1', port, peerId: serverId.peerId };

    const slow = await Promise.all(Array.from({ length: 12 }, () => client.request(target, { type: 'ListGames' }, { timeoutMs: 50 }).catch((error: unknown) => error)));
    expect(slow.every((error) => error instanceof LanspreadError && error.code === 'REQUEST_TIMEOUT')).toBe(true);
    const controller = new AbortController();
    const cancelled = client.request(target, { type: 'ListGames' }, { signal: controller.signal }).catch((error: unknown) => error);
    controller.abort();
    expect(await cancelled).toMatchObject({ code: 'REQUEST_CANCELLED' });
    // Every slot comes back once the abandoned streams finish: 40 more requests through 4 slots.
    const later = await Promise.all(Array.from({ length: 40 }, () => client.request(target, { type: 'Ping' })));
    expect(later.every((response) => response.type === 'Pong')).toBe(true);
  });
});
