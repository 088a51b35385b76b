import type { Socket } from 'node:net';
import { createServer } from 'node:tls';
import type { Server, TLSSocket } from 'node:tls';
import { LanspreadError, toLanspreadError } from '../../../../shared/errors';
import type { PeerId } from '../../../../shared/model';
import type { PeerIdentity } from '../../identity/identity';
import { ByteReader, encodeFrame } from '../../protocol/codec';
import type { Response } from '../../protocol/messages';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../../protocol/messages';
import { parseRequest } from '../../protocol/validate';
import type { Logger } from '../../util/logger';
import { silentLogger } from '../../util/logger';
import type { StreamInstallHandler, StreamInstallRequest } from '../../stream/stream-sender';
import { RecentUploads } from './recent-uploads';
import { UploadSlots } from './upload-slots';
import type { HaveHandler, RequestHandler, ServerReply, SubscribeHaveRequest } from '../types';
import { LANE_ALPN, LANE_TLS_VERSION, remoteFingerprint } from './lane-tls';
import { writeAndRelease, writeFrameWithin, writeWithBackpressure, writeWithin } from './socket-write';

export interface DataLaneServerOptions {
  identity: PeerIdentity;
  host: string;
  /** 0 = any free port; `start()` says which. */
  port: number;
  /** The same handler the QUIC control plane uses; the lane only lets GetChunk through to it. */
  handler: RequestHandler;
  /** Answers StreamInstall; without it the request is refused. */
  streamHandler?: StreamInstallHandler;
  /** Answers SubscribeHave (a partial peer's have-map and updates); without it the request is refused. */
  haveHandler?: HaveHandler;
  /** Chunk uploads at once, shared fairly between requesting peers; the rest wait their turn. */
  uploadSlots?: number;
  /**
   * The size of a game this peer serves whole (all its files), for super-seeding: until this
   * peer has sent every byte of it once, it refuses to repeat a chunk it just sent to another
   * peer. Undefined for a game it serves only in part: a repeat is then refused only while
   * another peer waits for a chunk not sent lately.
   */
  servedBytes?: (gameId: string) => number | undefined;
  /** While a request waits for an upload slot, a Queued frame goes out this often (the client's silence timer). */
  queuedKeepAliveMs?: number;
  logger?: Logger;
  /** Further connections are refused by the kernel-side accept (net.Server.maxConnections). */
  maxConnections?: number;
  /** A client that has not finished its TLS handshake by then is dropped. */
  handshakeTimeoutMs?: number;
  /** Connections not yet through TLS, per remote address and in all: past a cap the oldest is dropped. */
  maxUnauthenticatedPerAddress?: number;
  maxUnauthenticated?: number;
  /** Once a request frame's first byte arrives, the whole frame must be here within this (slow-loris guard). */
  requestFrameDeadlineMs?: number;
  /** A payload write or stream frame the peer does not take within this (or at minWriteRate, if longer) drops the connection: a reader that does not read holds no slot. */
  writeStallMs?: number;
  minWriteRate?: number;
  /** A connection silent in both directions this long is closed (also the slow-loris guard). */
  idleTimeoutMs?: number;
  /** After refusing hostile input, how long the server keeps reading so its Error frame arrives. */
  lingerMs?: number;
}

/** Authenticated connections too: in a room each peer holds a few to each peer it downloads from. */
const DEFAULT_MAX_CONNECTIONS = 2048;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS = 64;
const DEFAULT_MAX_UNAUTHENTICATED = 256;
const DEFAULT_REQUEST_FRAME_DEADLINE_MS = 10_000;
const DEFAULT_WRITE_STALL_MS = 15_000;
const DEFAULT_UPLOAD_SLOTS = 8;
const DEFAULT_QUEUED_KEEP_ALIVE_MS = 4_000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_LINGER_MS = 2_000;

/**
 * Serves chunk bytes over TLS 1.3 / TCP, mutually authenticated: a client must present a
 * certificate, and its fingerprint is the `remotePeerId` the handler sees. Requests on one
 * connection are answered strictly in order, one at a time (the client pipelines; the socket
 * buffers what waits). Each answer is a frame and, for a ChunkHeader, exactly `length` raw
 * bytes written at the pace the socket drains.
 */
export class DataLaneServer {
  private readonly options: DataLaneServerOptions;
  private readonly logger: Logger;
  private server: Server | null = null;
  private starting: Promise<{ port: number }> | null = null;
  private readonly sockets = new Set<TLSSocket>();
  /** TCP connections still before or in their TLS handshake, oldest first, by `address:port`. */
  private readonly unauthenticated = new Map<string, { socket: Socket; address: string; deadline: NodeJS.Timeout }>();
  private readonly slots: UploadSlots;
  private readonly recent = new RecentUploads();

