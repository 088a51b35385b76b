import { createHash } from 'node:crypto';

/** SHA-256 in lowercase hex: the chunk hash of manifests. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
