import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { writeRar5Stored } from './rar5-stored-writer';
import type { Rar5Entry } from './rar5-stored-writer';

/**
 * Makes a downloaded game root (`<gameDir>/<id>/` with a RAR5 archive and version.ini) from
 * deterministic pseudo-random content, and returns what an install must produce. Content is
 * incompressible on purpose so sizes and timings resemble real game data.
 */

export interface GeneratedFile {
  path: string;
  size: number;
  crc32: number;
}

const GENERATED_MTIME = new Date('2024-01-01T00:00:00Z');

export interface GenerateGameOptions {
  gameDir: string;
  gameId: string;
  version: string;
  files: Array<{ path: string; size: number }>;
  /** Changes every byte; two versions of a game should use different seeds. */
  seed?: number;
  /** Split the archive into `<id>.partN.rar` volumes of about this size. */
  volumeSize?: number;
  /** Empty directories to include. */
  directories?: string[];
}

export interface GeneratedGame {
  root: string;
  archives: string[];
  files: GeneratedFile[];
}

const CHUNK = 1024 * 1024;

/** xorshift32 stream: fast, deterministic, and different for every (seed, file) pair. */
export function* pseudoRandomChunks(size: number, seed: number): Generator<Uint8Array> {
  let state = seed >>> 0 || 0x9e3779b9;
  let left = size;
  while (left > 0) {
    const length = Math.min(CHUNK, left);
    const words = new Uint32Array(Math.ceil(length / 4));
    for (let i = 0; i < words.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      words[i] = state >>> 0;
    }
    yield new Uint8Array(words.buffer, 0, length);
    left -= length;
  }
}

function fileSeed(seed: number, index: number): number {
  return (Math.imul(seed + 1, 0x01000193) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

export function crcOfContent(size: number, seed: number): number {
  let crc = 0;
  for (const chunk of pseudoRandomChunks(size, seed)) crc = crc32(chunk, crc);
  return crc;
}

export async function generateGame(options: GenerateGameOptions): Promise<GeneratedGame> {
  const seed = options.seed ?? 1;
  const root = path.join(options.gameDir, options.gameId);
  await mkdir(root, { recursive: true });
  const crcs: number[] = options.files.map(() => 0);
  const entries: Rar5Entry[] = (options.directories ?? []).map((name) => ({ name, directory: true, size: 0 }));
  options.files.forEach((file, index) => {
    const contentSeed = fileSeed(seed, index);
    entries.push({
      name: file.path,
      size: file.size,
      data: function* () {
        for (const chunk of pseudoRandomChunks(file.size, contentSeed)) {
          // Computed while the writer streams the content, so content is generated once.
          crcs[index] = crc32(chunk, crcs[index]);
          yield chunk;
        }
      },
    });
  });
  const archivePath = path.join(root, options.volumeSize ? `${options.gameId}.part1.rar` : `${options.gameId}.rar`);
  // A fixed time in the headers: the same options give the same bytes on every machine, so two
  // peers that generate one game announce one manifest id and can be mixed as sources.
  const archives = await writeRar5Stored({ archivePath, entries, volumeSize: options.volumeSize, mtime: GENERATED_MTIME });
  await writeFile(path.join(root, 'version.ini'), `${options.version}\n`);
  const files = options.files.map((file, index) => ({ path: file.path, size: file.size, crc32: (crcs[index] ?? 0) >>> 0 }));
  return { root, archives, files };
}
