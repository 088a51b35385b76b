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
export function createChunkFetcher(gameId: string, transaction: SentinelTransaction): ChunkFetcher {
  return async (source, chunk, signal, onBytes) => {
    let crc = 0;
    let received = 0;
    let closed = false;
    let writeError: LanspreadError | null = null;
    let overrun = false;
    let writes: Promise<void> = Promise.resolve();
    const sink = (piece: Uint8Array): Promise<void> => {
      if (closed || writeError) return writes;
      if (received + piece.byteLength > chunk.length) {
        overrun = true;
        throw new LanspreadError('CHUNK_CRC_MISMATCH', `Source sent more than ${chunk.length} bytes`);
      }
      const position = chunk.offset + received;
      received += piece.byteLength;
      crc = crc32Update(piece, crc);
      onBytes(piece.byteLength);
      writes = writes.then(() =>
        transaction.write(chunk.fileIndex, position, piece).catch((error: unknown) => {
          writeError ??= toLanspreadError(error);
          throw writeError;
        }),
      );
      return writes;
    };
    let fetchError: unknown = null;
    try {
      await source.fetchChunk({ gameId, path: chunk.path, offset: chunk.offset, length: chunk.length }, sink, signal);
    } catch (error) {
      fetchError = error ?? new Error('unknown failure');
    } finally {
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
