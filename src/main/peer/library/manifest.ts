import path from 'node:path';
import type { GameFileEntry, GameManifest } from '../../../shared/model';
import type { FileIndex } from './file-index';
import { listServedFiles } from './served-files';

/**
 * Chunk size of served manifests. A chunk is also the unit a downloader re-shares: a partial
 * peer serves a chunk once it has all of it, so at 50 Mbit/s a 1 MiB chunk is passed on after
 * 0.17 s where a 4 MiB one waited 0.7 s, and a 100 MiB game has 100 pieces to spread across a
 * room instead of 25. Per-request costs stay small (a few pipelined requests per source).
 */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

/**
 * The manifest a peer serves for one game: the served files (see listServedFiles) with their
 * size and per-chunk SHA-256, taken from the index when a file is unchanged and hashed in the
 * worker otherwise. version.ini is included: downloaders fetch it like the rest and commit it last.
 */
export async function buildManifest(root: string, gameId: string, version: string, chunkSize: number, index: FileIndex): Promise<GameManifest> {
  const served = await listServedFiles(root);
  const files: GameFileEntry[] = [];
  for (const file of served) {
    const { size, chunkHashes } = await index.chunkHashes(gameId, file.path, path.join(root, ...file.path.split('/')), chunkSize);
    files.push({ path: file.path, size, chunkHashes });
  }
  index.retain(gameId, new Set(served.map((file) => file.path)));
  return { gameId, version, chunkSize, files };
}
