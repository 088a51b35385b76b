import { createHmac, randomBytes, timingSafeEqual, webcrypto } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type * as QuicLibrary from '@matrixai/quic';
import type { QUICClient, QUICConnection, QUICServer, QUICStream } from '@matrixai/quic';
import { LanspreadError } from '../../../../shared/errors';
import type { Logger } from '../../util/logger';

/**
 * The only module that touches @matrixai/quic. Everything above it sees links (connections) and
 * stream handles that cannot trip over the library's measured defects (TESTING.md):
 *
 * - Without `maxIdleTimeout` and keep-alive a dead peer is never noticed: both are always set.
 * - Cancelling a stream leaks one of the peer's stream slots: handles expose no cancel; reading
 *   never cancels (even when a reader stops early) and writing ends with a graceful FIN.
 *   Only `reset()` tears a stream down, for hostile peers on the serving side.
 * - `newStream()` beyond the peer's stream limit breaks the connection: `openStream()` waits
 *   for a slot the peer has granted (`peerStreamsLeftBidi()`, minus streams already handed out
 *   that have not yet reached quiche).
 * - `QUICConnectionMap.values()/.keys()` never terminate: connections are tracked here.
 * - A throwing `verifyCallback` or an encrypted key crashes the process: the callback catches
 *   everything and answers with a TLS alert code; keys are unencrypted PEM.
 * - The package is ESM only: loaded once through import().
 */

type QuicModule = typeof QuicLibrary;

let quicModule: Promise<QuicModule> | null = null;

function loadQuic(): Promise<QuicModule> {
  quicModule ??= import('@matrixai/quic');
  return quicModule;
}

export interface QuicTimings {
  /** A connection that hears nothing for this long is dead (quiche `max_idle_timeout`). */
  idleTimeoutMs: number;
  /** Ping interval that keeps a live but quiet connection from idling out. Must be < idle. */
  keepAliveIntervalMs: number;
}

/** Each keep-alive costs the library about a millisecond of timers and locks: every 2 s is enough to hold a connection that closes after 3 s idle anyway. */
export const DEFAULT_QUIC_TIMINGS: QuicTimings = { idleTimeoutMs: 6_000, keepAliveIntervalMs: 2_000 };

export interface QuicCredentials {
  certPem: string;
  keyPem: string;
}

/** Decides whether a peer's leaf certificate (DER) is acceptable. Must not throw; if it does, the peer is refused. */
export type CertificateCheck = (leafDer: Uint8Array) => boolean;

const APPLICATION_PROTOCOL = 'lanspread-control/1';
/** TLS alert `bad_certificate` as quiche's crypto error range encodes it (0x100 + 42). */
const BAD_CERTIFICATE = 298;
/** Stream ids are granted by the peer; while a request waits for one, re-check this often. */
const SLOT_POLL_MS = 2;
/** How long closing a listener waits for the library to finish closing its connections. */
const STOP_GRACE_MS = 2_000;
/** A stream reset by `reset()` carries this application code. */
const RESET_CODE = 1;

function baseConfig(credentials: QuicCredentials, timings: QuicTimings, check: CertificateCheck, logger: Logger) {
  if (!(timings.keepAliveIntervalMs > 0 && timings.keepAliveIntervalMs < timings.idleTimeoutMs)) {
    throw new LanspreadError('INTERNAL', 'QUIC keep-alive interval must be positive and shorter than the idle timeout');
  }
  return {
    key: credentials.keyPem,
    cert: credentials.certPem,
    verifyPeer: true,
    verifyCallback: (certs: Array<Uint8Array>): Promise<undefined | number> => {
      try {
        const leaf = certs[0];
        return Promise.resolve(leaf !== undefined && check(leaf) ? undefined : BAD_CERTIFICATE);
      } catch (error) {
        logger.warn('certificate check threw; refusing peer', { error: String(error) });
        return Promise.resolve(BAD_CERTIFICATE);
      }
    },
    maxIdleTimeout: timings.idleTimeoutMs,
    keepAliveIntervalTime: timings.keepAliveIntervalMs,
    applicationProtos: [APPLICATION_PROTOCOL],
  };
}

