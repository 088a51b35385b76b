import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { GameFileEntry, GameManifest } from '../../../shared/model';
import { isReservedRootEntry, splitRelativePath } from '../fs/safe-path';
import type { FileIndex } from './file-index';

/** Chunk size of served manifests: big enough for few requests, small enough for cheap retries. */
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

/**
 * The file list a peer serves for one game: every regular file under the root, except local/,
 * the launcher's reserved entries and anything that is not a regular file (symlinks are never
 * followed). version.ini is included: downloaders fetch it like the rest and commit it last.
 */
export async function buildManifest(root: string, gameId: string, version: string, chunkSize: number, index: FileIndex): Promise<GameManifest> {
  const relativePaths = await listServedFiles(root);
  const files: GameFileEntry[] = [];
  for (const relative of relativePaths) {
    const { size, chunkCrcs } = await index.chunkCrcs(gameId, relative, path.join(root, ...relative.split('/')), chunkSize);
    files.push({ path: relative, size, chunkCrcs });
  }
  index.retain(gameId, new Set(relativePaths));
  return { gameId, version, chunkSize, files };
}

export async function listServedFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (prefix === '' && isReservedRootEntry(entry.name)) continue;
      const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), relative);
      else if (entry.isFile() && isPortablePath(relative)) out.push(relative);
    }
  };
  await walk(root, '');
  return out.sort();
}

/** Names a downloader would refuse (backslash, ':', trailing dot...) are not offered at all. */
function isPortablePath(relative: string): boolean {
  try {
    splitRelativePath(relative);
    return true;
  } catch {
    return false;
  }
}
