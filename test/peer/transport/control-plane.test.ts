import { afterEach, describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import type { PeerIdentity } from '../../../src/main/peer/identity/identity';
import type { Response } from '../../../src/main/peer/protocol/messages';
import type { RequestHandler } from '../../../src/main/peer/transport/types';
import { hello, makeClient, makeIdentity, startServer } from './helpers';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function echoHandler(serverIdentity: PeerIdentity): RequestHandler {
  return async (request, context) => {
    switch (request.type) {
      case 'Hello':
        return { frame: { ...hello(serverIdentity, 4242), name: `saw ${context.remotePeerId}` } };
      case 'Ping':
        return { frame: { type: 'Pong', libraryRevision: 7 } };
      case 'ListGames':
        return { frame: { type: 'Games', games: [{ id: 'quake', version: '1', sizeBytes: 10, fileCount: 1 }] } };
      default:
        throw new LanspreadError('GAME_NOT_FOUND', 'nothing here');
    }
  };
}

describe('QUIC control plane', () => {
  it('exchanges Hello, Ping and ListGames with mutual certificates', async () => {
    const [serverId, clientId] = await Promise.all([makeIdentity(), makeIdentity()]);
    const { server, port } = await startServer(serverId, echoHandler(serverId));
    cleanups.push(() => server.stop());
    const client = makeClient(clientId);
    cleanups.push(() => client.stop());
    const target = { host: '127.0.0.1', port, peerId: serverId.peerId };

    const helloReply = await client.request(target, hello(clientId));
    expect(helloReply).toMatchObject({ type: 'Hello', peerId: serverId.peerId, name: `saw ${clientId.peerId}` });
    expect(await client.request(target, { type: 'Ping' })).toEqual({ type: 'Pong', libraryRevision: 7 });
    const games = (await client.request(target, { type: 'ListGames' })) as Extract<Response, { type: 'Games' }>;
    expect(games.games.map((game) => game.id)).toEqual(['quake']);
    const refused = await client.request(target, { type: 'GetGame', gameId: 'doom' });
    expect(refused).toMatchObject({ type: 'Error', code: 'GAME_NOT_FOUND' });
    expect(server.connectionCount).toBe(1);
  });
});

describe('QUIC control plane payloads', () => {
  it('carries a ~10 MB response frame and a GetChunk payload byte-exactly', async () => {
    const [serverId, clientId] = await Promise.all([makeIdentity(), makeIdentity()]);
    const files = Array.from({ length: 150 }, (_, index) => ({ path: `data/file-${index}.bin`, size: 1 << 30, chunkHashes: Array.from({ length: 1000 }, (_, n) => n.toString(16).padStart(64, 'f')) }));
    const chunk = new Uint8Array(3 * 1024 * 1024 + 17).map((_, index) => (index * 31) & 0xff);
    const { server, port } = await startServer(serverId, async (request) => {
      if (request.type === 'GetGame') return { frame: { type: 'Game', manifest: { gameId: request.gameId, version: '1', chunkSize: 1 << 20, files } } };
      if (request.type === 'GetChunk') {
        const slice = chunk.subarray(request.offset, request.offset + request.length);
        async function* pieces() {
          for (let at = 0; at < slice.byteLength; at += 100_000) yield slice.subarray(at, at + 100_000);
        }
        return { frame: { type: 'ChunkHeader', length: slice.byteLength }, payload: pieces() };
      }
      throw new LanspreadError('GAME_NOT_FOUND', 'no');
    });
    cleanups.push(() => server.stop());
    const client = makeClient(clientId, { requestTimeoutMs: 150_000 });
    cleanups.push(() => client.stop());
    const target = { host: '127.0.0.1', port, peerId: serverId.peerId };

    const game = (await client.request(target, { type: 'GetGame', gameId: 'big' })) as Extract<Response, { type: 'Game' }>;
    expect(JSON.stringify(game).length).toBeGreaterThan(9_000_000);
    expect(game.manifest.files).toHaveLength(150);
    expect(game.manifest.files[149]?.chunkHashes[999]).toBe((999).toString(16).padStart(64, 'f'));

    const received: Uint8Array[] = [];
    const header = await client.request(target, { type: 'GetChunk', gameId: 'big', path: 'a.rar', offset: 5, length: chunk.byteLength - 5 }, {
      onPayload: async (frame, reader) => {
        await reader.pipeExact(frame.length, (piece) => void received.push(piece.slice()));
      },
    });
    expect(header).toEqual({ type: 'ChunkHeader', length: chunk.byteLength - 5 });
    expect(Buffer.concat(received).equals(Buffer.from(chunk.subarray(5)))).toBe(true);
    // The stream stays usable after a payload: the next request on the same connection works.
    expect(await client.request(target, { type: 'GetGame', gameId: 'x' })).toMatchObject({ type: 'Game' });
    // 13 MB through @matrixai/quic's JavaScript: about 10 s alone, past 50 s beside a full suite
    // on two busy cores; the budget is the suite's, not a speed requirement.
  }, 180_000);
});

describe('QUIC certificate pinning', () => {
  it('refuses a server whose fingerprint is not the expected peer id, before sending anything', async () => {
    const [serverId, clientId, otherId] = await Promise.all([makeIdentity(), makeIdentity(), makeIdentity()]);
    let requests = 0;
    const { server, port } = await startServer(serverId, async () => {
      requests += 1;
      return { frame: { type: 'Pong', libraryRevision: 0 } };
    });
    cleanups.push(() => server.stop());
    const client = makeClient(clientId);
    cleanups.push(() => client.stop());

    const error = await client.request({ host: '127.0.0.1', port, peerId: otherId.peerId }, { type: 'Ping' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LanspreadError);
    expect((error as LanspreadError).code).toBe('PEER_FINGERPRINT_MISMATCH');
    expect(requests).toBe(0);
    expect(client.connectedPeers).toEqual([]);

    // The right id works on the same server.
    expect(await client.request({ host: '127.0.0.1', port, peerId: serverId.peerId }, { type: 'Ping' })).toMatchObject({ type: 'Pong' });
    expect(requests).toBe(1);
  });

  it('probe learns the fingerprint of an unknown peer (trust on first use) and pins it afterwards', async () => {
    const [serverId, clientId] = await Promise.all([makeIdentity(), makeIdentity()]);
    const { server, port } = await startServer(serverId, echoHandler(serverId));
    cleanups.push(() => server.stop());
    const client = makeClient(clientId);
    cleanups.push(() => client.stop());

    const { peerId, response } = await client.probe('127.0.0.1', port, hello(clientId));
    expect(peerId).toBe(serverId.peerId);
    expect(response).toMatchObject({ type: 'Hello', peerId: serverId.peerId });
    expect(client.connectedPeers).toEqual([serverId.peerId]);
    expect(await client.request({ host: '127.0.0.1', port, peerId }, { type: 'Ping' })).toMatchObject({ type: 'Pong' });
    expect(server.connectionCount).toBe(1);
  });

  it('reports an unreachable address with a coded error', async () => {
    const [clientId, ghostId] = await Promise.all([makeIdentity(), makeIdentity()]);
    const client = makeClient(clientId, { connectTimeoutMs: 1_000 });
    cleanups.push(() => client.stop());
    // A port nobody listens on: the handshake never completes.
    const { server, port } = await startServer(ghostId, async () => ({ frame: { type: 'Pong', libraryRevision: 0 } }));
    await server.stop();
    const error = await client.request({ host: '127.0.0.1', port, peerId: ghostId.peerId }, { type: 'Ping' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LanspreadError);
    expect(['PEER_UNREACHABLE', 'REQUEST_TIMEOUT']).toContain((error as LanspreadError).code);
  });
});

describe('createQuicTransport', () => {
  it('pairs a pinned client and a server under one identity, and stops both', async () => {
    const { createQuicTransport } = await import('../../../src/main/peer/transport/quic/quic-transport');
    const [a, b] = await Promise.all([makeIdentity(), makeIdentity()]);
    const transportA = await createQuicTransport({ identity: a });
    const transportB = await createQuicTransport({ identity: b });
    cleanups.push(() => transportA.stop(), () => transportB.stop());
    const portA = await transportA.listen({ host: '127.0.0.1', port: 0, handler: echoHandler(a) });
    expect(await transportA.listen({ host: '127.0.0.1', port: 0, handler: echoHandler(a) })).toBe(portA);
    const reply = await transportB.client.request({ host: '127.0.0.1', port: portA, peerId: a.peerId }, hello(b));
    expect(reply).toMatchObject({ type: 'Hello', name: `saw ${b.peerId}` });
    await transportA.stop();
    expect(transportA.server()?.port ?? null).toBeNull();
  });
});