  constructor(options: DataLaneServerOptions) {
    this.options = options;
    this.logger = (options.logger ?? silentLogger).child('data-lane-server');
    this.slots = new UploadSlots(options.uploadSlots ?? DEFAULT_UPLOAD_SLOTS);
  }

  start(): Promise<{ port: number }> {
    this.starting ??= this.listen();
    return this.starting;
  }

  /** Port actually listened on; null before start() resolved. */
  get port(): number | null {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : null;
  }

  async stop(): Promise<void> {
    const server = this.server;
    const starting = this.starting;
    this.server = null;
    this.starting = null;
    if (starting) await starting.catch(() => undefined);
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    for (const { socket, deadline } of this.unauthenticated.values()) {
      clearTimeout(deadline);
      socket.destroy();
    }
    this.unauthenticated.clear();
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async listen(): Promise<{ port: number }> {
    const { identity } = this.options;
    const server = createServer({
      key: identity.keyPem,
      cert: identity.certPem,
      minVersion: LANE_TLS_VERSION,
      maxVersion: LANE_TLS_VERSION,
      requestCert: true,
      // Self-signed peers: the fingerprint check in accept() is the authentication.
      rejectUnauthorized: false,
      ALPNProtocols: [LANE_ALPN],
    });
    server.maxConnections = this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    server.on('connection', (socket: Socket) => this.admitUnauthenticated(socket));
    server.on('secureConnection', (socket) => {
      const key = `${socket.remoteAddress}:${socket.remotePort}`;
      clearTimeout(this.unauthenticated.get(key)?.deadline);
      this.unauthenticated.delete(key);
      this.accept(socket);
    });
    // Handshake failures (wrong TLS version, garbage before the handshake) only cost that socket.
    server.on('tlsClientError', (error) => this.logger.debug('TLS handshake failed', { reason: error.message }));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.logger.warn('Data lane server error', { reason: error.message }));
    const port = this.port;
    if (port === null) throw new LanspreadError('INTERNAL', 'Data lane server has no port after listen');
    return { port };
  }

  /**
   * A connection that has not proved who it is yet costs memory and a slot: many of them from
   * one address (or in all) drop the oldest, so connects that never start TLS cannot crowd out
   * real peers; the handshake timeout drops the rest.
   */
  private admitUnauthenticated(socket: Socket): void {
    const address = socket.remoteAddress ?? '';
    const key = `${address}:${socket.remotePort}`;
    // Our own timer: TLS's handshakeTimeout does not start for a client that sends nothing at all.
    const deadline = setTimeout(() => socket.destroy(), this.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
    deadline.unref();
    this.unauthenticated.set(key, { socket, address, deadline });
    socket.once('close', () => {
      clearTimeout(deadline);
      if (this.unauthenticated.get(key)?.socket === socket) this.unauthenticated.delete(key);
    });
    const perAddress = this.options.maxUnauthenticatedPerAddress ?? DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS;
    const total = this.options.maxUnauthenticated ?? DEFAULT_MAX_UNAUTHENTICATED;
    let fromAddress = 0;
    for (const entry of this.unauthenticated.values()) if (entry.address === address) fromAddress++;
    for (const [oldKey, entry] of this.unauthenticated) {
      if (fromAddress <= perAddress && this.unauthenticated.size <= total) break;
      if (fromAddress > perAddress && entry.address !== address) continue;
      this.unauthenticated.delete(oldKey);
      if (entry.address === address) fromAddress--;
      clearTimeout(entry.deadline);
      entry.socket.destroy();
    }
  }

  private accept(socket: TLSSocket): void {
    if (this.server === null) {
      socket.destroy();
      return;
    }
    const remotePeerId = remoteFingerprint(socket);
    if (remotePeerId === null) {
      this.logger.info('Refused data lane client without certificate', { host: socket.remoteAddress });
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (error) => this.logger.debug('Data lane connection error', { reason: error.message }));
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => socket.destroy());
    this.serve(socket, remotePeerId).catch((error: unknown) => {
      this.logger.debug('Data lane connection ended', { reason: error instanceof Error ? error.message : String(error) });
      socket.destroy();
    });
  }

