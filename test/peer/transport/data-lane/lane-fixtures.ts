import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LanspreadError } from '../../../../src/shared/errors';
import type { PeerIdentity } from '../../../../src/main/peer/identity/identity';
import { loadOrCreateIdentity } from '../../../../src/main/peer/identity/identity';
import type { Request } from '../../../../src/main/peer/protocol/messages';
import type { RequestContext, RequestHandler, ServerReply } from '../../../../src/main/peer/transport/types';

export interface Identities {
  server: PeerIdentity;
  client: PeerIdentity;
  stranger: PeerIdentity;
  cleanup(): Promise<void>;
}

/** Real identities, each in its own temp state directory. */
export async function createIdentities(): Promise<Identities> {
  const dirs = await Promise.all([0, 1, 2].map(() => mkdtemp(path.join(tmpdir(), 'lanspread-lane-'))));
  const [server, client, stranger] = await Promise.all(dirs.map((dir) => loadOrCreateIdentity(dir)));
  return {
    server: server as PeerIdentity,
    client: client as PeerIdentity,
    stranger: stranger as PeerIdentity,
    cleanup: async () => {
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

/** Deterministic file content: byte i of file `name` is a hash of both, so misplaced bytes show. */
export function fileBytes(size: number, seed = 7): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export interface HandlerCall {
  request: Request;
  context: RequestContext;
}

export type PayloadShape = (bytes: Buffer) => AsyncIterable<Uint8Array>;

/** Yields a slice in pieces of `pieceBytes`, like a file read stream. */
export function piecewise(pieceBytes = 64 * 1024, delayMs = 0): PayloadShape {
  return async function* (bytes) {
    for (let at = 0; at < bytes.byteLength; at += pieceBytes) {
      if (delayMs > 0) await sleep(delayMs);
      yield bytes.subarray(at, Math.min(bytes.byteLength, at + pieceBytes));
    }
  };
}

/** A handler serving one in-memory file `data.bin` of game `demo`, recording every call. */
export function memoryHandler(file: Buffer, shape: PayloadShape = piecewise()): { handler: RequestHandler; calls: HandlerCall[] } {
  const calls: HandlerCall[] = [];
  const handler: RequestHandler = async (request, context): Promise<ServerReply> => {
    calls.push({ request, context });
    if (request.type !== 'GetChunk') return { frame: { type: 'Pong', libraryRevision: 0 } };
    if (request.gameId !== 'demo' || request.path !== 'data.bin') throw new LanspreadError('FILE_NOT_FOUND', `${request.path} is not served`);
    if (request.offset + request.length > file.byteLength) throw new LanspreadError('FILE_NOT_FOUND', 'Range beyond the end');
    return { frame: { type: 'ChunkHeader', length: request.length }, payload: shape(file.subarray(request.offset, request.offset + request.length)) };
  };
  return { handler, calls };
}

/** Collects a chunk through the sink, as the scheduler would (but into memory). */
export function collector(): { sink: (piece: Uint8Array) => void; bytes(): Buffer; received(): number } {
  const pieces: Buffer[] = [];
  let received = 0;
  return {
    sink: (piece) => {
      pieces.push(Buffer.from(piece));
      received += piece.byteLength;
    },
    bytes: () => Buffer.concat(pieces),
    received: () => received,
  };
}

export async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Condition not met in time');
    await sleep(10);
  }
}

export async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    return error instanceof LanspreadError ? error.code : `not coded: ${String(error)}`;
  }
  return 'resolved';
}
