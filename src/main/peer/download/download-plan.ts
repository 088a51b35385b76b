import { LanspreadError } from '../../../shared/errors';
import type { GameManifest } from '../../../shared/model';
import { isReservedRootEntry, joinInside } from '../fs/safe-path';
import { CHUNK_HASH_PATTERN, manifestId } from '../protocol/manifest-id';
import type { PlannedChunk } from './types';
import { SENTINEL_FILE } from './types';

/** A manifest checked for download: every path resolved inside the game root, every chunk listed. */
export interface DownloadPlan {
  manifest: GameManifest;
  gameRoot: string;
  /** Absolute target of each manifest file, same order as `manifest.files`. */
  targets: string[];
  /** Index of the root version.ini in `manifest.files`. */
  sentinelIndex: number;
  chunks: PlannedChunk[];
  totalBytes: number;
  /** The manifest's content address (SHA-256 of its canonical encoding): a journal is reused, and a source mixed in, only for the same bytes. */
  manifestId: string;
}

const MAX_CHUNK_SIZE = 256 * 1024 * 1024;

/**
 * Manifests come from peers and are untrusted: a path outside the root, into local/ or
 * launcher-owned entries, a duplicate, or chunk hashes that do not cover the file are refused
 * before anything touches the disk.
 */
export function buildDownloadPlan(manifest: GameManifest, gameRoot: string): DownloadPlan {
  const { chunkSize } = manifest;
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0 || chunkSize > MAX_CHUNK_SIZE) {
    throw malformed(`invalid chunk size ${String(chunkSize)}`);
  }
  const seen = new Set<string>();
  const targets: string[] = [];
  const chunks: PlannedChunk[] = [];
  let sentinelIndex = -1;
  let totalBytes = 0;
  manifest.files.forEach((file, fileIndex) => {
    const target = joinInside(gameRoot, file.path);
    const first = file.path.split('/')[0] ?? '';
    if (isReservedRootEntry(first)) {
      throw new LanspreadError('PATH_FORBIDDEN', `Manifest names a reserved path: ${JSON.stringify(file.path)}`);
    }
    const key = file.path.toLowerCase();
    if (seen.has(key)) throw malformed(`duplicate path ${JSON.stringify(file.path)}`);
    seen.add(key);
    if (!Number.isSafeInteger(file.size) || file.size < 0) throw malformed(`invalid size for ${JSON.stringify(file.path)}`);
    const expectedChunks = Math.ceil(file.size / chunkSize);
    if (!Array.isArray(file.chunkHashes) || file.chunkHashes.length !== expectedChunks) {
      throw malformed(`${JSON.stringify(file.path)} lists ${file.chunkHashes?.length} chunk hashes, expected ${expectedChunks}`);
    }
    if (file.path === SENTINEL_FILE) sentinelIndex = fileIndex;
    targets.push(target);
    totalBytes += file.size;
    file.chunkHashes.forEach((hash, chunkIndex) => {
      if (typeof hash !== 'string' || !CHUNK_HASH_PATTERN.test(hash)) throw malformed(`invalid chunk hash in ${JSON.stringify(file.path)}`);
      const offset = chunkIndex * chunkSize;
      chunks.push({ id: chunks.length, fileIndex, chunkIndex, path: file.path, offset, length: Math.min(chunkSize, file.size - offset), hash });
    });
  });
  // Without a root version.ini the result would never count as downloaded.
  if (sentinelIndex < 0) throw malformed(`manifest has no root ${SENTINEL_FILE}`);
  return { manifest, gameRoot, targets, sentinelIndex, chunks, totalBytes, manifestId: manifestId(manifest) };
}

function malformed(why: string): LanspreadError {
  return new LanspreadError('MALFORMED_MESSAGE', `Invalid game manifest: ${why}`);
}