/** Routes the library's chatty logging to our logger at debug level. */
function libraryLogger(logger: Logger): never {
  const adapter = {
    getChild: () => adapter,
    debug: (message?: unknown) => logger.debug(String(message)),
    info: (message?: unknown) => logger.debug(String(message)),
    warn: (message?: unknown) => logger.warn(String(message)),
    error: (message?: unknown) => logger.error(String(message)),
  };
  return adapter as never;
}

// ---------------------------------------------------------------------------------------------
// Streams

/**
 * One bidirectional stream. Reading pulls from a single reader that is never cancelled, so a
 * request abandoned halfway still lets the stream complete and return its slot.
 */
export class QuicStreamHandle {
  readonly id: number;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly stream: QUICStream;
  private readonly onFirstWrite: () => void;
  private wrote = false;
  private ended = false;
  readonly closed: Promise<void>;

  constructor(stream: QUICStream, onFirstWrite: () => void = () => undefined) {
    this.stream = stream;
    this.id = stream.streamId;
    this.reader = stream.readable.getReader();
    this.writer = stream.writable.getWriter();
    this.onFirstWrite = onFirstWrite;
    this.closed = stream.closedP.catch(() => undefined);
    // Errors surface through reads and writes; these copies must not become unhandled rejections.
    this.reader.closed.catch(() => undefined);
    this.writer.closed.catch(() => undefined);
  }

