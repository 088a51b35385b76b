import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/**
 * Worker entry: SHA-256s (hex) of slices of a file, read in bounded pieces so memory stays flat
 * whatever the file size. Requests run concurrently, each with its own two read buffers.
 * - Whole file: the hash of each `chunkSize` slice (the last one may be shorter).
 * - Ranges: the hash of each given byte range, or null where the file holds fewer bytes than the
 *   range needs. A resumed download re-checks its journaled chunks this way.
 */
export type HashJob = { path: string } & ({ chunkSize: number } | { ranges: ByteRange[] });

export type HashRequest = { id: number } & HashJob;

export interface ByteRange {
  offset: number;
  length: number;
}

export type HashReply = { id: number; hashes: Array<string | null> } | { id: number; error: { message: string; code?: string } };

const READ_BYTES = 4 * 1024 * 1024;

interface Piece {
  range: number;
  at: number;
  length: number;
}

/** Each range cut into reads of at most READ_BYTES: a read never spans two ranges. */
function* piecesOf(ranges: readonly ByteRange[], readBytes: number): Generator<Piece> {
  for (const [range, { offset, length }] of ranges.entries()) {
    for (let done = 0; done < length; done += readBytes) yield { range, at: offset + done, length: Math.min(readBytes, length - done) };
  }
}

/**
 * Two buffers take turns: while one piece is hashed, the read of the next is already in the
 * thread pool, so disk (or page cache) and CRC overlap instead of alternating.
 */
async function hashRanges(handle: FileHandle, ranges: readonly ByteRange[]): Promise<Array<string | null>> {
  // Not Math.max(...lengths): a file of a terabyte has more chunks than a call takes arguments.
  const size = ranges.reduce((largest, range) => Math.max(largest, Math.min(READ_BYTES, range.length)), 0);
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  const hashes: Hash[] = ranges.map(() => createHash('sha256'));
  const got = ranges.map(() => 0);
  const pieces = piecesOf(ranges, size);
  let turn = 0;
  const readNext = () => {
    const { value: piece } = pieces.next();
    if (!piece) return null;
    turn ^= 1;
    return handle.read(buffers[turn] as Buffer, 0, piece.length, piece.at).then(({ bytesRead, buffer }) => ({ piece, bytes: buffer.subarray(0, bytesRead) }));
  };
  let pending = readNext();
  while (pending) {
    const { piece, bytes } = await pending;
    pending = readNext();
    (hashes[piece.range] as Hash).update(bytes);
    got[piece.range] = (got[piece.range] as number) + bytes.byteLength;
  }
  return ranges.map((range, i) => (got[i] === range.length ? (hashes[i] as Hash).digest('hex') : null));
}

async function hash(request: HashRequest): Promise<Array<string | null>> {
  const handle = await open(request.path, 'r');
  try {
    if ('ranges' in request) return await hashRanges(handle, request.ranges);
    const { size } = await handle.stat();
    const { chunkSize } = request;
    const ranges: ByteRange[] = [];
    for (let offset = 0; offset < size; offset += chunkSize) ranges.push({ offset, length: Math.min(chunkSize, size - offset) });
    const hashes = await hashRanges(handle, ranges);
    // Hashes of a file cut short while it was read would describe no version of it.
    if (hashes.includes(null)) throw new Error(`${request.path} shrank while it was being hashed`);
    return hashes;
  } finally {
    await handle.close();
  }
}

parentPort?.on('message', (request: HashRequest) => {
  hash(request).then(
    (hashes) => parentPort?.postMessage({ id: request.id, hashes } satisfies HashReply),
    (error: NodeJS.ErrnoException) => parentPort?.postMessage({ id: request.id, error: { message: error.message, ...(error.code ? { code: error.code } : {}) } } satisfies HashReply),
  );
});
