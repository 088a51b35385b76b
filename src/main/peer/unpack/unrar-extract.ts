import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createExtractorFromFile } from 'node-unrar-js';
import type { FileHeader } from 'node-unrar-js';
import { LanspreadError } from '../../../shared/errors';
import { stagingPath } from '../fs/safe-path';
import { toArchiveError } from './unrar-errors';
import type { UnpackResult } from './unpacker';

/**
 * One archive set extracted with node-unrar-js in file mode, run inside a worker thread (it is
 * synchronous, and the wasm instance is per thread). The extractor's file hooks are replaced:
 * - `open` only reads the archive's own volumes; RAR5 file-copy references (which the stock
 *   hook resolves against the process's current directory) are refused;
 * - `create` validates every output path to stay inside the target directory;
 * - `read`/`write` move bytes straight between the file and the wasm heap, so memory stays
 *   bounded by unrar's own buffers whatever the file sizes.
 */

/** The parts of node-unrar-js's ExtractorFile we replace (they are protected in its typings). */
interface ExtractorHooks {
  unrar: { HEAPU8: Uint8Array };
  open(filename: string): number;
  create(filename: string): number;
  read(fd: number, buf: number, size: number): number;
  write(fd: number, buf: number, size: number): boolean;
  tell(fd: number): number;
  seek(fd: number, pos: number, method: 'SET' | 'CUR' | 'END'): boolean;
  closeFile(fd: number): void;
}

export interface ExtractSetOptions {
  archive: string;
  targetDir: string;
  password?: string;
  /** Called with each number of content bytes written. */
  onBytes(delta: number): void;
}

/** Every entry header of a set, from a header-only pass over its volumes (no decompression). */
export async function listArchiveHeaders(archive: string, password?: string): Promise<FileHeader[]> {
  const extractor = await openArchiveSet(archive, null, password);
  let encrypted = false;
  try {
    const list = extractor.getFileList();
    encrypted = list.arcHeader.flags.headerEncrypted;
    const headers: FileHeader[] = [];
    for (const header of list.fileHeaders) {
      encrypted ||= header.flags.encrypted;
      headers.push(header);
    }
    return headers;
  } catch (error) {
    throw toArchiveError(error, { archive: path.basename(archive), passwordGiven: password !== undefined, encrypted });
  }
}

/** Sum of the unpacked sizes of a set's files. */
export async function listArchiveSize(archive: string, password?: string): Promise<number> {
  let total = 0;
  for (const header of await listArchiveHeaders(archive, password)) if (!header.flags.directory) total += header.unpSize;
  return total;
}

export async function extractArchiveSet(options: ExtractSetOptions): Promise<UnpackResult> {
  const output = fileOutput(options.targetDir, options.onBytes);
  const extractor = await openArchiveSet(options.archive, output, options.password);
  const result: UnpackResult = { files: 0, directories: 0, bytes: 0, skippedLinks: [] };
  await walkEntries(extractor, options, output, {
    directory(name) {
      // unrar does not create empty directories in file mode; a game may rely on them.
      mkdirSync(stagingPath(options.targetDir, name), { recursive: true });
      result.directories += 1;
    },
    file(header) {
      result.files += 1;
      result.bytes += header.unpSize;
    },
    link(name) {
      result.skippedLinks.push(name);
    },
  });
  return result;
}

/** Where extracted bytes go: a file per entry (install) or a stream to a peer (streamed install). */
export interface OutputSide {
  /** unrar starts writing the entry `name` (relative, as stored in the archive). */
  create(name: string): OutputFile;
  /** How many entries create() was called for; the walk resets it per entry. */
  created: number;
}

export interface OutputFile {
  /** A view into the wasm heap, valid only during the call: copy what must outlive it. */
  write(bytes: Uint8Array): void;
  close(): void;
}

export interface EntryVisitor {
  directory(name: string): void;
  /** A file entry was written completely. */
  file(header: FileHeader): void;
  /** The entry produced no file: a symlink, junction or hard link that unrar skipped. */
  link(name: string): void;
}

/** Extracts every entry of an opened set, telling `visitor` what each one turned out to be. */
export async function walkEntries(extractor: Awaited<ReturnType<typeof openArchiveSet>>, where: { archive: string; password?: string }, output: OutputSide, visitor: EntryVisitor): Promise<void> {
  let encrypted = false;
  try {
    const extraction = extractor.extract();
    encrypted = extraction.arcHeader.flags.headerEncrypted;
    let entries = 0;
    output.created = 0;
    for (const { fileHeader } of extraction.files) {
      entries += 1;
      encrypted ||= fileHeader.flags.encrypted;
      if (fileHeader.flags.directory) visitor.directory(fileHeader.name);
      else if (output.created === 0) visitor.link(fileHeader.name);
      else visitor.file(fileHeader);
      output.created = 0;
    }
    if (entries === 0 && encrypted) {
      // A header-encrypted RAR3 archive can list nothing, without an error, for a wrong password.
      throw new LanspreadError('ARCHIVE_BAD_PASSWORD', `No entries readable in ${JSON.stringify(path.basename(where.archive))}: wrong password?`);
    }
  } catch (error) {
    throw toArchiveError(error, { archive: path.basename(where.archive), passwordGiven: where.password !== undefined, encrypted });
  }
}