  /** Incoming bytes until the peer's FIN. Stopping the iteration early does not cancel anything. */
  get incoming(): AsyncIterable<Uint8Array> {
    const reader = this.reader;
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const { done, value } = await reader.read();
          return done ? { done: true, value: undefined } : { done: false, value };
        },
        return: async () => ({ done: true, value: undefined }),
      }),
    };
  }

  async write(bytes: Uint8Array): Promise<void> {
    try {
      await this.writer.write(bytes);
    } finally {
      this.markWritten();
    }
  }

  /** Sends FIN: the graceful end of our direction. Idempotent. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      await this.writer.close();
    } finally {
      this.markWritten();
    }
  }

  /**
   * Reads and discards until the peer's FIN, so the stream can complete. Resolves true on FIN,
   * false if `maxBytes` or `timeoutMs` ran out first (a misbehaving peer).
   */
  async drain(maxBytes: number, timeoutMs: number): Promise<boolean> {
    let seen = 0;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      // A guard, not work: it must not keep the process alive on its own.
      timer.unref();
    });
    const readAll = (async () => {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (done) return true;
        seen += value.byteLength;
        if (seen > maxBytes) return false;
      }
    })().catch(() => false);
    try {
      return await Promise.race([readAll, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resets both directions. Frees the slot on this side only; reserved for a peer that has
   * broken the protocol anyway (the serving side facing a hostile client).
   */
  reset(): void {
    this.markWritten();
    void this.stream.destroy({ force: true, reason: RESET_CODE }).catch(() => undefined);
  }

  private markWritten(): void {
    if (this.wrote) return;
    this.wrote = true;
    this.onFirstWrite();
  }
}

// ---------------------------------------------------------------------------------------------
// Connections

export type LinkCloseReason = 'idle-timeout' | 'closed-by-peer' | 'closed-locally' | 'failed';

interface StreamWaiter {
  resolve: (handle: QuicStreamHandle) => void;
  reject: (error: unknown) => void;
}

/** One QUIC connection, client or server side. */
export class QuicLink {
  readonly remoteHost: string;
  readonly remotePort: number;
  /** The peer's leaf certificate, DER. */
  readonly remoteCertDer: Uint8Array;
  /** Resolves once, with why the connection ended. */
  readonly closed: Promise<LinkCloseReason>;
  private resolveClosed!: (reason: LinkCloseReason) => void;
  private isClosed = false;
  private closingLocally = false;
  private readonly connection: QUICConnection;
  private readonly teardown: () => Promise<void>;
  private readonly maxOpenStreams: number;
  private readonly waiters: StreamWaiter[] = [];
  private active = 0;
  private unsent = 0;
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(connection: QUICConnection, options: { teardown: () => Promise<void>; maxOpenStreams: number; quic: QuicModule }) {
    this.connection = connection;
    this.teardown = options.teardown;
    this.maxOpenStreams = options.maxOpenStreams;
    this.remoteHost = String(connection.remoteHost);
    this.remotePort = Number(connection.remotePort);
    this.remoteCertDer = connection.getRemoteCertsChain()[0] ?? new Uint8Array(0);
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    const { events, errors } = options.quic;
    const onEnd = (evt: Event) => {
      const detail = (evt as Event & { detail?: unknown }).detail;
      let reason: LinkCloseReason = 'failed';
      if (this.closingLocally) reason = 'closed-locally';
      else if (detail instanceof errors.ErrorQUICConnectionIdleTimeout) reason = 'idle-timeout';
      else if (detail instanceof errors.ErrorQUICConnectionPeer) reason = 'closed-by-peer';
      this.markClosed(reason);
    };
    connection.addEventListener(events.EventQUICConnectionClose.name, onEnd, { once: true });
    connection.addEventListener(events.EventQUICConnectionError.name, onEnd, { once: true });
    connection.addEventListener(events.EventQUICConnectionStopped.name, onEnd, { once: true });
    void connection.closedP.then(() => this.markClosed(this.closingLocally ? 'closed-locally' : 'failed'));
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Streams opened here and not yet finished; for tests and diagnostics. */
  get openStreams(): number {
    return this.active;
  }

  /**
   * A new bidirectional stream, once the peer has a slot for it. Waits (in order) while the
   * peer's stream limit is used up; rejects with PEER_GONE if the connection ends first.
   */
  openStream(signal?: AbortSignal): Promise<QuicStreamHandle> {
    if (this.isClosed) return Promise.reject(gone());
    return new Promise((resolve, reject) => {
      const waiter: StreamWaiter = { resolve, reject };
      if (signal) {
        if (signal.aborted) return reject(signal.reason);
        const onAbort = () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.resolve = (handle) => {
          signal.removeEventListener('abort', onAbort);
          resolve(handle);
        };
      }
      this.waiters.push(waiter);
      this.grant();
    });
  }

  /** Closes the connection; every open stream ends with it. Idempotent. */
  async close(): Promise<void> {
    if (!this.isClosed) this.closingLocally = true;
    this.markClosed('closed-locally');
    await this.teardown().catch(() => undefined);
  }

  /** Wraps a stream the peer opened (serving side). */
  acceptStream(stream: QUICStream): QuicStreamHandle {
    return new QuicStreamHandle(stream);
  }

  private grant(): void {
    while (this.waiters.length > 0 && !this.isClosed && this.active < this.maxOpenStreams && this.peerSlotsLeft() > 0) {
      const waiter = this.waiters.shift()!;
      let handle: QuicStreamHandle;
      try {
        const stream = this.connection.newStream('bidi');
        this.active += 1;
        this.unsent += 1;
        handle = new QuicStreamHandle(stream, () => {
          this.unsent -= 1;
        });
        void handle.closed.then(() => {
          this.active -= 1;
          this.grant();
        });
      } catch (error) {
        waiter.reject(new LanspreadError('PEER_GONE', 'Connection cannot open streams any more', { cause: error }));
        continue;
      }
      waiter.resolve(handle);
    }
    this.schedulePoll();
  }

  /** The peer returns slots in MAX_STREAMS frames, which raise no event: poll while anyone waits. */
  private schedulePoll(): void {
    if (this.waiters.length === 0 || this.isClosed || this.pollTimer) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.grant();
    }, SLOT_POLL_MS);
  }

  private peerSlotsLeft(): number {
    try {
      // `conn` (the native quiche connection) is marked internal and missing from the typings.
      const native = (this.connection as unknown as { conn: { peerStreamsLeftBidi(): number } }).conn;
      return native.peerStreamsLeftBidi() - this.unsent;
    } catch {
      return 0;
    }
  }

  private markClosed(reason: LinkCloseReason): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.reject(gone());
    this.resolveClosed(reason);
  }
}

