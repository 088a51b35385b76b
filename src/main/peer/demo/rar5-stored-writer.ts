import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

/**
 * A minimal RAR5 writer: stored method (no compression), no encryption, optionally split into
 * volumes (`<base>.partN.rar`). It exists so tests, benches and the demo library can make games
 * of any size in a fresh clone without WinRAR. Data is streamed: each header is written with a
 * placeholder CRC, the data follows, and the header is patched in place once the CRC is known,
 * so a 1 GiB archive never sits in memory.
 */

export interface Rar5Entry {
  /** '/'-separated path inside the archive. */
  name: string;
  /** Directories have no data. */
  directory?: boolean;
  size: number;
  /** The entry's bytes, in order; must yield exactly `size` bytes. */
  data?: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface Rar5WriteOptions {
  /** Single archive path (`x.rar`), or with `volumeSize` the base name: `x.part1.rar`, ... */
  archivePath: string;
  entries: Rar5Entry[];
  /** Split into volumes of at most about this many bytes (headers may add a little). */
  volumeSize?: number;
  mtime?: Date;
}

const SIGNATURE = Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00]);
const HEAD_MAIN = 1;
const HEAD_FILE = 2;
const HEAD_END = 5;
const HFL_DATA = 0x0002;
const HFL_SPLIT_BEFORE = 0x0008;
const HFL_SPLIT_AFTER = 0x0010;
const MHFL_VOLUME = 0x0001;
const MHFL_VOLNUMBER = 0x0002;
const FHFL_DIRECTORY = 0x0001;
const FHFL_UTIME = 0x0002;
const FHFL_CRC32 = 0x0004;
const HOST_UNIX = 1;
const MIN_VOLUME_SIZE = 64 * 1024;

function vint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value >>> 0);
  return buffer;
}

/** CRC32 of (size vint + body), then size vint, then body. */
function block(body: Buffer): Buffer {
  const size = vint(body.length);
  const crc = crc32(Buffer.concat([size, body]));
  return Buffer.concat([u32(crc), size, body]);
}

function mainHeader(volumeNumber: number | null): Buffer {
  if (volumeNumber === null) return block(Buffer.concat([vint(HEAD_MAIN), vint(0), vint(0)]));
  const flags = MHFL_VOLUME | (volumeNumber > 0 ? MHFL_VOLNUMBER : 0);
  const parts = [vint(HEAD_MAIN), vint(0), vint(flags)];
  if (volumeNumber > 0) parts.push(vint(volumeNumber));
  return block(Buffer.concat(parts));
}

function endHeader(moreVolumes: boolean): Buffer {
  return block(Buffer.concat([vint(HEAD_END), vint(0), vint(moreVolumes ? 1 : 0)]));
}

interface FilePart {
  entry: Rar5Entry;
  dataSize: number;
  splitBefore: boolean;
  splitAfter: boolean;
  crc: number;
  mtime: number;
}

function fileHeader(part: FilePart): Buffer {
  const { entry } = part;
  const isDir = entry.directory === true;
  let headerFlags = isDir ? 0 : HFL_DATA;
  if (part.splitBefore) headerFlags |= HFL_SPLIT_BEFORE;
  if (part.splitAfter) headerFlags |= HFL_SPLIT_AFTER;
  const name = Buffer.from(entry.name, 'utf8');
  const fields = [vint(HEAD_FILE), vint(headerFlags)];
  if (!isDir) fields.push(vint(part.dataSize));
  fields.push(
    vint(FHFL_UTIME | (isDir ? FHFL_DIRECTORY : FHFL_CRC32)),
    vint(isDir ? 0 : entry.size),
    vint(isDir ? 0o40755 : 0o100644),
    u32(part.mtime),
  );
  if (!isDir) fields.push(u32(part.crc));
  // Compression info 0 = version 0, not solid, method 0 (store), smallest dictionary.
  fields.push(vint(0), vint(HOST_UNIX), vint(name.length), name);
  return block(Buffer.concat(fields));
}

/** Volume file names in order: `x.part1.rar`, `x.part2.rar`, ... (digits widened to the count). */
export function volumeName(archivePath: string, index: number, digits: number): string {
  const base = archivePath.replace(/(\.part\d+)?\.rar$/i, '');
  return `${base}.part${String(index + 1).padStart(digits, '0')}.rar`;
}

class VolumeSink {
  private handle: FileHandle | null = null;
  private position = 0;
  private index = 0;
  readonly written: string[] = [];

  constructor(
    private readonly options: Rar5WriteOptions,
    private readonly pathFor: (index: number) => string,
  ) {}

  get multi(): boolean {
    return this.options.volumeSize !== undefined;
  }

  /** Bytes left in this volume (Infinity for a single archive). */
  get room(): number {
    if (!this.multi) return Infinity;
    return Math.max(0, (this.options.volumeSize ?? 0) - this.position);
  }

