import type { PeerId } from '../../../shared/model';
import type { HaveFrame } from '../protocol/have';
import type { Request, Response } from '../protocol/messages';

/** Who sent a request: the client certificate's fingerprint and where it came from. */
export interface RequestContext {
  remotePeerId: PeerId;
  remoteHost: string;
  remotePort: number;
}

export interface ServerReply {
  frame: Response;
  /**
   * Raw bytes that follow the frame; for a ChunkHeader exactly `length` bytes. A piece may be a
   * reused buffer: the sender must be done with it (written, not queued) before pulling the next.
   */
  payload?: AsyncIterable<Uint8Array>;
}

export type RequestHandler = (request: Request, context: RequestContext) => Promise<ServerReply>;

export interface ServerLimits {
  /** Time a client has to deliver its whole request frame (slow-loris guard). */
  requestReadTimeoutMs: number;
  /** Concurrent streams per connection; QUIC refuses the client more than this. */
  maxStreamsPerConnection: number;
  /** After answering, how long and how much the server keeps reading to let a stream finish cleanly. */
  drainTimeoutMs: number;
  drainMaxBytes: number;
  /** QUIC connections (in handshake or open) one remote address may hold; further dials get no answer. */
  maxConnectionsPerAddress: number;
  /** QUIC connections in all. */
  maxConnections: number;
  /** A QUIC handshake not finished within this is dropped. */
  handshakeTimeoutMs: number;
  /** A connection that sends no request for this long is closed (our clients close theirs after 3 s idle). */
  idleConnectionMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  requestReadTimeoutMs: 10_000,
  maxStreamsPerConnection: 100,
  drainTimeoutMs: 5_000,
  drainMaxBytes: 1024 * 1024,
  // Peers on one machine (tests, a box with several seats) share an address: room for a few dozen.
  maxConnectionsPerAddress: 32,
  maxConnections: 1_024,
  handshakeTimeoutMs: 5_000,
  idleConnectionMs: 60_000,
};

export type SubscribeHaveRequest = Extract<Request, { type: 'SubscribeHave' }>;

/** Answers SubscribeHave on the data lane with a stream of frames; ends when the subscription does or `signal` aborts. */
export type HaveHandler = (request: SubscribeHaveRequest, signal: AbortSignal) => AsyncIterable<HaveFrame>;
