import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { ChunkFetcher } from './chunk-scheduler';
import { LocalFailure } from './chunk-scheduler';
import { crc32Update } from '../util/crc32';
import type { SentinelTransaction } from './sentinel-transaction';

/**
 * Streams a chunk from a source straight to its offset on disk while the CRC runs over the
 * pieces, so no chunk is held in memory whole. Bytes land on disk before they are verified,
 * but a chunk only counts (journal, progress) once its CRC matched; a bad one is simply
 * overwritten by the next attempt. Resolves only after every write of the attempt finished, so
 * two attempts never write the same region at once.
 */
const WRITE_BATCH_BYTES = 1024 * 1024;
const MAX_PENDING_WRITES = 2;
/** Far below IOV_MAX (1024), even when a source sends tiny pieces. */
const MAX_BATCH_PIECES = 256;

export function createChunkFetcher(gameId: string, transaction: SentinelTransaction): ChunkFetcher {
  return async (source, chunk, signal, onBytes) => {
    let crc = 0;
    let received = 0;
    let closed = false;
    let writeError: LanspreadError | null = null;
    let overrun = false;
    let writes: Promise<void> = Promise.resolve();
    // Socket pieces are small (TLS records); gathering them into large positional writes cuts
    // the syscalls and thread-pool hops per chunk by an order of magnitude. They go down as one
    // writev, not copied together first: that copy was a GiB of memmove per GiB on the thread
    // that also decrypts, which bounds a download's speed.
    let gathered: Uint8Array[] = [];
    let gatheredBytes = 0;
    let batchPosition = chunk.offset;
    let pendingWrites = 0;
    const flushBatch = (): void => {
      if (gatheredBytes === 0) return;
      const pieces = gathered;
      const position = batchPosition;
      batchPosition += gatheredBytes;
      gathered = [];
      gatheredBytes = 0;
      pendingWrites++;
      writes = writes.then(() =>
        transaction.write(chunk.fileIndex, position, pieces).then(
          () => void pendingWrites--,
          (error: unknown) => {
            writeError ??= toLanspreadError(error);
            throw writeError;
          },
        ),
      );
    };
    const sink = (piece: Uint8Array): Promise<void> | undefined => {
      if (closed || writeError) return writes;
      if (received + piece.byteLength > chunk.length) {
        overrun = true;
        throw new LanspreadError('CHUNK_CRC_MISMATCH', `Source sent more than ${chunk.length} bytes`);
      }
      received += piece.byteLength;
      crc = crc32Update(piece, crc);
      onBytes(piece.byteLength);
      // The piece is the socket's own buffer, never reused by it: holding it until written is safe.
      gathered.push(piece);
      gatheredBytes += piece.byteLength;
      if (gatheredBytes >= WRITE_BATCH_BYTES || gathered.length >= MAX_BATCH_PIECES) flushBatch();
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
    }
    if (writeError) throw new LocalFailure(writeError);
    if (overrun) throw new LanspreadError('CHUNK_CRC_MISMATCH', `${source.name} sent more than ${chunk.length} bytes for ${chunk.path}@${chunk.offset}`);
    if (fetchError !== null) throw fetchError;
    if (received !== chunk.length) {
      throw new LanspreadError('CHUNK_CRC_MISMATCH', `${source.name} sent ${received} of ${chunk.length} bytes for ${chunk.path}@${chunk.offset}`);
    }
    if (crc !== chunk.crc) {
      throw new LanspreadError('CHUNK_CRC_MISMATCH', `${source.name} sent a chunk of ${chunk.path}@${chunk.offset} with a wrong CRC32`);
    }
  };
}
