import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LauncherBackend } from '../../shared/api';
import { toLanspreadError } from '../../shared/errors';
import type { RpcServerMessage } from '../../shared/rpc';
import { dispatchRpc } from '../peer/launcher/rpc-dispatch';
import { silentLogger, type Logger } from '../peer/util/logger';
import { cookieValue, hostHeaderAllowed, newToken, originAllowed, TOKEN_COOKIE, tokenMatches } from './web/access';
import { mimeTypeOf, resolveStaticFile } from './web/static-files';

/**
 * The web UI host: serves the built renderer over plain HTTP and the LauncherApi over a
 * WebSocket at /ws ({id, command, args} -> {id, result} | {id, error}; events as
 * {event, payload}), so a browser gets the same UI as the Electron window.
 */

export interface WebHostOptions {
  backend: LauncherBackend;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The built renderer (out/renderer). */
  staticDir: string;
  /** Always required (generated when absent), on loopback too: any local process or user could drive an open one. */
  token?: string;
  /** DNS names (besides IPs and localhost) the page may be reached by, e.g. "partybox.local". */
  allowedHostnames?: string[];
  logger?: Logger;
}

export interface WebHost {
  /** Open this in a browser: it carries ?token=, which then moves into a cookie. */
  url: string;
  host: string;
  port: number;
  token: string;
  stop(): Promise<void>;
}

/** WebSocket close codes the renderer understands (see src/renderer/api/connection.ts). */
export const WS_CLOSE_UNAUTHORIZED = 4401;
export const WS_CLOSE_FORBIDDEN = 4403;
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** A client this far behind on events is not reading; drop it rather than buffer without end. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  const token = options.token ?? newToken();
  const allowedNames = (options.allowedHostnames ?? []).map((n) => n.toLowerCase());
  const sockets = new Set<WebSocket>();

  const authorized = (request: http.IncomingMessage, url: URL): boolean =>
    tokenMatches(token, url.searchParams.get('token')) || tokenMatches(token, cookieValue(request.headers.cookie, TOKEN_COOKIE));

  const server = http.createServer((request, response) => {
    void serveHttp(request, response).catch((error: unknown) => {
      logger.warn(`web request failed: ${toLanspreadError(error).message}`);
      if (!response.headersSent) send(response, 500, 'Internal error');
      else response.destroy();
    });
  });

  async function serveHttp(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (!hostHeaderAllowed(request.headers.host, allowedNames)) return send(response, 403, 'Forbidden host name');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return send(response, 405, 'Method not allowed');
    }
    const url = new URL(request.url ?? '/', 'http://host.invalid');
    if (!authorized(request, url)) return send(response, 401, 'Unauthorized: open the URL printed by lanspread-peer (it carries ?token=…)');
    let file: string;
    try {
      file = await resolveStaticFile(options.staticDir, url.pathname);
    } catch (error) {
      const code = toLanspreadError(error).code;
      return send(response, code === 'FILE_NOT_FOUND' ? 404 : 400, code === 'FILE_NOT_FOUND' ? 'Not found' : 'Bad path');
    }
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Type': mimeTypeOf(file), 'Cache-Control': file.endsWith('.html') ? 'no-store' : 'public, max-age=3600' };
    // The token moves from the URL into a cookie, so assets and the WebSocket are authorised too.
    if (url.searchParams.has('token')) headers['Set-Cookie'] = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    response.writeHead(200, headers);
    if (request.method === 'HEAD') return void response.end();
    createReadStream(file).on('error', () => response.destroy()).pipe(response);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://host.invalid');
    if (url.pathname !== '/ws') return socket.destroy();
    wss.handleUpgrade(request, socket, head, (ws) => {
      // Refusals are sent as close codes after the upgrade: a browser sees a close code, but
      // never the HTTP status of a refused upgrade.
      if (!hostHeaderAllowed(request.headers.host, allowedNames) || !originAllowed(request.headers.origin, request.headers.host)) {
        return ws.close(WS_CLOSE_FORBIDDEN, 'Forbidden origin or host');
      }
      if (!authorized(request, url)) return ws.close(WS_CLOSE_UNAUTHORIZED, 'Missing or wrong token');
      serveSocket(ws);
    });
  });

  function serveSocket(ws: WebSocket): void {
    sockets.add(ws);
    const push = (message: RpcServerMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return void ws.terminate();
      ws.send(JSON.stringify(message));
    };
    const unsubscribe = options.backend.subscribe((event, payload) => push({ event, payload } as RpcServerMessage));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return;
      }
      void dispatchRpc(options.backend, message)
        .then((reply) => reply && push(reply))
        .catch((error: unknown) => logger.warn(`web reply failed: ${toLanspreadError(error).message}`));
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      unsubscribe();
      sockets.delete(ws);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/?token=${encodeURIComponent(token)}`;

  let stopped: Promise<void> | null = null;
  return {
    url,
    host,
    port,
    token,
    stop() {
      stopped ??= (async () => {
        for (const ws of sockets) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return stopped;
    },
  };
}

function send(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(text);
}
