import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { LanspreadError } from '../../../shared/errors';
import { crc32Update } from '../util/crc32';
import type { DownloadPlan } from './download-plan';
import type { PlannedChunk } from './types';

/**
 * Re-reads given chunks from disk and checks them against the manifest's chunk CRCs, on the
 * calling thread: for a DownloadManager made without the hash worker (the runtime always gives
 * it one). Hashing goes in bounded slices with an event-loop yield between slices: the loop
 * stays responsive and memory stays at one slice, whatever the file size.
 */
const SLICE_BYTES = 1024 * 1024;

/** Chunks (of the given, all from non-sentinel files) whose bytes on disk do not match their CRC. */
export async function findBadChunksOnDisk(plan: DownloadPlan, chunks: readonly PlannedChunk[], signal?: AbortSignal): Promise<PlannedChunk[]> {
  const bad: PlannedChunk[] = [];
  const byFile = new Map<number, PlannedChunk[]>();
  for (const chunk of chunks) {
    const list = byFile.get(chunk.fileIndex) ?? [];
    list.push(chunk);
    byFile.set(chunk.fileIndex, list);
  }
  const buffer = Buffer.allocUnsafe(Math.min(SLICE_BYTES, plan.manifest.chunkSize));
  for (const [fileIndex, fileChunks] of byFile) {
    const handle = await open(plan.targets[fileIndex] as string, 'r').catch(() => null);
    if (!handle) {
      bad.push(...fileChunks);
      continue;
    }
    try {
      for (const chunk of fileChunks) {
        if (signal?.aborted) throw new LanspreadError('REQUEST_CANCELLED', 'Download cancelled');
        if ((await crcOnDisk(handle, chunk, buffer)) !== chunk.crc) bad.push(chunk);
      }
    } finally {
      await handle.close();
    }
  }
  return bad;
}

async function crcOnDisk(handle: FileHandle, chunk: PlannedChunk, buffer: Buffer): Promise<number | null> {
  let crc = 0;
  let done = 0;
  while (done < chunk.length) {
    const want = Math.min(buffer.byteLength, chunk.length - done);
    const { bytesRead } = await handle.read(buffer, 0, want, chunk.offset + done);
    if (bytesRead === 0) return null;
    crc = crc32Update(buffer.subarray(0, bytesRead), crc);
    done += bytesRead;
    await yieldToLoop();
  }
  return crc;
}
