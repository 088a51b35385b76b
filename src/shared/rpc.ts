import type { CommandName, EventName, EventPayload } from './api';
import type { ErrorInfo } from './errors';

/**
 * The JSON messages that carry the LauncherApi over a byte stream (the web UI's WebSocket,
 * the CLI's local control socket). One request per id; events are pushed unasked.
 */
export interface RpcRequest {
  id: number;
  command: CommandName;
  args?: unknown;
}

export type RpcReply = { id: number; result: unknown } | { id: number; error: ErrorInfo };

export interface RpcEvent<E extends EventName = EventName> {
  event: E;
  payload: EventPayload<E>;
}

export type RpcServerMessage = RpcReply | RpcEvent;

/**
 * What an Electron IPC handler returns for a command: the result, or the coded error as data.
 * (A thrown Error crosses IPC as its message only; the preload turns `ok: false` back into a
 * rejection with the ErrorInfo itself.)
 */
export type CommandReply<T = unknown> = { ok: true; value: T } | { ok: false; error: ErrorInfo };