  private async serve(socket: TLSSocket, remotePeerId: PeerId): Promise<void> {
    // Our own iterator (not the reader's) so the linger phase can keep consuming input.
    const input = socket[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    const reader = new ByteReader({ [Symbol.asyncIterator]: () => input });
    const context = { remotePeerId, remoteHost: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 };
    for (;;) {
      let request;
      try {
        let deadline: NodeJS.Timeout | undefined;
        const deadlineMs = this.options.requestFrameDeadlineMs ?? DEFAULT_REQUEST_FRAME_DEADLINE_MS;
        const raw = await reader
          .readFrame(MAX_REQUEST_BYTES, () => (deadline = setTimeout(() => socket.destroy(), deadlineMs)))
          .finally(() => clearTimeout(deadline));
        if (raw === null) break;
        request = parseRequest(raw);
      } catch (error) {
        if (socket.destroyed || socket.readableEnded) return;
        // Framing is lost (or the peer is hostile): say why, then hang up on this one client.
        await this.refuse(socket, input, toLanspreadError(error, 'MALFORMED_MESSAGE'));
        return;
      }
      if (request.type === 'StreamInstall' || request.type === 'SubscribeHave') {
        // A stream owns its connection to the end: the client opens a fresh one for each.
        await this.sendStream(socket, request);
        socket.end();
        return;
      }
      if (request.type !== 'GetChunk') {
        await writeWithBackpressure(socket, errorFrame(new LanspreadError('UNKNOWN_MESSAGE_TYPE', `${request.type} is not served on the data lane`)));
        continue;
      }
      const chunk = { key: `${request.gameId}\0${request.path}\0${request.offset}\0${request.length}`, gameId: request.gameId, bytes: request.length };
      // A free slot is taken at once; only a request that has to queue sets up the wait (keep-alives, abort on close).
      const release = this.slots.tryAcquire() ?? (await this.waitForSlot(socket, remotePeerId, chunk.key));
      try {
        // Super-seeding: a chunk another peer got lately is theirs to pass on while the room lacks something.
        if (this.recent.sentElsewhere(chunk.key, remotePeerId) && this.roomLacks(request.gameId)) {
          await writeWithBackpressure(socket, SENT_ELSEWHERE_FRAME);
          continue;
        }
        let reply: ServerReply;
        try {
          reply = await this.options.handler(request, context);
        } catch (error) {
          await writeWithBackpressure(socket, errorFrame(toLanspreadError(error)));
          continue;
        }
        // Recorded as it starts, so a second asker queued meanwhile is refused too; a send that fails is forgotten.
        this.recent.record(chunk, remotePeerId);
        await this.sendReply(socket, reply).catch((error: unknown) => {
          this.recent.forget(chunk.key, remotePeerId);
          throw error;
        });
      } finally {
        release();
      }
    }
    socket.end();
  }

  /**
   * A peer left the room (its goodbye, or it stopped answering): the chunks it got from us
   * lately are served again to whoever asks, instead of being refused as repeats that only it
   * could have passed on (for up to a minute, or until we had sent the whole game once).
   */
  peerLeft(peerId: PeerId): void {
    this.recent.forgetPeer(peerId);
  }

  /**
   * Whether the room may still lack part of the game that only this peer can give: a game
   * served whole until every byte of it went out once (a repeat meanwhile takes upload from a
   * chunk nobody has, and the room's last chunk comes that much later), a partial one while
   * another peer waits here for a chunk not sent lately.
   */
  private roomLacks(gameId: string): boolean {
    const whole = this.options.servedBytes?.(gameId);
    if (whole !== undefined) return this.recent.distinctBytes(gameId) < whole;
    return this.slots.someWaiting((peerId, wants) => !this.recent.sentElsewhere(wants, peerId));
  }

  /** Queues the request for an upload slot, telling the client every few seconds that it is still queued. */
  private async waitForSlot(socket: TLSSocket, peerId: PeerId, key: string): Promise<() => void> {
    const gone = new AbortController();
    const onClose = () => gone.abort();
    socket.once('close', onClose);
    const keepAlive = setInterval(() => void writeWithBackpressure(socket, QUEUED_FRAME).catch(() => undefined), this.options.queuedKeepAliveMs ?? DEFAULT_QUEUED_KEEP_ALIVE_MS);
    try {
      return await this.slots.acquire(peerId, gone.signal, key);
    } finally {
      clearInterval(keepAlive);
      socket.off('close', onClose);
    }
  }

  private async sendReply(socket: TLSSocket, reply: ServerReply): Promise<void> {
    const announced = reply.frame.type === 'ChunkHeader' ? reply.frame.length : 0;
    const stallMs = this.options.writeStallMs ?? DEFAULT_WRITE_STALL_MS;
    await writeFrameWithin(socket, stallMs, encodeFrame(reply.frame, MAX_RESPONSE_BYTES));
    let sent = 0;
    if (reply.payload) {
      for await (const piece of reply.payload) {
        if (sent + piece.byteLength > announced) {
          throw new LanspreadError('STREAM_SIZE_MISMATCH', `Payload exceeds the announced ${announced} bytes`);
        }
        sent += piece.byteLength;
        // Payload pieces may be pooled buffers (ServedFileReader.read): done with each before the next.
        // The rate floor's longer deadline (a 1 MiB piece at 32 KiB/s: 32 s) is for a reader
        // behind a download cap; while other peers wait for this slot, a piece gets stallMs.
        await writeWithin(socket, stallMs, writeAndRelease(socket, piece), piece.byteLength, this.options.minWriteRate, () => this.slots.waiting > 0);
      }
    }
    // The client counts bytes to find the next frame: a short payload would desynchronise it, so
    // the connection dies (the caller destroys it) and the client sees an error, never a short chunk.
    if (sent !== announced) throw new LanspreadError('STREAM_SIZE_MISMATCH', `Payload ended after ${sent} of ${announced} bytes`);
  }

  /** StreamInstall and SubscribeHave: many frames on a connection of their own, until the handler ends. */
  private async sendStream(socket: TLSSocket, request: StreamInstallRequest | SubscribeHaveRequest): Promise<void> {
    const items = this.streamItems(request);
    if (!items) {
      await writeWithBackpressure(socket, errorFrame(new LanspreadError('UNKNOWN_MESSAGE_TYPE', `This peer does not serve ${request.type}`)));
      return;
    }
    // The client hanging up stops the handler (for-await's return() runs on the way out).
    const abort = new AbortController();
    const onClose = () => abort.abort();
    socket.once('close', onClose);
    const stallMs = this.options.writeStallMs ?? DEFAULT_WRITE_STALL_MS;
    try {
      for await (const item of items(abort.signal)) {
        await writeFrameWithin(socket, stallMs, encodeFrame(item.frame, MAX_RESPONSE_BYTES));
        if (item.payload) await writeWithin(socket, stallMs, writeWithBackpressure(socket, item.payload), item.payload.byteLength, this.options.minWriteRate);
      }
    } catch (error) {
      if (socket.destroyed) return;
      const coded = toLanspreadError(error);
      this.logger.info(`${request.type} failed on this side`, { code: coded.code, gameId: request.gameId });
      await writeWithBackpressure(socket, errorFrame(coded)).catch(() => undefined);
    } finally {
      socket.off('close', onClose);
    }
  }

  private streamItems(request: StreamInstallRequest | SubscribeHaveRequest): ((signal: AbortSignal) => AsyncIterable<{ frame: unknown; payload?: Uint8Array }>) | null {
    if (request.type === 'StreamInstall') {
      const handler = this.options.streamHandler;
      return handler ? (signal) => handler(request, signal) : null;
    }
    const handler = this.options.haveHandler;
    return handler ? (signal) => frames(handler(request, signal)) : null;
  }

  private async refuse(socket: TLSSocket, input: AsyncIterator<Uint8Array>, error: LanspreadError): Promise<void> {
    this.logger.info('Refused data lane input', { code: error.code, host: socket.remoteAddress });
    socket.end(errorFrame(error));
    // Unread input at close makes the kernel send RST, which can destroy the Error frame in
    // flight; so read and discard until the client hangs up, for a bounded time.
    const linger = setTimeout(() => socket.destroy(), this.options.lingerMs ?? DEFAULT_LINGER_MS);
    try {
      while (!(await input.next()).done);
    } catch {
      // The socket died while lingering: nothing more to do.
    } finally {
      clearTimeout(linger);
      socket.destroy();
    }
  }
}

async function* frames<T>(source: AsyncIterable<T>): AsyncGenerator<{ frame: T }> {
  for await (const frame of source) yield { frame };
}

const QUEUED_FRAME = encodeFrame({ type: 'Queued' } satisfies Response, MAX_RESPONSE_BYTES);
/** Encoded once: a whole seed refuses hundreds of repeats in a crowd's first seconds (an error object each cost its stack trace). */
const SENT_ELSEWHERE_FRAME = errorFrame(new LanspreadError('CHUNK_NOT_AVAILABLE', 'This chunk just went to another peer: fetch it from the room'));

function errorFrame(error: LanspreadError): Uint8Array {
  const frame: Response = { type: 'Error', code: error.code, message: error.message.slice(0, 1024) };
  return encodeFrame(frame, MAX_RESPONSE_BYTES);
}
