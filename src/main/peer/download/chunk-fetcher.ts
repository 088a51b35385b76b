import { createHash } from 'node:crypto';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { ChunkCopier, ChunkFetcher } from './chunk-scheduler';
import { LocalFailure } from './chunk-scheduler';
import type { SentinelTransaction } from './sentinel-transaction';
import type { PlannedChunk } from './types';
import { BufferPool } from '../util/buffer-pool';

/**
 * Streams a chunk from a source straight to its offset on disk while SHA-256 runs over the
 * pieces, so no chunk is held in memory whole. Bytes land on disk before they are verified,
 * but a chunk only counts (journal, progress) once its hash matched; a bad one is simply
 * overwritten by the next attempt. Resolves only after every write of the attempt finished, so
 * two attempts never write the same region at once.
 */
const WRITE_BATCH_BYTES = 1024 * 1024;
const MAX_PENDING_WRITES = 2;
/** Enough for every chunk this download receives at once (a batch filling, two being written). */
const MAX_KEPT_BATCHES = 32;

export function createChunkFetcher(gameId: string, transaction: SentinelTransaction): ChunkFetcher {
  // Batches live until their write completes: reused, not allocated per MiB (see BufferPool).
  const batches = new BufferPool(WRITE_BATCH_BYTES, MAX_KEPT_BATCHES);
  return async (source, chunk, signal, onBytes) => {
    const hash = createHash('sha256');
    let received = 0;
    let closed = false;
    let writeError: LanspreadError | null = null;
    let overrun = false;
    let writes: Promise<void> = Promise.resolve();
    // Socket pieces are small (TLS records); gathering them into large positional writes cuts
    // the syscalls and thread-pool hops per chunk by an order of magnitude.
    let batch: Buffer | null = null;
    let batchCapacity = 0;
    let batchFilled = 0;
    let batchPosition = chunk.offset;
    let pendingWrites = 0;
    const flushBatch = (): void => {
      if (!batch || batchFilled === 0) return;
      const full = batch;
      const data = full.subarray(0, batchFilled);
      const position = batchPosition;
      batchPosition += batchFilled;
      batch = null;
      batchFilled = 0;
      pendingWrites++;
      writes = writes
        .then(() => transaction.write(chunk.fileIndex, position, data))
        .then(
          () => void pendingWrites--,
          (error: unknown) => {
            writeError ??= toLanspreadError(error);
            throw writeError;
          },
        )
        .finally(() => batches.give(full));
    };
    const sink = (piece: Uint8Array): Promise<void> | undefined => {
      if (closed || writeError) return writes;
      if (received + piece.byteLength > chunk.length) {
        overrun = true;
        throw new LanspreadError('CHUNK_HASH_MISMATCH', `Source sent more than ${chunk.length} bytes`);
      }
      received += piece.byteLength;
      hash.update(piece);
      onBytes(piece.byteLength);
      let at = 0;
      while (at < piece.byteLength) {
        if (!batch) {
          batch = batches.take();
          batchCapacity = Math.min(batch.byteLength, chunk.offset + chunk.length - batchPosition);
        }
        const take = Math.min(piece.byteLength - at, batchCapacity - batchFilled);
        batch.set(piece.subarray(at, at + take), batchFilled);
        batchFilled += take;
        at += take;
        if (batchFilled === batchCapacity) flushBatch();
      }
      // Keep reading the socket while the disk works; push back only past a bounded backlog.
      return pendingWrites >= MAX_PENDING_WRITES ? writes : undefined;
    };
    let fetchError: unknown = null;
    try {
      await source.fetchChunk({ gameId, path: chunk.path, offset: chunk.offset, length: chunk.length }, sink, signal);
    } catch (error) {
      fetchError = error ?? new Error('unknown failure');
    } finally {
      if (!writeError) flushBatch();
      closed = true;
      await writes.catch(() => undefined);
      if (batch) batches.give(batch);
    }
    if (writeError) throw new LocalFailure(writeError);
    if (overrun) throw new LanspreadError('CHUNK_HASH_MISMATCH', `${source.name} sent more than ${chunk.length} bytes for ${chunk.path}@${chunk.offset}`);
    if (fetchError !== null) throw fetchError;
    if (received !== chunk.length) {
      throw new LanspreadError('CHUNK_HASH_MISMATCH', `${source.name} sent ${received} of ${chunk.length} bytes for ${chunk.path}@${chunk.offset}`);
    }
    if (hash.digest('hex') !== chunk.hash) {
      throw new LanspreadError('CHUNK_HASH_MISMATCH', `${source.name} sent a chunk of ${chunk.path}@${chunk.offset} with a wrong SHA-256`);
    }
  };
}

/**
 * Endgame copies: the chunk's bytes into memory, checked against its SHA-256, nothing written
 * (the scheduler writes a winning copy once the other request of the chunk has stopped).
 */
export function createChunkCopier(gameId: string): ChunkCopier {
  return async (source, chunk, signal, onBytes) => {
    const bytes = Buffer.allocUnsafe(chunk.length);
    const hash = createHash('sha256');
    let received = 0;
    await source.fetchChunk(
      { gameId, path: chunk.path, offset: chunk.offset, length: chunk.length },
      (piece) => {
        if (received + piece.byteLength > chunk.length) throw new LanspreadError('CHUNK_HASH_MISMATCH', `Source sent more than ${chunk.length} bytes`);
        bytes.set(piece, received);
        received += piece.byteLength;
        hash.update(piece);
        onBytes(piece.byteLength);
      },
      signal,
    );
    if (received !== chunk.length || hash.digest('hex') !== chunk.hash) {
      throw new LanspreadError('CHUNK_HASH_MISMATCH', `${source.name} sent a chunk of ${chunk.path}@${chunk.offset} with a wrong SHA-256`);
    }
    return bytes;
  };
}

/** Writes a verified endgame copy at its place; a write failure is ours (LocalFailure), not the source's. */
export function createChunkStore(transaction: SentinelTransaction): (chunk: PlannedChunk, bytes: Uint8Array) => Promise<void> {
  return (chunk, bytes) =>
    transaction.write(chunk.fileIndex, chunk.offset, bytes).catch((error: unknown) => {
      throw new LocalFailure(toLanspreadError(error));
    });
}
