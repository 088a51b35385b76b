import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { PeerId } from '../../../shared/model';
import { fingerprintOfDer } from '../identity/fingerprint';
import type { PeerIdentity } from '../identity/identity';
import type { PeerTarget, PeerTransport, RequestOptions } from '../peers/peer-transport';
import { ByteReader, encodeFrame } from '../protocol/codec';
import type { Request, Response } from '../protocol/messages';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../protocol/messages';
import { parseResponse } from '../protocol/validate';
import type { Logger } from '../util/logger';
import { silentLogger } from '../util/logger';
import { TypedEmitter } from '../util/typed-emitter';
import { withDeadline } from './deadline';
import type { LinkCloseReason, QuicLink, QuicStreamHandle } from './quic/quic-library';
import { dialQuic } from './quic/quic-library';

export interface QuicPeerClientOptions {
  identity: PeerIdentity;
  connectTimeoutMs: number;
  /** A connection silent for this long counts as dead (and `connection-lost` fires). */
  idleTimeoutMs: number;
  /** Must be shorter than `idleTimeoutMs`. */
  keepAliveIntervalMs: number;
  /** Default per request, covering connect, waiting for a stream slot, and the whole response. */
  requestTimeoutMs: number;
  /** Streams kept open per peer at once (the peer's own limit applies too). Default 64. */
  maxStreamsPerPeer?: number;
  /**
   * A connection with no request for this long is closed (default 3 s, long enough for a
   * Hello and its listing): a peer we are not talking to costs no keep-alives, timers or
   * socket. The next request dials again.
   */
  idleCloseMs?: number;
  logger?: Logger;
}

export interface PeerClientEvents {
  /** A connection died without us closing it (idle timeout, peer closed, error). */
  'connection-lost': { peerId: PeerId; reason: LinkCloseReason };
}

interface PooledLink {
  link: Promise<QuicLink>;
  /** Requests using it now; it is never closed for idleness while any runs. */
  busy: number;
  lastUsedMs: number;
}

const DEFAULT_IDLE_CLOSE_MS = 3_000;

/** Background reads that let an abandoned stream finish are bounded by the connection's life; this only caps a stuck one. */
const ABANDONED_DRAIN_MS = 10 * 60_000;

/**
 * The control-plane client. Keeps one QUIC connection per peer id, shared by all requests
 * (concurrent first requests share one connect), and closes it once it is idle. Every connection is pinned: the server's
 * certificate fingerprint must equal the peer id we asked for, or the connection is refused
 * during the handshake, before any request is sent (PEER_FINGERPRINT_MISMATCH).
 *
 * Error responses from the peer come back as `{ type: 'Error' }` responses; transport failures
 * reject with PEER_UNREACHABLE, PEER_GONE, PEER_FINGERPRINT_MISMATCH, REQUEST_TIMEOUT or
 * REQUEST_CANCELLED.
 */
export class QuicPeerClient implements PeerTransport {
  readonly events = new TypedEmitter<PeerClientEvents>();
  private readonly options: QuicPeerClientOptions;
  private readonly logger: Logger;
  private readonly pool = new Map<PeerId, PooledLink>();
  /** Probe connections live here until their request finishes; stop() must close them too. */
  private readonly probes = new Set<QuicLink>();
  private readonly idleCloseMs: number;
  private idleTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(options: QuicPeerClientOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.idleCloseMs = options.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS;
  }

  onConnectionLost(listener: (peerId: PeerId) => void): () => void {
    return this.events.on('connection-lost', ({ peerId }) => listener(peerId));
  }

  async request(target: PeerTarget, request: Request, options: RequestOptions = {}): Promise<Response> {
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    const frame = encodeFrame(request, MAX_REQUEST_BYTES);
    return withDeadline(
      (async () => {
        const { link, pooled } = await this.linkFor(target);
        pooled.busy += 1;
        try {
          return await this.exchange(link, frame, options);
        } finally {
          pooled.busy -= 1;
          pooled.lastUsedMs = Date.now();
        }
      })(),
      timeoutMs,
      `${request.type} to ${target.host}:${target.port}`,
      options.signal,
    );
  }

  /**
   * Trust on first use, for a manual peer known only by address: accepts whatever certificate
   * answers, sends one request, and returns the fingerprint seen. The caller must pin that id
   * from then on (pass it as `peerId` to `request`); this is the only unpinned path, and a
   * man in the middle at this first contact would be trusted. The connection is kept for that
   * peer id when none exists yet.
   */
  async probe(host: string, port: number, request: Request, options: RequestOptions = {}): Promise<{ peerId: PeerId; response: Response }> {
    this.assertRunning();
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    const frame = encodeFrame(request, MAX_REQUEST_BYTES);
    return withDeadline(
      (async () => {
        const link = await this.dial(host, port, null);
        const peerId = fingerprintOfDer(link.remoteCertDer);
        const adopted = !this.pool.has(peerId) && !this.stopped;
        if (adopted) this.adopt(peerId, link);
        else this.probes.add(link);
        try {
          return { peerId, response: await this.exchange(link, frame, options) };
        } finally {
          if (!adopted) {
            this.probes.delete(link);
            void link.close();
          }
        }
      })(),
      timeoutMs,
      `${request.type} probe to ${host}:${port}`,
      options.signal,
    );
  }

  /** Closes the connection to one peer (without a `connection-lost` event). */
  async closePeer(peerId: PeerId): Promise<void> {
    const pooled = this.pool.get(peerId);
    if (!pooled) return;
    this.pool.delete(peerId);
    const link = await pooled.link.catch(() => null);
    await link?.close();
  }

