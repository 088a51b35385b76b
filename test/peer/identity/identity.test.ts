import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintOfDer, fingerprintOfPem, isPeerId } from '../../../src/main/peer/identity/fingerprint';
import { identityPaths, loadOrCreateIdentity } from '../../../src/main/peer/identity/identity';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'lanspread-identity-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('loadOrCreateIdentity', () => {
  it('creates an ECDSA P-256 key and a long-lived self-signed certificate on first start', async () => {
    const identity = await loadOrCreateIdentity(stateDir);
    const paths = identityPaths(stateDir);
    expect(await readFile(paths.cert, 'utf8')).toBe(identity.certPem);
    expect(await readFile(paths.key, 'utf8')).toBe(identity.keyPem);
    expect((await stat(paths.key)).mode & 0o777).toBe(0o600);
    expect(identity.keyPem).toContain('BEGIN PRIVATE KEY');
    expect(identity.keyPem).not.toContain('ENCRYPTED');

    const cert = new X509Certificate(identity.certPem);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(cert.validTo).getUTCFullYear()).toBeGreaterThan(new Date().getUTCFullYear() + 50);
    expect(createPublicKey(createPrivateKey(identity.keyPem)).export({ type: 'spki', format: 'der' }).equals(cert.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);

    expect(isPeerId(identity.peerId)).toBe(true);
    expect(identity.peerId).toBe(fingerprintOfDer(new Uint8Array(cert.raw)));
    expect(identity.peerId).toBe(fingerprintOfPem(identity.certPem));
    expect(Buffer.from(identity.certDer).equals(cert.raw)).toBe(true);
    // Same as `openssl x509 -fingerprint -sha256`, lowercased without colons.
    expect(identity.peerId).toBe(cert.fingerprint256.replaceAll(':', '').toLowerCase());
  });

  it('reuses the stored identity on later starts', async () => {
    const first = await loadOrCreateIdentity(stateDir);
    const second = await loadOrCreateIdentity(stateDir);
    expect(second.peerId).toBe(first.peerId);
    expect(second.keyPem).toBe(first.keyPem);
  });

  it.each([
    ['a corrupt certificate', 'cert', 'not a certificate'],
    ['a corrupt key', 'key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'],
    ['an empty key file', 'key', ''],
  ] as const)('replaces %s with a fresh identity instead of crashing', async (_name, which, content) => {
    const first = await loadOrCreateIdentity(stateDir);
    await writeFile(identityPaths(stateDir)[which], content);
    const second = await loadOrCreateIdentity(stateDir);
    expect(second.peerId).not.toBe(first.peerId);
    expect(await loadOrCreateIdentity(stateDir)).toMatchObject({ peerId: second.peerId });
  });

  it('replaces a key that does not belong to the certificate', async () => {
    const first = await loadOrCreateIdentity(stateDir);
    const otherDir = await mkdtemp(path.join(tmpdir(), 'lanspread-identity-other-'));
    try {
      const other = await loadOrCreateIdentity(otherDir);
      await writeFile(identityPaths(stateDir).key, other.keyPem);
      const replaced = await loadOrCreateIdentity(stateDir);
      expect([first.peerId, other.peerId]).not.toContain(replaced.peerId);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('creates the identity when only one of the two files exists', async () => {
    const first = await loadOrCreateIdentity(stateDir);
    await rm(identityPaths(stateDir).key);
    const second = await loadOrCreateIdentity(stateDir);
    expect(second.peerId).not.toBe(first.peerId);
    expect((await stat(identityPaths(stateDir).key)).mode & 0o777).toBe(0o600);
  });
});
