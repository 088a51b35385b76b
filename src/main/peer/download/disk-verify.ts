import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { LanspreadError } from '../../../shared/errors';
import type { PlannedChunk } from './types';

/**
 * Re-reads given chunks from disk and checks them against the manifest's chunk hashes, on the
 * calling thread: for a DownloadManager made without the hash worker (the runtime always gives
 * it one). Hashing goes in bounded slices with an event-loop yield between slices: the loop
 * stays responsive and memory stays at one slice, whatever the file size.
 */
const SLICE_BYTES = 1024 * 1024;

/** Chunks (of the given, all of `file`) whose bytes on disk do not match their hash; all of them when the file cannot be opened. */
export async function findBadChunksOnDisk(file: string, chunks: readonly PlannedChunk[], signal?: AbortSignal): Promise<PlannedChunk[]> {
  if (chunks.length === 0) return [];
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return [...chunks];
  const buffer = Buffer.allocUnsafe(SLICE_BYTES);
  const bad: PlannedChunk[] = [];
  try {
    for (const chunk of chunks) {
      if (signal?.aborted) throw new LanspreadError('REQUEST_CANCELLED', 'Download cancelled');
      if ((await hashOnDisk(handle, chunk, buffer)) !== chunk.hash) bad.push(chunk);
    }
  } finally {
    await handle.close();
  }
  return bad;
}

async function hashOnDisk(handle: FileHandle, chunk: PlannedChunk, buffer: Buffer): Promise<string | null> {
  const hash = createHash('sha256');
  let done = 0;
  while (done < chunk.length) {
    const want = Math.min(buffer.byteLength, chunk.length - done);
    const { bytesRead } = await handle.read(buffer, 0, want, chunk.offset + done);
    if (bytesRead === 0) return null;
    hash.update(buffer.subarray(0, bytesRead));
    done += bytesRead;
    await yieldToLoop();
  }
  return hash.digest('hex');
}