function gone(): LanspreadError {
  return new LanspreadError('PEER_GONE', 'Connection to the peer is closed');
}

// ---------------------------------------------------------------------------------------------
// Client side

export interface DialOptions {
  host: string;
  port: number;
  credentials: QuicCredentials;
  timings: QuicTimings;
  connectTimeoutMs: number;
  /** Called during the handshake with the server's leaf certificate. */
  checkServer: CertificateCheck;
  /** Cap on streams this side keeps open at once, on top of the peer's own limit. */
  maxOpenStreams: number;
  /** Address to send from (default: any); tests dial from several loopback addresses. */
  localHost?: string;
  logger: Logger;
}

/**
 * Connects to a server. Rejects with PEER_FINGERPRINT_MISMATCH when `checkServer` refused the
 * certificate (no stream was opened, nothing was sent), REQUEST_TIMEOUT when the handshake did
 * not finish in time, PEER_UNREACHABLE otherwise.
 */
export async function dialQuic(options: DialOptions): Promise<QuicLink> {
  const quic = await loadQuic();
  let refused = false;
  const check: CertificateCheck = (der) => {
    const ok = options.checkServer(der);
    if (!ok) refused = true;
    return ok;
  };
  let client: QUICClient;
  try {
    client = await quic.QUICClient.createQUICClient(
      {
        host: options.host,
        port: options.port,
        localHost: options.localHost ?? (isIPv6(options.host) ? '::' : '0.0.0.0'),
        crypto: { ops: { randomBytes: async (data: ArrayBuffer) => void webcrypto.getRandomValues(new Uint8Array(data)) } },
        config: {
          ...baseConfig(options.credentials, options.timings, check, options.logger),
          // The server never opens streams towards us.
          initialMaxStreamsBidi: 0,
          initialMaxStreamsUni: 0,
        },
        logger: libraryLogger(options.logger),
      },
      { timer: options.connectTimeoutMs },
    );
  } catch (error) {
    if (refused) throw new LanspreadError('PEER_FINGERPRINT_MISMATCH', `Peer at ${options.host}:${options.port} presented an unexpected certificate`, { cause: error });
    if (error instanceof quic.errors.ErrorQUICClientCreateTimeout || error instanceof quic.errors.ErrorQUICConnectionStartTimeout) {
      throw new LanspreadError('REQUEST_TIMEOUT', `No QUIC handshake with ${options.host}:${options.port} within ${options.connectTimeoutMs} ms`, { cause: error });
    }
    throw new LanspreadError('PEER_UNREACHABLE', `Cannot connect to ${options.host}:${options.port}: ${describe(error)}`, { cause: error });
  }
  const link = new QuicLink(client.connection, {
    quic,
    maxOpenStreams: options.maxOpenStreams,
    teardown: () => client.destroy({ isApp: true, errorCode: 0, force: true }),
  });
  // An evented close (idle timeout, peer close) leaves the client half alive; finish it so its socket is released.
  void link.closed.then(() => client.destroy({ isApp: true, errorCode: 0, force: true }).catch(() => undefined));
  return link;
}

// ---------------------------------------------------------------------------------------------
// Server side

