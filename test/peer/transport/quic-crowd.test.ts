import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerIdentity } from '../../../src/main/peer/identity/identity';
import { dialQuic, type QuicLink } from '../../../src/main/peer/transport/quic/quic-library';
import type { RequestHandler } from '../../../src/main/peer/transport/types';
import { silentLogger } from '../../../src/main/peer/util/logger';
import { FAST_TIMINGS, hello, makeClient, makeIdentity, startServer, waitFor } from './helpers';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '../../..');

/**
 * A hostile LAN client opening QUIC connections by the hundred (#14): the server answers at
 * most its per-address cap, a well-behaved peer is still served, and stop() is not held up by
 * the crowd. The crowd dials from 127.0.0.2 (the whole 127/8 is loopback on Linux), the good
 * peer from 127.0.0.1.
 */

const answerHello = (identity: PeerIdentity): RequestHandler => async (request) => {
  if (request.type === 'Hello') return { frame: hello(identity) };
  if (request.type === 'Ping') return { frame: { type: 'Pong', libraryRevision: 0 } };
  throw new Error('unexpected');
};

async function dialCrowd(port: number, identity: PeerIdentity, count: number, connectTimeoutMs: number): Promise<{ links: QuicLink[]; failed: number }> {
  const attempts = await Promise.allSettled(
    Array.from({ length: count }, () =>
      dialQuic({
        host: '127.0.0.1',
        port,
        localHost: '127.0.0.2',
        credentials: identity,
        timings: { idleTimeoutMs: FAST_TIMINGS.idleTimeoutMs, keepAliveIntervalMs: FAST_TIMINGS.keepAliveIntervalMs },
        connectTimeoutMs,
        checkServer: () => true,
        maxOpenStreams: 1,
        logger: silentLogger,
      }),
    ),
  );
  const links = attempts.flatMap((attempt) => (attempt.status === 'fulfilled' ? [attempt.value] : []));
  return { links, failed: attempts.length - links.length };
}

describe('QUIC control server under a crowd of connections', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it('answers at most its per-address cap from one address and still serves a well-behaved peer', async () => {
    const serverIdentity = await makeIdentity();
    const crowdIdentity = await makeIdentity();
    const { server, port } = await startServer(serverIdentity, answerHello(serverIdentity), { maxConnectionsPerAddress: 8 });
    cleanup.push(() => server.stop());

    const crowd = await dialCrowd(port, crowdIdentity, 40, 2_000);
    cleanup.push(() => Promise.all(crowd.links.map((link) => link.close())));
    console.log(`crowd of 40 dials from one address: ${crowd.links.length} connected, ${crowd.failed} unanswered, server refused ${server.refusedConnections}`);
    expect(crowd.links.length).toBeLessThanOrEqual(8);
    expect(crowd.failed).toBeGreaterThanOrEqual(32);
    expect(server.connectionCount).toBeLessThanOrEqual(8);
    expect(server.refusedConnections).toBeGreaterThan(0);

    const good = await makeIdentity();
    const client = makeClient(good);
    cleanup.push(() => client.stop());
    const response = await client.request({ host: '127.0.0.1', port, peerId: serverIdentity.peerId }, hello(good));
    expect(response.type).toBe('Hello');
  });

  it('stops promptly after a crowd of dials whose client died half-way', async () => {
    const serverIdentity = await makeIdentity();
    const { server, port } = await startServer(serverIdentity, answerHello(serverIdentity), { maxConnectionsPerAddress: 1_000, handshakeTimeoutMs: 60_000 });
    let stopped = false;
    cleanup.push(async () => {
      if (!stopped) await server.stop();
    });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'crowd-child.ts'), String(port), '300'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await waitFor(() => server.heldConnections >= 100, 60_000, '100 crowd connections on the server');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const held = server.heldConnections;

    const started = Date.now();
    await server.stop();
    stopped = true;
    console.log(`stop() with ${held} connections of a SIGKILLed crowd (${server.connectionCount} open) took ${Date.now() - started} ms`);
    expect(server.connectionCount).toBe(0);
  });

  it('closes a connection that holds its slot without asking anything', async () => {
    const serverIdentity = await makeIdentity();
    const crowdIdentity = await makeIdentity();
    const { server, port } = await startServer(serverIdentity, answerHello(serverIdentity), { idleConnectionMs: 300 });
    cleanup.push(() => server.stop());
    const { links } = await dialCrowd(port, crowdIdentity, 1, 3_000);
    cleanup.push(() => Promise.all(links.map((link) => link.close())));
    expect(links).toHaveLength(1);
    const reason = await links[0]!.closed;
    expect(reason).toBe('closed-by-peer');
    expect(server.connectionCount).toBe(0);
  });
});