function fileOutput(targetDir: string, onBytes: (delta: number) => void): OutputSide {
  const side: OutputSide = {
    created: 0,
    create(name) {
      const target = stagingPath(targetDir, name);
      mkdirSync(path.dirname(target), { recursive: true });
      const fd = openSync(target, 'w');
      side.created += 1;
      return {
        write(bytes) {
          let done = 0;
          while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
          onBytes(bytes.byteLength);
        },
        close: () => closeSync(fd),
      };
    },
  };
  return side;
}

type Handle = { kind: 'volume'; fd: number; position: number; size: number } | { kind: 'output'; file: OutputFile; position: number; size: number };

/** Opens a set for listing (`output` null) or extraction with the hooks described at the top. */
export async function openArchiveSet(archive: string, output: OutputSide | null, password?: string) {
  const archiveDir = path.dirname(path.resolve(archive));
  const extractor = await createExtractorFromFile({ filepath: path.resolve(archive), targetPath: archiveDir, password });
  const hooks = extractor as unknown as ExtractorHooks;
  const handles = new Map<number, Handle>();
  // Handles unrar holds are ours, not fds: output entries may not be files at all.
  let nextHandle = 1;
  const register = (handle: Handle): number => {
    const id = nextHandle++;
    handles.set(id, handle);
    return id;
  };

  hooks.open = (filename: string): number => {
    // Volumes are siblings of the first volume, named by unrar from its absolute path. Anything
    // else (a relative name) is a RAR5 file-copy reference that would read the process's cwd.
    if (!path.isAbsolute(filename) || path.dirname(filename) !== archiveDir) {
      throw new LanspreadError('ARCHIVE_LINK_REFUSED', `Refused to read ${JSON.stringify(filename)} (file-copy reference outside the archive)`);
    }
    let fd: number;
    try {
      fd = openSync(filename, 'r');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT' && filename === path.resolve(archive)) {
        throw new LanspreadError('ARCHIVE_NOT_FOUND', `Archive ${JSON.stringify(path.basename(filename))} not found`, { cause: error });
      }
      if ((error as { code?: unknown }).code === 'ENOENT') {
        throw new LanspreadError('ARCHIVE_VOLUME_MISSING', `Volume ${JSON.stringify(path.basename(filename))} is missing`, { cause: error });
      }
      throw error;
    }
    return register({ kind: 'volume', fd, position: 0, size: fstatSync(fd).size });
  };

  hooks.create = (filename: string): number => {
    if (!output) throw new LanspreadError('INTERNAL', 'create called while listing');
    return register({ kind: 'output', file: output.create(filename), position: 0, size: 0 });
  };

  hooks.read = (id: number, buf: number, size: number): number => {
    const handle = handles.get(id);
    if (handle?.kind !== 'volume') throw new LanspreadError('INTERNAL', 'read from a handle that is not a volume');
    const count = readSync(handle.fd, hooks.unrar.HEAPU8, buf, size, handle.position);
    handle.position += count;
    return count;
  };

  hooks.write = (id: number, buf: number, size: number): boolean => {
    const handle = handles.get(id);
    if (handle?.kind !== 'output') throw new LanspreadError('INTERNAL', 'write to a handle that is not an output');
    handle.file.write(hooks.unrar.HEAPU8.subarray(buf, buf + size));
    handle.position += size;
    handle.size += size;
    return true;
  };

  hooks.tell = (id: number): number => (handles.get(id) as Handle).position;

  hooks.seek = (id: number, pos: number, method: 'SET' | 'CUR' | 'END'): boolean => {
    const handle = handles.get(id) as Handle;
    const base = method === 'SET' ? 0 : method === 'END' ? handle.size : handle.position;
    const next = base + pos;
    if (next < 0 || next > handle.size) return false;
    handle.position = next;
    return true;
  };

  hooks.closeFile = (id: number): void => {
    const handle = handles.get(id);
    handles.delete(id);
    if (handle?.kind === 'volume') closeSync(handle.fd);
    else handle?.file.close();
  };

  return extractor;
}
