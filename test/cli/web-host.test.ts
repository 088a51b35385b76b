import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { StubBackend } from '../support/stub-backend';
import { startWebHost, WS_CLOSE_FORBIDDEN, WS_CLOSE_UNAUTHORIZED, type WebHost } from '../../src/main/cli/web-host';
import type { RpcServerMessage } from '../../src/shared/rpc';

let staticDir: string;
let outside: string;
const hosts: WebHost[] = [];

beforeAll(async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'lanspread-web-'));
  staticDir = path.join(base, 'renderer');
  outside = path.join(base, 'secret.txt');
  await mkdir(path.join(staticDir, 'assets'), { recursive: true });
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>Lanspread</title>');
  await writeFile(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(staticDir, 'assets', 'app.css'), 'body{}');
  await writeFile(outside, 'top secret');
  await symlink(outside, path.join(staticDir, 'assets', 'leak.txt'));
});

afterAll(async () => {
  await rm(path.dirname(staticDir), { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

async function start(options: Partial<Parameters<typeof startWebHost>[0]> = {}) {
  const backend = new StubBackend();
  const host = await startWebHost({ backend, staticDir, port: 0, ...options });
  hosts.push(host);
  return { backend, host };
}

/** The cookie the printed URL sets: what a browser that opened it sends along. */
function authed(host: WebHost): Record<string, string> {
  return { cookie: `lanspread_token=${host.token}` };
}

/** Raw GET so the request path and Host header are sent exactly as written. */
function get(port: number, requestPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: requestPath, headers: { host: `127.0.0.1:${port}`, ...headers } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

interface Client {
  ws: WebSocket;
  messages: RpcServerMessage[];
  call(command: string, args?: unknown): Promise<RpcServerMessage>;
  waitFor(predicate: (m: RpcServerMessage) => boolean): Promise<RpcServerMessage>;
}

function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<Client> {
  const ws = new WebSocket(url, options);
  const messages: RpcServerMessage[] = [];
  const waiters: { predicate: (m: RpcServerMessage) => boolean; resolve: (m: RpcServerMessage) => void }[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as RpcServerMessage;
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (!waiter.predicate(message)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    }
  });
  let nextId = 1;
  const client: Client = {
    ws,
    messages,
    waitFor(predicate) {
      const seen = messages.find(predicate);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    call(command, args) {
      const id = nextId++;
      ws.send(JSON.stringify({ id, command, args }));
      return client.waitFor((m) => 'id' in m && m.id === id);
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
  });
}

function closeCode(url: string, options: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('close', (code) => resolve(code));
    ws.once('error', reject);
  });
}

describe('web host: static files', () => {
  it('serves the renderer with MIME types and security headers', async () => {
    const { host } = await start();
    const index = await get(host.port, '/', authed(host));
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.body).toContain('<title>Lanspread</title>');
    expect((await get(host.port, '/assets/app.js', authed(host))).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(host.port, '/assets/app.css', authed(host))).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(host.port, '/missing.js', authed(host))).status).toBe(404);
  });

  it('refuses traversal, encoded traversal, symlinks out of the root and non-GET methods', async () => {
    const { host } = await start();
    for (const attempt of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets%5c..%5c..%5csecret.txt', '/assets/leak.txt', '/%ff']) {
      const response = await get(host.port, attempt, authed(host));
      expect(response.status, attempt).toBeGreaterThanOrEqual(400);
      expect(response.body, attempt).not.toContain('top secret');
    }
    const post = await new Promise<number>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port: host.port, path: '/', method: 'POST' }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end();
    });
    expect(post).toBe(405);
  });

  it('rejects a foreign Host header (DNS rebinding) but accepts IPs and localhost', async () => {
    const { host } = await start();
    expect((await get(host.port, '/', { ...authed(host), host: `attacker.example:${host.port}` })).status).toBe(403);
    expect((await get(host.port, '/', { ...authed(host), host: `localhost:${host.port}` })).status).toBe(200);
    const named = await start({ allowedHostnames: ['partybox.local'] });
    expect((await get(named.host.port, '/', { ...authed(named.host), host: `partybox.local:${named.host.port}` })).status).toBe(200);
  });
});

