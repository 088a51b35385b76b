import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { PeerId } from '../../../../shared/model';
import { fingerprintOfDer } from '../../identity/fingerprint';

/**
 * TLS settings both ends of the data lane share. Certificates are self-signed and pinned by
 * fingerprint, so chain validation is off (`rejectUnauthorized: false`) and each side checks the
 * other's fingerprint itself right after the handshake, before a single request byte moves.
 */
export const LANE_TLS_VERSION = 'TLSv1.3' as const;
export const LANE_ALPN = 'lanspread-data/1';

/** Fingerprint of the certificate the other end presented, or null when it presented none. */
export function remoteFingerprint(socket: { getPeerCertificate(detailed?: boolean): { raw?: Buffer } | null }): PeerId | null {
  const raw = socket.getPeerCertificate()?.raw;
  if (!raw || raw.byteLength === 0) return null;
  return fingerprintOfDer(raw);
}

/**
 * One client context per identity: building one parses the key and certificate again (about
 * 3 ms of the main thread), and a swarm opens a lane to every peer it hears of.
 */
const clientContexts = new WeakMap<{ keyPem: string; certPem: string }, SecureContext>();

function clientContext(identity: { keyPem: string; certPem: string }): SecureContext {
  let context = clientContexts.get(identity);
  if (!context) {
    context = createSecureContext({ key: identity.keyPem, cert: identity.certPem, minVersion: LANE_TLS_VERSION, maxVersion: LANE_TLS_VERSION });
    clientContexts.set(identity, context);
  }
  return context;
}

/** Client-side TLS options for a lane connection to `target` (the caller checks the pin). */
export function laneClientOptions(target: { host: string; dataPort: number }, identity: { keyPem: string; certPem: string }): ConnectionOptions {
  return {
    host: target.host,
    port: target.dataPort,
    secureContext: clientContext(identity),
    minVersion: LANE_TLS_VERSION,
    maxVersion: LANE_TLS_VERSION,
    // Self-signed: the pin checked after secureConnect replaces chain validation.
    rejectUnauthorized: false,
    ALPNProtocols: [LANE_ALPN],
  };
}
