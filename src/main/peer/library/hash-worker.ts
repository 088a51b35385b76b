import { open } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { crc32Update } from '../util/crc32';

/**
 * Worker entry: computes the CRC32 of each `chunkSize` slice of a file, reading in bounded
 * pieces so memory stays flat whatever the file size. Requests run concurrently, each with
 * its own two read buffers.
 */
export interface HashRequest {
  id: number;
  path: string;
  chunkSize: number;
}

export type HashReply = { id: number; crcs: number[] } | { id: number; error: { message: string; code?: string } };

const READ_BYTES = 4 * 1024 * 1024;

/**
 * Two buffers take turns: while one slice is hashed, the read of the next is already in the
 * thread pool, so disk (or page cache) and CRC overlap instead of alternating.
 */
async function hashFile(file: string, chunkSize: number): Promise<number[]> {
  const handle = await open(file, 'r');
  try {
    const size = Math.min(READ_BYTES, chunkSize);
    const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    const crcs: number[] = [];
    let crc = 0;
    let inChunk = 0;
    let position = 0;
    let turn = 0;
    // Reads never cross a chunk boundary, so each finished read is within one chunk.
    const readNext = (buffer: Buffer, at: number, chunkOffset: number) => handle.read(buffer, 0, Math.min(buffer.byteLength, chunkSize - chunkOffset), at);
    let pending = readNext(buffers[0] as Buffer, 0, 0);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      position += bytesRead;
      const nextInChunk = (inChunk + bytesRead) % chunkSize;
      turn ^= 1;
      pending = readNext(buffers[turn] as Buffer, position, nextInChunk);
      crc = crc32Update(buffer.subarray(0, bytesRead), crc);
      inChunk += bytesRead;
      if (inChunk === chunkSize) {
        crcs.push(crc >>> 0);
        crc = 0;
        inChunk = 0;
      }
    }
    if (inChunk > 0) crcs.push(crc >>> 0);
    return crcs;
  } finally {
    await handle.close();
  }
}

parentPort?.on('message', (request: HashRequest) => {
  hashFile(request.path, request.chunkSize).then(
    (crcs) => parentPort?.postMessage({ id: request.id, crcs } satisfies HashReply),
    (error: NodeJS.ErrnoException) => parentPort?.postMessage({ id: request.id, error: { message: error.message, ...(error.code ? { code: error.code } : {}) } } satisfies HashReply),
  );
});
