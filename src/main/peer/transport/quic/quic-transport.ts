import type { PeerIdentity } from '../../identity/identity';
import type { Logger } from '../../util/logger';
import { silentLogger } from '../../util/logger';
import { QuicControlServer } from '../control-server';
import { QuicPeerClient } from '../peer-client';
import { DEFAULT_QUIC_TIMINGS } from './quic-library';
import type { RequestHandler, ServerLimits } from '../types';

export interface QuicTransportOptions {
  identity: PeerIdentity;
  logger?: Logger;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  keepAliveIntervalMs?: number;
  requestTimeoutMs?: number;
  serverLimits?: Partial<ServerLimits>;
}

export interface QuicTransport {
  client: QuicPeerClient;
  /** Starts the control server (once) and resolves with its UDP port. */
  listen(options: { host: string; port: number; handler: RequestHandler }): Promise<number>;
  server(): QuicControlServer | null;
  stop(): Promise<void>;
}

/** Defaults chosen so a vanished peer is noticed within a few seconds on a LAN. */
export const DEFAULT_TRANSPORT_TIMINGS = { connectTimeoutMs: 3_000, idleTimeoutMs: DEFAULT_QUIC_TIMINGS.idleTimeoutMs, keepAliveIntervalMs: DEFAULT_QUIC_TIMINGS.keepAliveIntervalMs, requestTimeoutMs: 10_000 };

/** The peer's control plane: one client (pooled, pinned connections) and one server, same identity. */
export async function createQuicTransport(options: QuicTransportOptions): Promise<QuicTransport> {
  const logger = options.logger ?? silentLogger;
  const timings = {
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_TRANSPORT_TIMINGS.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_TRANSPORT_TIMINGS.idleTimeoutMs,
    keepAliveIntervalMs: options.keepAliveIntervalMs ?? DEFAULT_TRANSPORT_TIMINGS.keepAliveIntervalMs,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_TRANSPORT_TIMINGS.requestTimeoutMs,
  };
  const client = new QuicPeerClient({ identity: options.identity, ...timings, logger: logger.child('client') });
  let server: QuicControlServer | null = null;
  return {
    client,
    server: () => server,
    async listen({ host, port, handler }) {
      server ??= new QuicControlServer({
        identity: options.identity,
        host,
        port,
        handler,
        logger: logger.child('server'),
        timings: { idleTimeoutMs: timings.idleTimeoutMs, keepAliveIntervalMs: timings.keepAliveIntervalMs },
        ...(options.serverLimits ? { limits: options.serverLimits } : {}),
      });
      try {
        return (await server.start()).port;
      } catch (error) {
        // A bind that failed (a port taken) leaves nothing behind: listen may be tried again, on another port.
        const failed = server;
        server = null;
        await failed.stop().catch(() => undefined);
        throw error;
      }
    },
    async stop() {
      await client.stop();
      await server?.stop();
    },
  };
}
