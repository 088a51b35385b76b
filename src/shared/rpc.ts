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
