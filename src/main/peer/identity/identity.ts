import { createPrivateKey, createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PeerId } from '../../../shared/model';
import { writeFileAtomic } from '../fs/atomic-write';
import type { Logger } from '../util/logger';
import { silentLogger } from '../util/logger';
import { fingerprintOfDer } from './fingerprint';
import { ensureReflectMetadata } from './reflect-metadata-shim';

/** Who this install is on the wire: a key pair, its self-signed certificate, and the id derived from it. */
export interface PeerIdentity {
  /** Lowercase hex SHA-256 of `certDer`. */
  peerId: PeerId;
  certPem: string;
  /** Unencrypted PKCS#8 PEM: the QUIC library crashes the process on an encrypted key. */
  keyPem: string;
  certDer: Uint8Array;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** Peers pin the fingerprint, not a CA, so expiry buys nothing; it only has to outlive the install. */
const VALIDITY_YEARS = 100;

export function identityPaths(stateDir: string): { dir: string; key: string; cert: string } {
  const dir = path.join(stateDir, 'identity');
  return { dir, key: path.join(dir, 'key.pem'), cert: path.join(dir, 'cert.pem') };
}

/**
 * Returns the identity stored in `<stateDir>/identity/`, creating it on first start. Files that
 * are missing, unreadable or do not belong together are replaced by a fresh identity: the peer
 * gets a new id (peers re-learn it through discovery) instead of failing to start.
 */
export async function loadOrCreateIdentity(stateDir: string, logger: Logger = silentLogger): Promise<PeerIdentity> {
  const paths = identityPaths(stateDir);
  let existing: PeerIdentity | null = null;
  try {
    existing = await loadIdentity(paths.key, paths.cert);
  } catch (error) {
    logger.warn('Stored identity unusable, creating a new one', { reason: error instanceof Error ? error.message : String(error) });
  }
  if (existing) return existing;
  const created = await generateIdentity();
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  // Certificate first: a crash between the two writes leaves a key/cert mismatch, which the
  // next start detects and regenerates, never a half-written file.
  await writeFileAtomic(paths.cert, created.certPem);
  await writeFileAtomic(paths.key, created.keyPem, { mode: 0o600 });
  // The umask may have narrowed the mode further but never widens it; make it exact anyway.
  await chmod(paths.key, 0o600);
  logger.info('Created peer identity', { peerId: created.peerId });
  return created;
}

/** Null when nothing is stored yet; throws when something is stored but unusable. */
async function loadIdentity(keyPath: string, certPath: string): Promise<PeerIdentity | null> {
  let keyPem: string;
  let certPem: string;
  try {
    [keyPem, certPem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const cert = new X509Certificate(certPem);
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== 'ec') throw new Error('Stored key is not an EC key');
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const fromCert = cert.publicKey.export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromCert)) throw new Error('Stored key does not match the stored certificate');
  const certDer = new Uint8Array(cert.raw);
  return { peerId: fingerprintOfDer(certDer), certPem, keyPem, certDer };
}

/** Creates a fresh ECDSA P-256 key pair and a long-lived self-signed certificate for it. */
export async function generateIdentity(now: Date = new Date()): Promise<PeerIdentity> {
  // Loaded lazily: the shim must be in place before the library's module body runs.
  ensureReflectMetadata();
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto;
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALIDITY_YEARS);
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0] ?? 0) & 0x7f; // DER serial numbers must be positive
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(serial).toString('hex'),
      name: 'CN=lanspread-peer',
      // A day of slack so a peer whose clock runs behind still accepts the certificate.
      notBefore: new Date(now.getTime() - 24 * 3600 * 1000),
      notAfter,
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
    },
    crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = withNewline(x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'));
  const certPem = withNewline(cert.toString('pem'));
  const certDer = new Uint8Array(cert.rawData);
  return { peerId: fingerprintOfDer(certDer), certPem, keyPem, certDer };
}

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
