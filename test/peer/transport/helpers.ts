import { generateIdentity } from '../../../src/main/peer/identity/identity';
import type { PeerIdentity } from '../../../src/main/peer/identity/identity';
import type { Request } from '../../../src/main/peer/protocol/messages';
import { PROTOCOL_VERSION } from '../../../src/main/peer/protocol/messages';
import { QuicControlServer } from '../../../src/main/peer/transport/control-server';
import { QuicPeerClient } from '../../../src/main/peer/transport/peer-client';
import type { QuicPeerClientOptions } from '../../../src/main/peer/transport/peer-client';
import type { RequestHandler, ServerLimits } from '../../../src/main/peer/transport/types';

export const FAST_TIMINGS = { connectTimeoutMs: 3_000, idleTimeoutMs: 3_000, keepAliveIntervalMs: 500, requestTimeoutMs: 20_000 };

export async function makeIdentity(): Promise<PeerIdentity> {
  return generateIdentity();
}

export function hello(identity: PeerIdentity, port = 1): Extract<Request, { type: 'Hello' }> {
  return { type: 'Hello', protocolVersion: PROTOCOL_VERSION, peerId: identity.peerId, name: 'test', port };
}

export async function startServer(identity: PeerIdentity, handler: RequestHandler, limits?: Partial<ServerLimits>): Promise<{ server: QuicControlServer; port: number }> {
  const server = new QuicControlServer({
    identity,
    host: '127.0.0.1',
    port: 0,
    handler,
    timings: { idleTimeoutMs: FAST_TIMINGS.idleTimeoutMs, keepAliveIntervalMs: FAST_TIMINGS.keepAliveIntervalMs },
    ...(limits ? { limits } : {}),
  });
  const { port } = await server.start();
  return { server, port };
}

export function makeClient(identity: PeerIdentity, overrides: Partial<QuicPeerClientOptions> = {}): QuicPeerClient {
  return new QuicPeerClient({ identity, ...FAST_TIMINGS, ...overrides });
}

/** Polls until `check` holds; generous by default because the machine is shared. */
export async function waitFor(check: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