  /** Closes every connection; later requests fail. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    const peers = [...this.pool.keys()];
    await Promise.all(peers.map((peerId) => this.closePeer(peerId)));
    await Promise.all([...this.probes].map((link) => link.close()));
    this.probes.clear();
  }

  /** Open connections, for diagnostics and tests. */
  get connectedPeers(): PeerId[] {
    return [...this.pool.keys()];
  }

  private assertRunning(): void {
    if (this.stopped) throw new LanspreadError('REQUEST_CANCELLED', 'The peer client is stopped');
  }

  private async linkFor(target: PeerTarget): Promise<{ link: QuicLink; pooled: PooledLink }> {
    this.assertRunning();
    const existing = this.pool.get(target.peerId);
    if (existing) {
      const link = await existing.link;
      if (link.isOpen) return { link, pooled: existing };
      if (this.pool.get(target.peerId) === existing) this.pool.delete(target.peerId);
      return this.linkFor(target);
    }
    const pooled = this.pooled(this.dial(target.host, target.port, target.peerId));
    this.pool.set(target.peerId, pooled);
    try {
      const link = await pooled.link;
      this.watch(target.peerId, link, pooled);
      return { link, pooled };
    } catch (error) {
      if (this.pool.get(target.peerId) === pooled) this.pool.delete(target.peerId);
      throw error;
    }
  }

  private adopt(peerId: PeerId, link: QuicLink): void {
    const pooled = this.pooled(Promise.resolve(link));
    this.pool.set(peerId, pooled);
    this.watch(peerId, link, pooled);
  }

  private pooled(link: Promise<QuicLink>): PooledLink {
    this.sweepIdleLater();
    return { link, busy: 0, lastUsedMs: Date.now() };
  }

  /** One timer for the whole pool, running only while it holds connections. */
  private sweepIdleLater(): void {
    if (this.idleTimer || this.stopped) return;
    this.idleTimer = setInterval(() => {
      const now = Date.now();
      for (const [peerId, pooled] of this.pool) {
        if (pooled.busy === 0 && now - pooled.lastUsedMs >= this.idleCloseMs) void this.closeIdle(peerId, pooled);
      }
      if (this.pool.size === 0 && this.idleTimer) {
        clearInterval(this.idleTimer);
        this.idleTimer = null;
      }
    }, Math.max(50, this.idleCloseMs / 4));
    this.idleTimer.unref();
  }

  private async closeIdle(peerId: PeerId, pooled: PooledLink): Promise<void> {
    if (this.pool.get(peerId) !== pooled) return;
    this.pool.delete(peerId);
    const link = await pooled.link.catch(() => null);
    await link?.close();
  }

  private watch(peerId: PeerId, link: QuicLink, pooled: PooledLink): void {
    void link.closed.then((reason) => {
      if (this.pool.get(peerId) === pooled) this.pool.delete(peerId);
      if (reason === 'closed-locally') return;
      this.logger.info('connection lost', { peerId: peerId.slice(0, 12), reason });
      this.events.emit('connection-lost', { peerId, reason });
    });
  }

  private async dial(host: string, port: number, expected: PeerId | null): Promise<QuicLink> {
    const link = await dialQuic({
      host,
      port,
      credentials: this.options.identity,
      timings: { idleTimeoutMs: this.options.idleTimeoutMs, keepAliveIntervalMs: this.options.keepAliveIntervalMs },
      connectTimeoutMs: this.options.connectTimeoutMs,
      checkServer: (der) => expected === null || fingerprintOfDer(der) === expected,
      maxOpenStreams: this.options.maxStreamsPerPeer ?? 64,
      logger: this.logger,
    });
    if (this.stopped) {
      await link.close();
      throw new LanspreadError('REQUEST_CANCELLED', 'The peer client is stopped');
    }
    return link;
  }

  /** One request on its own stream: write the frame and FIN, read the response (and payload). */
  private async exchange(link: QuicLink, frame: Uint8Array, options: RequestOptions): Promise<Response> {
    const stream = await link.openStream(options.signal);
    let settled = false;
    try {
      await stream.write(frame);
      await stream.end();
      const reader = new ByteReader(stream.incoming);
      const decoded = await reader.readFrame(MAX_RESPONSE_BYTES);
      if (decoded === null) throw new LanspreadError('MALFORMED_MESSAGE', 'Peer closed the stream without a response');
      const response = parseResponse(decoded);
      if (response.type === 'ChunkHeader') await this.takePayload(response, reader, options);
      settled = true;
      return response;
    } catch (error) {
      if (!link.isOpen) throw new LanspreadError('PEER_GONE', 'Connection to the peer was lost during the request', { cause: error });
      if (error instanceof LanspreadError) throw error;
      throw new LanspreadError('MALFORMED_MESSAGE', `Peer aborted the response: ${toLanspreadError(error).message}`, { cause: error });
    } finally {
      // Never cancel (that leaks a slot on the peer): read on to the peer's FIN so the stream completes.
      void this.finish(stream, settled);
    }
  }

  private async takePayload(header: Extract<Response, { type: 'ChunkHeader' }>, reader: ByteReader, options: RequestOptions): Promise<void> {
    if (options.onPayload) {
      await options.onPayload(header, reader);
      return;
    }
    await reader.pipeExact(header.length, () => undefined);
  }

  private async finish(stream: QuicStreamHandle, settled: boolean): Promise<void> {
    const finished = await stream.drain(Number.MAX_SAFE_INTEGER, ABANDONED_DRAIN_MS);
    if (!finished && settled) this.logger.debug('stream did not finish after its response', { stream: stream.id });
  }
}
