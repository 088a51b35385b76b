import { mkdir, open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import { stagingPath } from '../fs/safe-path';
import type { StreamInstallFrame } from '../protocol/stream-install';
import { ensureRoomForStream } from '../runtime/disk-preflight';
import type { StreamVisitor } from '../transport/data-lane/lane-stream';
import type { UnpackResult } from '../unpack/unpacker';
import { crc32Update } from '../util/crc32';

type ControlFrame = Exclude<StreamInstallFrame, { type: 'Data' | 'Error' }>;

interface OpenFile {
  path: string;
  handle: FileHandle;
  size: number;
  received: number;
  crc: number;
}

const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Entries a receiver takes from one stream by default. Games with tens of thousands of files
 * exist; far more is a sender making the receiver create files (and remember their paths) for
 * nothing: 100,000 empty entries cost ~200 MiB and most of a minute.
 */
export const DEFAULT_MAX_STREAM_ENTRIES = 200_000;

export interface StreamReceiverLimits {
  /** Begin announcing more entries than this is refused (STREAM_TOO_MANY_ENTRIES). */
  maxEntries?: number;
}

/**
 * The receiving half of a streamed install: writes entries into a staging directory while
 * checking everything the sender claims. Every path must stay inside the staging directory and
 * avoid launcher-owned names; a path may come only once, and a file's may not end in '/'; a
 * file may not replace a directory nor the reverse; the entry count has a cap; a file gets
 * exactly its announced size and its CRC32 must match; the whole stream may not exceed the
 * totals announced in Begin, and End must match what arrived. Any breach throws a coded error,
 * and the caller removes the staging directory. Nothing here writes outside `targetDir`.
 */
export class StreamReceiver implements StreamVisitor {
  private begun: { entries: number; totalBytes: number } | null = null;
  private file: OpenFile | null = null;
  private ended = false;
  private entries = 0;
  /** Staging paths of the entries so far: a second entry with one of them would replace the first. */
  private readonly seen = new Set<string>();
  private readonly result: UnpackResult = { files: 0, directories: 0, bytes: 0, skippedLinks: [] };
  /**
   * Socket pieces (TLS records) are copied into one 1 MiB batch, written when full: few large
   * writes, and no received piece is held until a write (held pieces outlive young-generation
   * GCs and cost major ones, measured on the download path). Each write is awaited before
   * more is copied in, so one batch serves the whole stream.
   */
  private readonly batch = Buffer.allocUnsafe(WRITE_BATCH_BYTES);
  private batched = 0;

  constructor(
    private readonly targetDir: string,
    private readonly expect: { gameId: string; version: string },
    private readonly onProgress?: (bytesDone: number, bytesTotal: number) => void,
    private readonly limits: StreamReceiverLimits = {},
  ) {}

  /** What arrived, once the End frame was checked; throws if the stream did not end. */
  outcome(): UnpackResult {
    if (!this.ended) throw violation('the stream stopped before its End frame');
    return this.result;
  }

  async frame(frame: ControlFrame): Promise<void> {
    if (this.ended) throw violation(`${frame.type} after End`);
    if (frame.type === 'Begin') return this.onBegin(frame);
    if (!this.begun) throw violation(`${frame.type} before Begin`);
    switch (frame.type) {
      case 'Entry':
        return this.onEntry(frame);
      case 'EntryEnd':
        return this.onEntryEnd(frame.crc32);
      case 'End':
        return this.onEnd(frame);
    }
  }

  async data(piece: Uint8Array): Promise<void> {
    const file = this.file;
    if (!file || !this.begun) throw violation('content outside a file entry');
    if (file.received + piece.byteLength > file.size) {
      throw new LanspreadError('STREAM_SIZE_MISMATCH', `${printable(file.path)} got more than its announced ${file.size} bytes`);
    }
    if (this.result.bytes + piece.byteLength > this.begun.totalBytes) {
      throw new LanspreadError('STREAM_TOTALS_EXCEEDED', `The stream exceeds its announced ${this.begun.totalBytes} bytes`);
    }
    file.received += piece.byteLength;
    this.result.bytes += piece.byteLength;
    file.crc = crc32Update(piece, file.crc);
    for (let at = 0; at < piece.byteLength; ) {
      const take = Math.min(piece.byteLength - at, this.batch.byteLength - this.batched);
      this.batch.set(piece.subarray(at, at + take), this.batched);
      this.batched += take;
      at += take;
      if (this.batched === this.batch.byteLength) await this.writeBatch(file);
    }
    this.onProgress?.(this.result.bytes, this.begun.totalBytes);
  }

  /** Appends what the batch holds to `file` (sequentially: entries arrive in order). */
  private async writeBatch(file: OpenFile): Promise<void> {
    let written = 0;
    while (written < this.batched) written += (await file.handle.write(this.batch, written, this.batched - written)).bytesWritten;
    this.batched = 0;
  }

  /** Closes a file left open by a failed stream (the caller then removes the directory). */
  async abandon(): Promise<void> {
    const file = this.file;
    this.file = null;
    await file?.handle.close().catch(() => undefined);
  }

  private async onBegin(frame: Extract<ControlFrame, { type: 'Begin' }>): Promise<void> {
    if (this.begun) throw violation('a second Begin');
    if (frame.gameId !== this.expect.gameId || frame.version !== this.expect.version) {
      throw new LanspreadError('VERSION_CHANGED', `Asked for ${this.expect.gameId} ${this.expect.version}, the sender streams ${frame.gameId} ${frame.version}`);
    }
    const maxEntries = this.limits.maxEntries ?? DEFAULT_MAX_STREAM_ENTRIES;
    if (frame.entries > maxEntries) {
      throw new LanspreadError('STREAM_TOO_MANY_ENTRIES', `The stream announces ${frame.entries} entries; this peer takes at most ${maxEntries} from one stream`);
    }
    // The sender announces the unpacked size before the first byte: refuse what cannot fit.
    await ensureRoomForStream(this.targetDir, frame, 'the streamed install');
    this.begun = { entries: frame.entries, totalBytes: frame.totalBytes };
    this.onProgress?.(0, frame.totalBytes);
  }

  private async onEntry(frame: Extract<ControlFrame, { type: 'Entry' }>): Promise<void> {
    if (this.file) throw violation(`entry ${printable(frame.path)} while ${printable(this.file.path)} is still open`);
    this.entries += 1;
    if (this.entries > (this.begun?.entries ?? 0)) {
      throw new LanspreadError('STREAM_TOTALS_EXCEEDED', `The stream has more than its announced ${this.begun?.entries ?? 0} entries`);
    }
    // stagingPath drops a trailing '/' (a directory's): on a file it would install "x/" as "x".
    if (frame.kind === 'file' && frame.path.endsWith('/')) throw new LanspreadError('PATH_INVALID', `File entry ${printable(frame.path)} ends with '/'`);
    const target = stagingPath(this.targetDir, frame.path);
    if (this.seen.has(target)) throw new LanspreadError('STREAM_PATH_CONFLICT', `Entry ${printable(frame.path)} comes twice in the stream`);
    this.seen.add(target);
    if (frame.kind === 'directory') {
      if (frame.size !== 0) throw violation(`directory ${printable(frame.path)} with a size`);
      await makeDirectory(target, frame.path);
      this.result.directories += 1;
      return;
    }
    if (frame.size > (this.begun?.totalBytes ?? 0) - this.result.bytes) {
      throw new LanspreadError('STREAM_TOTALS_EXCEEDED', `${printable(frame.path)} (${frame.size} bytes) does not fit the announced totals`);
    }
    await makeDirectory(path.dirname(target), frame.path);
    if ((await kindOf(target)) === 'directory') {
      throw new LanspreadError('STREAM_PATH_CONFLICT', `File ${printable(frame.path)} collides with a directory`);
    }
    // Exclusive create: nothing but this receiver writes in staging, so a file already there is
    // one this stream made under another spelling of its name (a case-insensitive disk).
    const handle = await open(target, 'wx').catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'EEXIST') throw new LanspreadError('STREAM_PATH_CONFLICT', `File ${printable(frame.path)} is already in the stream`, { cause: error });
      throw error;
    });
    this.file = { path: frame.path, handle, size: frame.size, received: 0, crc: 0 };
  }

  private async onEntryEnd(expected: number): Promise<void> {
    const file = this.file;
    if (!file) throw violation('EntryEnd outside a file entry');
    if (file.received !== file.size) {
      throw new LanspreadError('STREAM_SIZE_MISMATCH', `${printable(file.path)} ended after ${file.received} of ${file.size} bytes`);
    }
    if (file.crc !== expected) {
      throw new LanspreadError('STREAM_CRC_MISMATCH', `${printable(file.path)}: CRC32 ${hex(file.crc)} does not match the sender's ${hex(expected)}`);
    }
    await this.writeBatch(file);
    this.file = null;
    await file.handle.close();
    this.result.files += 1;
  }

  private onEnd(frame: Extract<ControlFrame, { type: 'End' }>): void {
    if (this.file) throw violation(`End while ${printable(this.file.path)} is still open`);
    const { files, directories, bytes } = this.result;
    if (frame.files !== files || frame.directories !== directories || frame.bytes !== bytes) {
      throw new LanspreadError(
        'STREAM_SIZE_MISMATCH',
        `End says ${frame.files} files, ${frame.directories} directories, ${frame.bytes} bytes; received ${files}, ${directories}, ${bytes}`,
      );
    }
    this.ended = true;
  }
}

/** mkdir -p that reports a file in the way as the stream's fault, not as an I/O error. */
async function makeDirectory(target: string, entryPath: string): Promise<void> {
  try {
    await mkdir(target, { recursive: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw new LanspreadError('STREAM_PATH_CONFLICT', `Directory for ${printable(entryPath)} collides with a file`, { cause: error });
    }
    throw error;
  }
}

async function kindOf(target: string): Promise<'file' | 'directory' | null> {
  try {
    return (await stat(target)).isDirectory() ? 'directory' : 'file';
  } catch {
    return null;
  }
}

function violation(what: string): LanspreadError {
  return new LanspreadError('STREAM_PROTOCOL_VIOLATION', `Streamed install: ${what}`);
}

function printable(value: string): string {
  return JSON.stringify(value.slice(0, 200));
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
