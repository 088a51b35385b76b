import path from 'node:path';
import type { GameFileEntry, GameManifest } from '../../../shared/model';
import type { FileIndex } from './file-index';
import { listServedFiles } from './served-files';

/** Chunk size of served manifests: big enough for few requests, small enough for cheap retries. */
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

/**
 * The manifest a peer serves for one game: the served files (see listServedFiles) with their
 * size and per-chunk CRC32, taken from the index when a file is unchanged and hashed in the
 * worker otherwise. version.ini is included: downloaders fetch it like the rest and commit it last.
 */
export async function buildManifest(root: string, gameId: string, version: string, chunkSize: number, index: FileIndex): Promise<GameManifest> {
  const served = await listServedFiles(root);
  const files: GameFileEntry[] = [];
  for (const file of served) {
    const { size, chunkCrcs } = await index.chunkCrcs(gameId, file.path, path.join(root, ...file.path.split('/')), chunkSize);
    files.push({ path: file.path, size, chunkCrcs });
  }
  index.retain(gameId, new Set(served.map((file) => file.path)));
  return { gameId, version, chunkSize, files };
}
