import { describe, expect, it } from 'vitest';
import { ByteReader, encodeFrame } from '../../../src/main/peer/protocol/codec';
import { MAX_REQUEST_BYTES } from '../../../src/main/peer/protocol/messages';
import { parseRequest, parseResponse } from '../../../src/main/peer/protocol/validate';
import { LanspreadError } from '../../../src/shared/errors';

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}

function header(length: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, length, false);
  return out;
}

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(LanspreadError);
    return (error as LanspreadError).code;
  }
  throw new Error('expected a coded error');
}

describe('frame codec', () => {
  it('round-trips messages split at every byte boundary', async () => {
    const message = { type: 'GetGame', gameId: 'quake-3-arena' };
    const frame = encodeFrame(message, MAX_REQUEST_BYTES);
    for (let cut = 1; cut < frame.byteLength; cut++) {
      const reader = new ByteReader(chunks(frame.subarray(0, cut), frame.subarray(cut)));
      expect(parseRequest(await reader.readFrame(MAX_REQUEST_BYTES))).toEqual(message);
      expect(await reader.readFrame(MAX_REQUEST_BYTES)).toBeNull();
    }
  });

  it('reads raw payload bytes after a header frame', async () => {
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const reader = new ByteReader(chunks(encodeFrame({ type: 'ChunkHeader', length: 5 }, 100), payload.subarray(0, 2), payload.subarray(2)));
    const head = parseResponse(await reader.readFrame(100));
    expect(head).toEqual({ type: 'ChunkHeader', length: 5 });
    const got: number[] = [];
    await reader.pipeExact(5, (piece) => void got.push(...piece));
    expect(got).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses an oversized frame from its length prefix alone', async () => {
    const reader = new ByteReader(chunks(header(MAX_REQUEST_BYTES + 1)));
    expect(await codeOf(reader.readFrame(MAX_REQUEST_BYTES))).toBe('FRAME_TOO_LARGE');
    expect(await codeOf(() => encodeFrame({ pad: 'x'.repeat(200) }, 100))).toBe('FRAME_TOO_LARGE');
  });

  it('reports malformed JSON, invalid UTF-8 and truncated frames', async () => {
    const bad = new TextEncoder().encode('{"type":');
    expect(await codeOf(new ByteReader(chunks(header(bad.byteLength), bad)).readFrame(100))).toBe('MALFORMED_MESSAGE');
    expect(await codeOf(new ByteReader(chunks(header(2), new Uint8Array([0xff, 0xfe]))).readFrame(100))).toBe('MALFORMED_MESSAGE');
    expect(await codeOf(new ByteReader(chunks(header(10), new Uint8Array(3))).readFrame(100))).toBe('MALFORMED_MESSAGE');
  });

  it('rejects unknown types and wrong field types with codes', async () => {
    expect(await codeOf(() => parseRequest({ type: 'RmRf' }))).toBe('UNKNOWN_MESSAGE_TYPE');
    expect(await codeOf(() => parseRequest({ type: 'GetGame', gameId: 5 }))).toBe('MALFORMED_MESSAGE');
    expect(await codeOf(() => parseRequest([1, 2]))).toBe('MALFORMED_MESSAGE');
    expect(await codeOf(() => parseRequest({ type: 'GetChunk', gameId: 'a', path: 'b', offset: -1, length: 1 }))).toBe('MALFORMED_MESSAGE');
    expect(await codeOf(() => parseResponse({ type: 'Game', manifest: { gameId: 'a', version: '1', chunkSize: 4, files: [{ path: 'x', size: 1, chunkHashes: ['not-a-hash'] }] } }))).toBe('MALFORMED_MESSAGE');
  });

  it('maps an unknown error code from a peer to INTERNAL instead of trusting it', () => {
    expect(parseResponse({ type: 'Error', code: 'NOPE', message: 'x' })).toEqual({ type: 'Error', code: 'INTERNAL', message: 'x' });
  });
});
