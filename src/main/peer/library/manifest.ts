import path from 'node:path';
import type { GameFileEntry, GameManifest } from '../../../shared/model';
import type { FileIndex } from './file-index';
import { listServedFiles } from './served-files';

/**
 * Smallest chunk size of served manifests. A chunk is also the unit a downloader re-shares: a
 * partial peer serves a chunk once it has all of it, so at 50 Mbit/s a 256 KiB chunk is passed
 * on after 0.04 s where a 1 MiB one waited 0.17 s; in a flash crowd of 8 the room's first
 * seconds, when only the seed has anything, end that much sooner (bench `swarm`, and what
 * BitTorrent clients choose for a game of this size). Per-request costs stay small (a few
 * pipelined requests per source).
 */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;
/** Chunks a manifest aims to stay under: 65,536 hashes keep it near 4.4 MB, well inside a response frame. */
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