describe('web host: WebSocket RPC', () => {
  it('answers commands, pushes events and reports coded errors', async () => {
    const { host, backend } = await start();
    // A token on loopback too, and the socket gets in with its cookie.
    expect(host.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const client = await connect(`ws://127.0.0.1:${host.port}/ws`, { headers: authed(host) });
    const games = await client.call('request_games');
    expect('result' in games && Array.isArray(games.result) && games.result.length).toBeGreaterThan(0);

    const unknown = await client.call('format_disk', {});
    expect(unknown).toMatchObject({ error: { code: 'UNKNOWN_MESSAGE_TYPE' } });
    const missing = await client.call('install_game', { gameId: 'no-such-game' });
    expect(missing).toMatchObject({ error: { code: 'NOT_IN_CATALOG' } });
    const done = await client.call('install_game', { gameId: backend.games[0]!.id, mode: 'streamed' });
    expect(done).toMatchObject({ result: null });
    expect(backend.calls.at(-1)).toEqual({ command: 'install_game', args: { gameId: backend.games[0]!.id, mode: 'streamed' } });

    await expect.poll(() => backend.listenerCount).toBe(1);
    backend.emit('peer-count', { count: 7 });
    expect(await client.waitFor((m) => 'event' in m)).toEqual({ event: 'peer-count', payload: { count: 7 } });

    // Garbage is ignored without closing the connection.
    client.ws.send('not json');
    client.ws.send(JSON.stringify({ id: 'x', command: 'request_games' }));
    expect(await client.call('get_status')).toMatchObject({ result: { running: true } });
    client.ws.close();
    await expect.poll(() => backend.listenerCount).toBe(0);
  });

  it('closes foreign-origin sockets and unknown paths', async () => {
    const { host } = await start();
    expect(await closeCode(`ws://127.0.0.1:${host.port}/ws`, { origin: 'http://attacker.example' })).toBe(WS_CLOSE_FORBIDDEN);
    const sameOrigin = await connect(`ws://127.0.0.1:${host.port}/ws`, { origin: `http://127.0.0.1:${host.port}`, headers: authed(host) });
    sameOrigin.ws.close();
    await expect(connect(`ws://127.0.0.1:${host.port}/other`)).rejects.toThrow();
  });

  it('stops idempotently and drops connected clients', async () => {
    const { host } = await start();
    const client = await connect(`ws://127.0.0.1:${host.port}/ws`, { headers: authed(host) });
    const closed = new Promise((resolve) => client.ws.once('close', resolve));
    await Promise.all([host.stop(), host.stop()]);
    await closed;
    await expect(get(host.port, '/', authed(host))).rejects.toThrow();
  });
});

describe('web host: token rules', () => {
  it('requires a generated token when bound off loopback', async () => {
    const { host } = await start({ host: '0.0.0.0' });
    expect(host.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(host.url).toContain(`?token=${host.token}`);

    expect((await get(host.port, '/')).status).toBe(401);
    expect((await get(host.port, '/?token=wrong')).status).toBe(401);
    const ok = await get(host.port, `/?token=${host.token}`);
    expect(ok.status).toBe(200);
    const cookie = String(ok.headers['set-cookie']?.[0]).split(';')[0]!;
    expect((await get(host.port, '/assets/app.js', { cookie })).status).toBe(200);

    const base = `ws://127.0.0.1:${host.port}/ws`;
    expect(await closeCode(base)).toBe(WS_CLOSE_UNAUTHORIZED);
    expect(await closeCode(`${base}?token=wrong`)).toBe(WS_CLOSE_UNAUTHORIZED);
    const byQuery = await connect(`${base}?token=${host.token}`);
    expect(await byQuery.call('get_settings')).toMatchObject({ result: { displayName: 'party-host' } });
    byQuery.ws.close();
    const byCookie = await connect(base, { headers: { cookie } });
    byCookie.ws.close();
  });

  it('enforces a token given on loopback too', async () => {
    const { host } = await start({ token: 'sekret-token' });
    expect((await get(host.port, '/')).status).toBe(401);
    expect((await get(host.port, '/?token=sekret-token')).status).toBe(200);
    expect(await closeCode(`ws://127.0.0.1:${host.port}/ws`)).toBe(WS_CLOSE_UNAUTHORIZED);
  });
});

describe('web host: token on loopback', () => {
  it('refuses loopback requests and sockets without the token; the printed URL gets in and sets the cookie', async () => {
    const { host } = await start();
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`);
    expect((await get(host.port, '/')).status).toBe(401);
    expect((await get(host.port, '/assets/app.js')).status).toBe(401);
    expect((await get(host.port, '/?token=wrong')).status).toBe(401);
    const base = `ws://127.0.0.1:${host.port}/ws`;
    expect(await closeCode(base)).toBe(WS_CLOSE_UNAUTHORIZED);
    expect(await closeCode(base, { headers: { cookie: 'lanspread_token=wrong' } })).toBe(WS_CLOSE_UNAUTHORIZED);

    const opened = await get(host.port, new URL(host.url).pathname + new URL(host.url).search);
    expect(opened.status).toBe(200);
    const cookie = String(opened.headers['set-cookie']?.[0]).split(';')[0]!;
    expect(cookie).toBe(`lanspread_token=${host.token}`);
    const client = await connect(base, { headers: { cookie } });
    expect(await client.call('get_status')).toMatchObject({ result: { running: true } });
    client.ws.close();
  });
});
