import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import { makeClient, makeIdentity, startServer, waitFor } from './helpers';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '../../..');
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function runChild(script: string): { child: ChildProcess; firstLine: Promise<string>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', script)], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let output = '';
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      const newline = output.indexOf('\n');
      if (newline >= 0) resolve(output.slice(0, newline));
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing`)));
  });
  firstLine.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, firstLine, exited };
}

describe('QUIC transport lifecycle', () => {
  it('notices a SIGKILLed server within seconds and fails the next request with a coded error', async () => {
    const { child, firstLine, exited } = runChild('server-child.ts');
    const { port, peerId } = JSON.parse(await firstLine) as { port: number; peerId: string };
    const client = makeClient(await makeIdentity(), { connectTimeoutMs: 1_000 });
    try {
      const lost: string[] = [];
      client.onConnectionLost((id) => lost.push(id));
      const target = { host: '127.0.0.1', port, peerId };
      expect(await client.request(target, { type: 'Ping' })).toEqual({ type: 'Pong', libraryRevision: 1 });

      child.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      // Idle timeout is 3 s in these tests; allow plenty for a loaded machine.
      await waitFor(() => lost.length > 0, 30_000, 'connection-lost');
      expect(lost).toEqual([peerId]);
      console.log(`connection-lost fired ${Date.now() - killedAt} ms after SIGKILL (idle timeout 3000 ms)`);
      expect(client.connectedPeers).toEqual([]);

      const error = await client.request(target, { type: 'Ping' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LanspreadError);
      expect(['PEER_UNREACHABLE', 'REQUEST_TIMEOUT', 'PEER_GONE']).toContain((error as LanspreadError).code);
    } finally {
      await client.stop();
    }
  });

  it('a request in flight when the peer dies fails with PEER_GONE', async () => {
    const [serverId, clientId] = await Promise.all([makeIdentity(), makeIdentity()]);
    let release: () => void = () => undefined;
    const { server, port } = await startServer(serverId, async (request) => {
      if (request.type === 'ListGames') await new Promise<void>((resolve) => (release = resolve));
      return { frame: { type: 'Pong', libraryRevision: 0 } };
    });
    const client = makeClient(clientId);
    try {
      const target = { host: '127.0.0.1', port, peerId: serverId.peerId };
      await client.request(target, { type: 'Ping' });
      const pending = client.request(target, { type: 'ListGames' }).catch((caught: unknown) => caught);
      await waitFor(() => server.connectionCount === 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await server.stop();
      release();
      const error = await pending;
      expect(error).toBeInstanceOf(LanspreadError);
      expect(['PEER_GONE', 'MALFORMED_MESSAGE']).toContain((error as LanspreadError).code);
    } finally {
      release();
      await client.stop();
      await server.stop();
    }
  });

  it('stop() releases the UDP port for rebinding', async () => {
    const serverId = await makeIdentity();
    const { server, port } = await startServer(serverId, async () => ({ frame: { type: 'Pong', libraryRevision: 0 } }));
    await server.stop();
    await server.stop();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  });

  it('after stop() nothing keeps the process alive (it exits by itself)', async () => {
    const { child, firstLine, exited } = runChild('lifecycle-child.ts');
    expect(await firstLine).toMatch(/^stopped \d+$/);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    expect(code).toBe(0);
  });

  it('closes a connection nobody used for idleCloseMs, silently, and dials again for the next request', async () => {
    const serverIdentity = await makeIdentity();
    const { server, port } = await startServer(serverIdentity, async () => ({ frame: { type: 'Pong', libraryRevision: 3 } }));
    const client = makeClient(await makeIdentity(), { idleCloseMs: 200 });
    const lost: string[] = [];
    client.onConnectionLost((peerId) => lost.push(peerId));
    try {
      const target = { host: '127.0.0.1', port, peerId: serverIdentity.peerId };
      expect((await client.request(target, { type: 'Ping' })).type).toBe('Pong');
      expect(client.connectedPeers).toEqual([serverIdentity.peerId]);
      await waitFor(() => client.connectedPeers.length === 0 && server.connectionCount === 0, 10_000, 'the idle connection to close on both sides');
      expect((await client.request(target, { type: 'Ping' })).type).toBe('Pong');
      expect(lost).toEqual([]);
    } finally {
      await client.stop();
      await server.stop();
    }
  });
});
