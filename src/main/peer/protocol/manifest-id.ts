import { createHash } from 'node:crypto';
import type { GameManifest } from '../../../shared/model';

/** A chunk hash on the wire: SHA-256, lowercase hex. */
export const CHUNK_HASH_PATTERN = /^[0-9a-f]{64}$/;

/**
 * The manifest's id: SHA-256 of its canonical encoding (field order fixed, files in manifest
 * order, per-chunk SHA-256s included). Two peers announcing the same id serve the same bytes,
 * so chunks from both can be mixed; a chunk hash cannot be forged by a peer that relays it.
 */
export function manifestId(manifest: GameManifest): string {
  const canonical = JSON.stringify([manifest.gameId, manifest.version, manifest.chunkSize, manifest.files.map((file) => [file.path, file.size, file.chunkHashes])]);
  return createHash('sha256').update(canonical).digest('hex');
}
