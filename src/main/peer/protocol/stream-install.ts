import type { ErrorCode } from '../../../shared/errors';

/**
 * StreamInstall: the receiver asks a peer for one game at one exact version, and the peer
 * answers on the same data-lane connection with a sequence of frames instead of a single reply:
 *
 *   Begin · (Entry · (Data + raw bytes)* · EntryEnd)* · End        or, at any point, Error
 *
 * Directory entries have no Data and no EntryEnd. Each entry's CRC32 trails its data: the
 * sender computes it during its single pass over the archive (RAR5 sets hashed with BLAKE2
 * carry no CRC32 to announce up front), and the receiver checks it before the entry counts.
 */

/** Raw bytes after one Data frame; a sender splits larger writes. */
export const MAX_STREAM_DATA_BYTES = 1024 * 1024;
/** Entry paths are relative, '/'-separated; longer is hostile. */
export const MAX_STREAM_PATH_LENGTH = 4096;

export type StreamEntryKind = 'file' | 'directory';

export type StreamInstallFrame =
  /** Totals from the archive headers: a ceiling the stream may not exceed (links are skipped). */
  | { type: 'Begin'; gameId: string; version: string; entries: number; totalBytes: number }
  | { type: 'Entry'; path: string; kind: StreamEntryKind; size: number }
  | { type: 'Data'; length: number }
  | { type: 'EntryEnd'; crc32: number }
  /** What was actually sent; the receiver checks it against what it received. */
  | { type: 'End'; files: number; directories: number; bytes: number }
  | { type: 'Error'; code: ErrorCode; message: string };

export type StreamInstallFrameType = StreamInstallFrame['type'];
