import type { CommandName, EventName, LauncherApi } from '../../shared/api';
import type { ErrorInfo } from '../../shared/errors';
import type { RpcServerMessage } from '../../shared/rpc';
import { WS_CLOSE_FORBIDDEN, WS_CLOSE_UNAUTHORIZED, type ConnectedApi, type ConnectionState } from './connection';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: ErrorInfo) => void;
}

export interface WsClientOptions {
  url: string;
  /** Injected so tests can use the `ws` package; the browser's WebSocket otherwise. */
  createSocket?: (url: string) => WebSocket;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * The LauncherApi over the web host's WebSocket: {id, command, args} -> {id, result|error},
 * events pushed as {event, payload}. Reconnects with backoff; requests made while the link is
 * down wait for it, and requests in flight when it drops are rejected (their outcome is unknown,
 * the UI re-reads the state after reconnecting).
 */
export class WsLauncherClient implements ConnectedApi {
  readonly hasNativePicker = false;
  private socket: WebSocket | null = null;
  private nextId = 1;
  private state: ConnectionState = 'connecting';
  private backoffMs: number;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly pending = new Map<number, Pending>();
  private readonly outbox: string[] = [];
  private readonly eventListeners = new Map<string, Set<(payload: unknown) => void>>();
  private readonly connectionListeners = new Set<(state: ConnectionState) => void>();

  constructor(private readonly options: WsClientOptions) {
    this.backoffMs = options.minBackoffMs ?? 500;
    this.connect();
  }

  invoke = ((command: CommandName, ...args: unknown[]) => {
    const id = this.nextId++;
    const text = JSON.stringify({ id, command, args: args[0] });
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.state === 'open' && this.socket) this.socket.send(text);
      else this.outbox.push(text);
    });
  }) as LauncherApi['invoke'];

  on = ((event: EventName, listener: (payload: unknown) => void) => {
    let set = this.eventListeners.get(event);
    if (!set) this.eventListeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }) as LauncherApi['on'];

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.connectionListeners.add(listener);
    listener(this.state);
    return () => this.connectionListeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.close();
    this.failPending('The launcher connection was closed');
  }

  private connect(): void {
    const socket = this.options.createSocket ? this.options.createSocket(this.options.url) : new WebSocket(this.options.url);
    this.socket = socket;
    socket.onopen = () => {
      this.backoffMs = this.options.minBackoffMs ?? 500;
      this.setState('open');
      for (const text of this.outbox.splice(0)) socket.send(text);
    };
    socket.onmessage = (message: MessageEvent) => this.receive(String(message.data));
    socket.onclose = (event: CloseEvent) => {
      this.socket = null;
      this.failPending('Lost the connection to the Lanspread host');
      if (this.closed) return;
      if (event.code === WS_CLOSE_UNAUTHORIZED || event.code === WS_CLOSE_FORBIDDEN) {
        // Retrying with the same token cannot succeed; the page must be opened with the right URL.
        this.setState('unauthorized');
        return;
      }
      this.setState('reconnecting');
      this.retryTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5000);
    };
  }

  private receive(text: string): void {
    let message: RpcServerMessage;
    try {
      message = JSON.parse(text) as RpcServerMessage;
    } catch {
      return;
    }
    if ('event' in message) {
      for (const listener of this.eventListeners.get(message.event) ?? []) listener(message.payload);
      return;
    }
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if ('error' in message) waiter.reject(message.error);
    else waiter.resolve(message.result);
  }

  private failPending(message: string): void {
    // Not a peer: the page lost its own host. Blaming the network here once hid a crash.
    for (const { reject } of this.pending.values()) reject({ code: 'HOST_CONNECTION_LOST', message });
    this.pending.clear();
    this.outbox.length = 0;
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.connectionListeners) listener(state);
  }
}
