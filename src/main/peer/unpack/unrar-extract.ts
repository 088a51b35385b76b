import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createExtractorFromFile } from 'node-unrar-js';
import { LanspreadError } from '../../../shared/errors';
import { joinInside, splitRelativePath } from '../fs/safe-path';
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

/** Names under the target's root that belong to the launcher (e.g. the ownership marker). */
const LAUNCHER_PREFIX = '.lanspread';

interface FileState {
  position: number;
  size: number;
}

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

/** Sum of the unpacked sizes, from a header-only pass over every volume. */
export async function listArchiveSize(archive: string, password?: string): Promise<number> {
  const extractor = await createHookedExtractor(archive, null, password);
  let encrypted = false;
  try {
    const list = extractor.getFileList();
    encrypted = list.arcHeader.flags.headerEncrypted;
    let total = 0;
    for (const header of list.fileHeaders) {
      encrypted ||= header.flags.encrypted;
      if (!header.flags.directory) total += header.unpSize;
    }
    return total;
  } catch (error) {
    throw toArchiveError(error, { archive: path.basename(archive), passwordGiven: password !== undefined, encrypted });
  }
}

export async function extractArchiveSet(options: ExtractSetOptions): Promise<UnpackResult> {
  const created = { count: 0 };
  const extractor = await createHookedExtractor(options.archive, { targetDir: options.targetDir, created, onBytes: options.onBytes }, options.password);
  const result: UnpackResult = { files: 0, directories: 0, bytes: 0, skippedLinks: [] };
  let encrypted = false;
  try {
    const extraction = extractor.extract();
    encrypted = extraction.arcHeader.flags.headerEncrypted;
    let entries = 0;
    for (const { fileHeader } of extraction.files) {
      entries += 1;
      encrypted ||= fileHeader.flags.encrypted;
      if (fileHeader.flags.directory) {
        // unrar does not create empty directories in file mode; a game may rely on them.
        mkdirSync(outputPath(options.targetDir, fileHeader.name), { recursive: true });
        result.directories += 1;
      } else if (created.count === 0) {
        // The entry produced no file: a symlink, junction or hard link that unrar skipped.
        result.skippedLinks.push(fileHeader.name);
      } else {
        result.files += 1;
        result.bytes += fileHeader.unpSize;
      }
      created.count = 0;
    }
    if (entries === 0 && encrypted) {
      // A header-encrypted RAR3 archive can list nothing, without an error, for a wrong password.
      throw new LanspreadError('ARCHIVE_BAD_PASSWORD', `No entries readable in ${JSON.stringify(path.basename(options.archive))}: wrong password?`);
    }
    return result;
  } catch (error) {
    throw toArchiveError(error, { archive: path.basename(options.archive), passwordGiven: options.password !== undefined, encrypted });
  }
}

interface OutputSide {
  targetDir: string;
  created: { count: number };
  onBytes(delta: number): void;
}

function outputPath(targetDir: string, name: string): string {
  const relative = name.replace(/\/+$/, '');
  const first = splitRelativePath(relative)[0] ?? '';
  if (first.toLowerCase().startsWith(LAUNCHER_PREFIX)) {
    throw new LanspreadError('PATH_FORBIDDEN', `Archive entry uses a launcher-owned name: ${JSON.stringify(name)}`);
  }
  return joinInside(targetDir, relative);
}

async function createHookedExtractor(archive: string, output: OutputSide | null, password?: string) {
  const archiveDir = path.dirname(path.resolve(archive));
  const extractor = await createExtractorFromFile({ filepath: path.resolve(archive), targetPath: output?.targetDir ?? archiveDir, password });
  const hooks = extractor as unknown as ExtractorHooks;
  const files = new Map<number, FileState>();

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
    files.set(fd, { position: 0, size: fstatSync(fd).size });
    return fd;
  };

  hooks.create = (filename: string): number => {
    if (!output) throw new LanspreadError('INTERNAL', 'create called while listing');
    const target = outputPath(output.targetDir, filename);
    mkdirSync(path.dirname(target), { recursive: true });
    const fd = openSync(target, 'w');
    files.set(fd, { position: 0, size: 0 });
    output.created.count += 1;
    return fd;
  };

  hooks.read = (fd: number, buf: number, size: number): number => {
    const file = files.get(fd) as FileState;
    const count = readSync(fd, hooks.unrar.HEAPU8, buf, size, file.position);
    file.position += count;
    return count;
  };

  hooks.write = (fd: number, buf: number, size: number): boolean => {
    const file = files.get(fd) as FileState;
    let done = 0;
    while (done < size) done += writeSync(fd, hooks.unrar.HEAPU8, buf + done, size - done);
    file.position += size;
    file.size += size;
    output?.onBytes(size);
    return true;
  };

  hooks.tell = (fd: number): number => (files.get(fd) as FileState).position;

  hooks.seek = (fd: number, pos: number, method: 'SET' | 'CUR' | 'END'): boolean => {
    const file = files.get(fd) as FileState;
    const base = method === 'SET' ? 0 : method === 'END' ? file.size : file.position;
    const next = base + pos;
    if (next < 0 || next > file.size) return false;
    file.position = next;
    return true;
  };

  hooks.closeFile = (fd: number): void => {
    files.delete(fd);
    closeSync(fd);
  };

  return extractor;
}