  get offset(): number {
    return this.position;
  }

  async openNext(): Promise<void> {
    if (this.handle) throw new Error('previous volume still open');
    const file = this.pathFor(this.index);
    this.handle = await open(file, 'w');
    this.written.push(file);
    this.position = 0;
    await this.write(SIGNATURE);
    await this.write(mainHeader(this.multi ? this.index : null));
    this.index += 1;
  }

  async closeCurrent(moreVolumes: boolean): Promise<void> {
    if (!this.handle) return;
    await this.write(endHeader(moreVolumes));
    await this.handle.close();
    this.handle = null;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.handle) throw new Error('no open volume');
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, this.position);
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }

  async patch(at: number, bytes: Buffer): Promise<void> {
    if (!this.handle) throw new Error('no open volume');
    await this.handle.write(bytes, 0, bytes.length, at);
  }

  async abort(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }
}

/** Pulls exactly `wanted` bytes from an iterator, keeping any remainder for the next call. */
class ByteReader {
  private pending: Uint8Array = new Uint8Array(0);
  private readonly iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.iterator =
      Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<Uint8Array>)[Symbol.iterator]();
  }

  async next(max: number): Promise<Uint8Array | null> {
    if (this.pending.length === 0) {
      const result = await this.iterator.next();
      if (result.done) return null;
      this.pending = result.value;
    }
    const take = this.pending.subarray(0, max);
    this.pending = this.pending.subarray(take.length);
    return take;
  }
}

/** Writes the archive (or volume set) and returns the paths written, first volume first. */
export async function writeRar5Stored(options: Rar5WriteOptions): Promise<string[]> {
  const entryCount = options.entries.length;
  const estimatedVolumes = options.volumeSize
    ? Math.ceil(options.entries.reduce((sum, e) => sum + e.size + 256, 0) / options.volumeSize) + 1
    : 1;
  const digits = Math.max(1, String(estimatedVolumes).length);
  if (options.volumeSize !== undefined && options.volumeSize < MIN_VOLUME_SIZE) {
    throw new Error(`volumeSize must be at least ${MIN_VOLUME_SIZE}`);
  }
  const sink = new VolumeSink(options, (index) => (options.volumeSize ? volumeName(options.archivePath, index, digits) : options.archivePath));
  const mtime = Math.floor((options.mtime ?? new Date()).getTime() / 1000);
  try {
    await sink.openNext();
    for (let e = 0; e < entryCount; e++) {
      const entry = options.entries[e] as Rar5Entry;
      if (entry.directory) {
        await sink.write(fileHeader({ entry, dataSize: 0, splitBefore: false, splitAfter: false, crc: 0, mtime }));
        continue;
      }
      await writeFileEntry(sink, entry, mtime);
    }
    await sink.closeCurrent(false);
  } catch (error) {
    await sink.abort();
    throw error;
  }
  return sink.written;
}

async function writeFileEntry(sink: VolumeSink, entry: Rar5Entry, mtime: number): Promise<void> {
  const reader = new ByteReader(entry.data ? entry.data() : []);
  let remaining = entry.size;
  let wholeCrc = 0;
  let splitBefore = false;
  do {
    // Leave room for the header; a volume too full for any data starts the next one.
    const headerGuess = fileHeader({ entry, dataSize: remaining, splitBefore, splitAfter: true, crc: 0, mtime }).length;
    if (sink.multi && sink.room < headerGuess + 64 && remaining > 0) {
      await sink.closeCurrent(true);
      await sink.openNext();
    }
    const room = sink.room - headerGuess - 32;
    const dataSize = Math.min(remaining, Math.max(1, room));
    const splitAfter = dataSize < remaining;
    const headerAt = sink.offset;
    const draft: FilePart = { entry, dataSize, splitBefore, splitAfter, crc: 0, mtime };
    await sink.write(fileHeader(draft));
    let partCrc = 0;
    let left = dataSize;
    while (left > 0) {
      const chunk = await reader.next(left);
      if (!chunk) throw new Error(`entry ${entry.name} yielded fewer than ${entry.size} bytes`);
      partCrc = crc32(chunk, partCrc);
      wholeCrc = crc32(chunk, wholeCrc);
      await sink.write(chunk);
      left -= chunk.length;
    }
    remaining -= dataSize;
    // RAR5: a non-final part carries the CRC of its own data; the final part the whole file's.
    draft.crc = splitAfter ? partCrc : wholeCrc;
    await sink.patch(headerAt, fileHeader(draft));
    if (splitAfter) {
      await sink.closeCurrent(true);
      await sink.openNext();
      splitBefore = true;
    }
  } while (remaining > 0);
  if ((await reader.next(1)) !== null) throw new Error(`entry ${entry.name} yielded more than ${entry.size} bytes`);
}