export interface ListenOptions {
  host: string;
  port: number;
  credentials: QuicCredentials;
  timings: QuicTimings;
  /** Concurrent streams one client may have open; QUIC itself refuses more. */
  maxStreamsPerConnection: number;
  /** Called during the handshake with the client's leaf certificate (mutual TLS). */
  checkClient: CertificateCheck;
  /** Connections (in handshake or open) one remote address may hold; more are not answered. */
  maxConnectionsPerAddress: number;
  /** Connections in all; more are not answered. */
  maxConnections: number;
  /** A handshake not finished within this is dropped. */
  handshakeTimeoutMs: number;
  /** An open connection that starts no stream for this long is closed (our own clients close theirs after seconds). */
  idleConnectionMs: number;
  onConnection: (link: QuicLink, onStream: (listener: (stream: QuicStreamHandle) => void) => void) => void;
  logger: Logger;
}

export interface QuicListener {
  readonly port: number;
  /** Live connections, tracked here because the library's own map cannot be iterated safely. */
  readonly links: ReadonlySet<QuicLink>;
  /** Connection attempts not answered because an address or the server was at its cap. */
  readonly refused: number;
  /** Connections counted against the caps: open ones and ones still in their handshake. */
  readonly held: number;
  close(): Promise<void>;
}

/** The server method that turns a client's first packets into a connection (internal in 2.0.x). */
type AcceptConnection = (remoteInfo: { host: unknown; port: unknown }, ...rest: unknown[]) => Promise<QUICConnection | undefined>;

/**
 * Counts connections per remote address from their first packet (handshakes included, which a
 * crowd of half-open dials would otherwise pile up) and refuses to answer beyond the caps: the
 * library has no hook for this, so its internal accept step is wrapped.
 */
function capConnections(server: QUICServer, options: Pick<ListenOptions, 'maxConnectionsPerAddress' | 'maxConnections' | 'logger'>): { refused: () => number; held: () => number } {
  const internals = server as unknown as { acceptConnection?: AcceptConnection };
  const accept = internals.acceptConnection;
  if (typeof accept !== 'function') throw new LanspreadError('INTERNAL', '@matrixai/quic internals changed: QUICServer.acceptConnection not found (expected version 2.0.x)');
  const perAddress = new Map<string, number>();
  let total = 0;
  let refused = 0;
  const release = (host: string) => {
    total -= 1;
    const left = (perAddress.get(host) ?? 1) - 1;
    if (left > 0) perAddress.set(host, left);
    else perAddress.delete(host);
  };
  internals.acceptConnection = async (remoteInfo, ...rest) => {
    const host = String(remoteInfo.host);
    if (total >= options.maxConnections || (perAddress.get(host) ?? 0) >= options.maxConnectionsPerAddress) {
      refused += 1;
      if (refused === 1 || refused % 1_000 === 0) options.logger.warn('QUIC connection cap reached; not answering', { host, refused });
      return undefined;
    }
    total += 1;
    perAddress.set(host, (perAddress.get(host) ?? 0) + 1);
    let connection: QUICConnection | undefined;
    try {
      connection = await accept.call(server, remoteInfo, ...rest);
    } catch (error) {
      release(host);
      throw error;
    }
    // A stateless retry (or a bad token) made no connection; a connection holds its place until it ends.
    if (connection === undefined) release(host);
    else void connection.closedP.catch(() => undefined).then(() => release(host));
    return connection;
  };
  return { refused: () => refused, held: () => total };
}

