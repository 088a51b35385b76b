import { createHash } from 'node:crypto';
import { chmod, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { CommandArgs, CommandName, CommandResult, EventName, EventPayload, LauncherBackend } from '../../../shared/api';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import { PRIVATE_FILE_MODE } from '../fs/private-files';
import type { RpcServerMessage } from '../../../shared/rpc';
import type { Logger } from '../util/logger';
import { dispatchRpc } from './rpc-dispatch';

/**
 * A running headless peer exposes the LauncherApi on a local socket in its state directory, so
 * `lanspread-peer games|peers|download` can drive it. Only the local user can reach it: a Unix
 * socket inside the (user-owned) state directory, or a per-state-dir named pipe on Windows.
 */

const MAX_LINE_BYTES = 1024 * 1024;
/**
 * Replies and events waiting for a client to read them. A client that stops reading would
 * otherwise make the process buffer every later event for it (measured: +300 MB); one this far
 * behind is dropped. Far above what a reading client ever has pending (one games list).
 */
const MAX_PENDING_WRITE_BYTES = 8 * 1024 * 1024;

export function controlSocketPath(stateDir: string): string {
  if (process.platform === 'win32') {
    const hash = createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 16);
    return `\\\\.\\pipe\\lanspread-${hash}`;
  }
  return path.join(stateDir, 'control.sock');
}

export class ControlSocketServer {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly backend: LauncherBackend,
    private readonly socketPath: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.server) return;
    // A stale socket from a crashed run would make listen() fail with EADDRINUSE.
    if (process.platform !== 'win32') await rm(this.socketPath, { force: true });
    const server = net.createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The socket is created with the umask's mode; only its owner may drive this peer.
    if (process.platform !== 'win32') await chmod(this.socketPath, PRIVATE_FILE_MODE);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (process.platform !== 'win32') await rm(this.socketPath, { force: true });
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    const send = (message: RpcServerMessage) => {
      if (socket.destroyed) return;
      if (socket.writableLength > MAX_PENDING_WRITE_BYTES) {
        this.logger.warn('control socket client does not read its replies; closing');
        socket.destroy();
        return;
      }
      socket.write(`${JSON.stringify(message)}\n`);
    };
    const unsubscribe = this.backend.subscribe((event, payload) => send({ event, payload } as RpcServerMessage));
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      buffered += text;
      if (buffered.length > MAX_LINE_BYTES) {
        this.logger.warn('control socket client sent an oversized line; closing');
        socket.destroy();
        return;
      }
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          continue;
        }
        void dispatchRpc(this.backend, message)
          .then((reply) => reply && send(reply))
          .catch((error: unknown) => this.logger.warn(`control socket reply failed: ${toLanspreadError(error).message}`));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      unsubscribe();
      this.sockets.delete(socket);
    });
  }
}

/** The CLI side: invoke commands and receive events from a running peer. */
export class ControlSocketClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Set<(event: EventName, payload: unknown) => void>();
  private readonly closeListeners = new Set<() => void>();
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      buffered += text;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let message: RpcServerMessage;
        try {
          message = JSON.parse(line) as RpcServerMessage;
        } catch {
          continue;
        }
        this.receive(message);
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const { reject } of this.pending.values()) reject(new LanspreadError('PEER_GONE', 'The local peer closed the control socket'));
      this.pending.clear();
      for (const listener of this.closeListeners) listener();
    });
  }

  /** Called once the socket closes (the peer stopped or died): events stop for good. At once when it is closed already. */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.add(listener);
  }

  static async connect(socketPath: string): Promise<ControlSocketClient> {
    const socket = net.connect(socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (error) =>
        reject(new LanspreadError('PEER_UNREACHABLE', `No running peer at ${socketPath} (start one with 'lanspread-peer serve')`, { cause: error })),
      );
    });
    return new ControlSocketClient(socket);
  }

  invoke<K extends CommandName>(command: K, args?: CommandArgs<K>): Promise<CommandResult<K>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.socket.write(`${JSON.stringify({ id, command, args })}\n`);
    });
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    const wrapped = (name: EventName, payload: unknown) => {
      if (name === event) listener(payload as EventPayload<E>);
    };
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }

  close(): void {
    this.socket.end();
  }

  private receive(message: RpcServerMessage): void {
    if ('event' in message) {
      for (const listener of this.listeners) listener(message.event, message.payload);
      return;
    }
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if ('error' in message) waiter.reject(LanspreadError.fromInfo(message.error));
    else waiter.resolve(message.result);
  }
}
