import path from 'node:path';
import type { GameFileEntry, GameManifest } from '../../../shared/model';
import type { FileIndex } from './file-index';
import { listServedFiles } from './served-files';

/**
 * Smallest chunk size of served manifests. A chunk is also the unit a downloader re-shares (a
 * partial peer serves a chunk once it has all of it) and the unit of every request, so the size
 * weighs the room's first seconds against the CPU each request costs both ends (frames both
 * ways, an upload slot, a stat and a read at the server, a hash and a write at the client).
 * 1 MiB chunks left a flash crowd's uplinks empty for 2-3 s while only the seed had anything.
 * 256 KiB filled them within a second, but in a crowd of 8 at 50 Mbit/s per link each player
 * then made about 750 requests per 100 MiB (sent and served), a large share of its CPU.
 * With 512 KiB that crowd used 12 % less CPU (five alternating scratch pairs in the bench's
 * topology: 1-28 % less in each, the seed a third less); the last player came no later
 * (21.0-21.7 s against 21.3-23.3 s), the median one 0.3-0.5 s later. A crowd of 12 at
 * 30 Mbit/s (two pairs) used 5-7 % less CPU, and its players came about 2 s later (the last
 * 1.6-3.5 s later): the slower the links, the longer a chunk takes to pass on. On a gigabit
 * LAN a chunk passes on within milliseconds, and a peer's CPU per byte is what limits it.
 */
export const DEFAULT_CHUNK_SIZE = 512 * 1024;
/** Chunks a manifest aims to stay under: 65,536 hashes keep it near 4.4 MB, well inside a response frame (512 KiB chunks up to 32 GiB). */
const TARGET_MAX_CHUNKS = 64 * 1024;
/** 64 MiB: a 4 TiB game stays at 65,536 chunks. */
const MAX_AUTO_CHUNK_SIZE = 64 * 1024 * 1024;

/** The chunk size for a game of `totalBytes`: DEFAULT_CHUNK_SIZE, doubled while the game would have more than TARGET_MAX_CHUNKS chunks. */
export function chunkSizeFor(totalBytes: number): number {
  let size = DEFAULT_CHUNK_SIZE;
  while (totalBytes / size > TARGET_MAX_CHUNKS && size < MAX_AUTO_CHUNK_SIZE) size *= 2;
  return size;
}

/**
 * The manifest a peer serves for one game: the served files (see listServedFiles) with their
 * size and per-chunk SHA-256, taken from the index when a file is unchanged and hashed in the
 * worker otherwise. Chunks are `fixedChunkSize` long if given, else chunkSizeFor the game's
 * size. version.ini is included: downloaders fetch it like the rest and commit it last.
 */
export async function buildManifest(root: string, gameId: string, version: string, fixedChunkSize: number | undefined, index: FileIndex): Promise<GameManifest> {
  const served = await listServedFiles(root);
  const chunkSize = fixedChunkSize ?? chunkSizeFor(served.reduce((sum, file) => sum + file.size, 0));
  const files: GameFileEntry[] = [];
  for (const file of served) {
    const { size, chunkHashes } = await index.chunkHashes(gameId, file.path, path.join(root, ...file.path.split('/')), chunkSize);
    files.push({ path: file.path, size, chunkHashes });
  }
  index.retain(gameId, new Set(served.map((file) => file.path)));
  return { gameId, version, chunkSize, files };
}