export async function listenQuic(options: ListenOptions): Promise<QuicListener> {
  const quic = await loadQuic();
  const tokenKey = randomBytes(32);
  const server: QUICServer = new quic.QUICServer({
    crypto: {
      key: tokenKey.buffer.slice(tokenKey.byteOffset, tokenKey.byteOffset + tokenKey.byteLength),
      ops: {
        sign: async (key: ArrayBuffer, data: ArrayBuffer) => toArrayBuffer(createHmac('sha256', Buffer.from(key)).update(Buffer.from(data)).digest()),
        verify: async (key: ArrayBuffer, data: ArrayBuffer, sig: ArrayBuffer) => {
          const expected = createHmac('sha256', Buffer.from(key)).update(Buffer.from(data)).digest();
          const given = Buffer.from(sig);
          return given.byteLength === expected.byteLength && timingSafeEqual(given, expected);
        },
      },
    },
    config: {
      ...baseConfig(options.credentials, options.timings, options.checkClient, options.logger),
      initialMaxStreamsBidi: options.maxStreamsPerConnection,
      initialMaxStreamsUni: 0,
    },
    logger: libraryLogger(options.logger),
    minIdleTimeout: options.handshakeTimeoutMs,
  });
  const caps = capConnections(server, options);
  const links = new Set<QuicLink>();
  const lastStreamAt = new Map<QuicLink, number>();
  server.addEventListener(quic.events.EventQUICServerConnection.name, (evt: Event) => {
    const connection = (evt as Event & { detail: QUICConnection }).detail;
    const link = new QuicLink(connection, {
      quic,
      maxOpenStreams: 0,
      teardown: () => connection.stop({ isApp: true, errorCode: 0, force: true }),
    });
    links.add(link);
    lastStreamAt.set(link, Date.now());
    void link.closed.then(() => {
      links.delete(link);
      lastStreamAt.delete(link);
    });
    let streamListener: ((stream: QuicStreamHandle) => void) | null = null;
    const pending: QUICStream[] = [];
    let serving = 0;
    const accepted = (stream: QUICStream): QuicStreamHandle => {
      const handle = link.acceptStream(stream);
      serving += 1;
      void handle.closed.then(() => {
        serving -= 1;
        if (serving === 0 && lastStreamAt.has(link)) lastStreamAt.set(link, Date.now());
      });
      return handle;
    };
    connection.addEventListener(quic.events.EventQUICConnectionStream.name, (streamEvt: Event) => {
      const stream = (streamEvt as Event & { detail: QUICStream }).detail;
      // A connection serving a stream is not idle, however long the stream takes.
      lastStreamAt.set(link, Number.POSITIVE_INFINITY);
      if (streamListener) streamListener(accepted(stream));
      else pending.push(stream);
    });
    try {
      options.onConnection(link, (listener) => {
        streamListener = listener;
        for (const stream of pending.splice(0)) listener(accepted(stream));
      });
    } catch (error) {
      options.logger.error('connection handler threw', { error: describe(error) });
      void link.close();
    }
  });
  try {
    await server.start({ host: options.host, port: options.port });
  } catch (error) {
    throw new LanspreadError('INTERNAL', `Cannot listen on ${options.host}:${options.port}: ${describe(error)}`, { cause: error });
  }
  // Connections that hold a slot without asking anything (keep-alives only) are closed.
  const idleSweep = setInterval(
    () => {
      const now = Date.now();
      for (const [link, at] of lastStreamAt) if (now - at >= options.idleConnectionMs) void link.close();
    },
    Math.max(100, options.idleConnectionMs / 4),
  );
  idleSweep.unref();
  let closing: Promise<void> | null = null;
  return {
    port: Number(server.port),
    links,
    get refused() {
      return caps.refused();
    },
    get held() {
      return caps.held();
    },
    close: () => {
      closing ??= (async () => {
        clearInterval(idleSweep);
        // The library waits out each connection's close timers (seconds for a crowd of
        // half-finished handshakes): stop() returns after a grace, the rest ends on its own.
        const stopped = (async () => {
          await Promise.all([...links].map((link) => link.close()));
          await server.stop({ isApp: true, errorCode: 0, force: true }).catch(() => undefined);
        })();
        let grace: NodeJS.Timeout | undefined;
        await Promise.race([stopped, new Promise<void>((resolve) => (grace = setTimeout(resolve, STOP_GRACE_MS).unref()))]);
        clearTimeout(grace);
      })();
      return closing;
    },
  };
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}
