import { createHash, X509Certificate } from 'node:crypto';
import { LanspreadError } from '../../../shared/errors';
import type { PeerId } from '../../../shared/model';

/** A peer id is the lowercase hex SHA-256 of its certificate's DER bytes. */
export function fingerprintOfDer(der: Uint8Array): PeerId {
  return createHash('sha256').update(der).digest('hex');
}

export function fingerprintOfPem(pem: string): PeerId {
  return fingerprintOfDer(derOfCertificatePem(pem));
}

/** Parses (and so validates) a PEM certificate and returns its DER bytes. */
export function derOfCertificatePem(pem: string): Uint8Array {
  try {
    return new Uint8Array(new X509Certificate(pem).raw);
  } catch (error) {
    throw new LanspreadError('MALFORMED_MESSAGE', 'Not a PEM certificate', { cause: error });
  }
}

const PEER_ID_PATTERN = /^[0-9a-f]{64}$/;

export function isPeerId(value: unknown): value is PeerId {
  return typeof value === 'string' && PEER_ID_PATTERN.test(value);
}
