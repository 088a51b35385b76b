import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import { fingerprintOfDer } from '../identity/fingerprint';
import type { PeerIdentity } from '../identity/identity';
import { ByteReader, encodeFrame } from '../protocol/codec';
import type { Response } from '../protocol/messages';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../protocol/messages';
import { parseRequest } from '../protocol/validate';
import type { Logger } from '../util/logger';
import { silentLogger } from '../util/logger';
import { withDeadline } from './deadline';
import type { QuicLink, QuicListener, QuicStreamHandle, QuicTimings } from './quic/quic-library';
import { DEFAULT_QUIC_TIMINGS, listenQuic } from './quic/quic-library';
import type { RequestContext, RequestHandler, ServerLimits } from './types';
import { DEFAULT_SERVER_LIMITS } from './types';

export interface QuicControlServerOptions {
  identity: PeerIdentity;
  /** Defaults to '0.0.0.0'. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  handler: RequestHandler;
  logger?: Logger;
  limits?: Partial<ServerLimits>;
  timings?: Partial<QuicTimings>;
}

/**
 * The control-plane server: one request frame in, one response frame (plus optional raw
 * payload) out, per bidirectional stream. Clients must present a certificate; its fingerprint
 * is the `remotePeerId` handed to the handler. A misbehaving stream gets a coded Error frame
 * and is closed; it never disturbs other streams or connections.
 */
export class QuicControlServer {
  private readonly options: QuicControlServerOptions;
  private readonly limits: ServerLimits;
  private readonly timings: QuicTimings;
  private readonly logger: Logger;
  private listener: QuicListener | null = null;
  private starting: Promise<{ port: number }> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(options: QuicControlServerOptions) {
    this.options = options;
    this.limits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
    this.timings = { ...DEFAULT_QUIC_TIMINGS, ...options.timings };
    this.logger = options.logger ?? silentLogger;
  }

  /** Listens and resolves with the bound UDP port. Idempotent. */
  start(): Promise<{ port: number }> {
    if (this.stopping) return Promise.reject(new LanspreadError('INTERNAL', 'QuicControlServer was stopped'));
    this.starting ??= (async () => {
      this.listener = await listenQuic({
        host: this.options.host ?? '0.0.0.0',
        port: this.options.port ?? 0,
        credentials: this.options.identity,
        timings: this.timings,
        maxStreamsPerConnection: this.limits.maxStreamsPerConnection,
        maxConnectionsPerAddress: this.limits.maxConnectionsPerAddress,
        maxConnections: this.limits.maxConnections,
        handshakeTimeoutMs: this.limits.handshakeTimeoutMs,
        idleConnectionMs: this.limits.idleConnectionMs,
        // Any certificate may connect; the handler decides what a peer id may do.
        checkClient: () => true,
        onConnection: (link, onStream) => this.accept(link, onStream),
        logger: this.logger,
      });
      this.logger.info('control server listening', { port: this.listener.port });
      return { port: this.listener.port };
    })();
    return this.starting;
  }

  get port(): number | null {
    return this.listener?.port ?? null;
  }

  /** Number of connected clients. */
  get connectionCount(): number {
    return this.listener?.links.size ?? 0;
  }

  /** Connection attempts left unanswered because of the connection caps. */
  get refusedConnections(): number {
    return this.listener?.refused ?? 0;
  }

  /** Connections counted against the caps, handshakes in progress included. */
  get heldConnections(): number {
    return this.listener?.held ?? 0;
  }

  /** Closes every connection and the socket. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      await this.listener?.close();
      this.listener = null;
    })();
    return this.stopping;
  }

  private accept(link: QuicLink, onStream: (listener: (stream: QuicStreamHandle) => void) => void): void {
    const context: RequestContext = {
      remotePeerId: fingerprintOfDer(link.remoteCertDer),
      remoteHost: link.remoteHost,
      remotePort: link.remotePort,
    };
    this.logger.debug('client connected', { peerId: context.remotePeerId.slice(0, 12), host: context.remoteHost });
    onStream((stream) => {
      void this.serve(stream, context).catch((error: unknown) => {
        this.logger.debug('stream failed', { peerId: context.remotePeerId.slice(0, 12), error: toLanspreadError(error).message });
        stream.reset();
      });
    });
  }

  private async serve(stream: QuicStreamHandle, context: RequestContext): Promise<void> {
    const reader = new ByteReader(stream.incoming);
    let reply: { frame: Response; payload?: AsyncIterable<Uint8Array> };
    try {
      const frame = await withDeadline(reader.readFrame(MAX_REQUEST_BYTES), this.limits.requestReadTimeoutMs, 'Reading the request');
      if (frame === null) throw new LanspreadError('MALFORMED_MESSAGE', 'Stream ended before a request arrived');
      const request = parseRequest(frame);
      reply = await this.options.handler(request, context);
    } catch (error) {
      const coded = toLanspreadError(error);
      reply = { frame: { type: 'Error', code: coded.code, message: coded.message } };
    }
    await this.respond(stream, reply);
    await stream.end();
    // The request direction must reach its FIN for the stream (and the client's slot) to complete.
    const finished = await stream.drain(this.limits.drainMaxBytes, this.limits.drainTimeoutMs);
    if (!finished) stream.reset();
  }

  private async respond(stream: QuicStreamHandle, reply: { frame: Response; payload?: AsyncIterable<Uint8Array> }): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(reply.frame, MAX_RESPONSE_BYTES);
    } catch (error) {
      const coded = toLanspreadError(error);
      bytes = encodeFrame({ type: 'Error', code: coded.code, message: coded.message }, MAX_RESPONSE_BYTES);
      reply = { frame: { type: 'Error', code: coded.code, message: coded.message } };
    }
    await stream.write(bytes);
    if (!reply.payload) return;
    const expected = reply.frame.type === 'ChunkHeader' ? reply.frame.length : null;
    let sent = 0;
    for await (const piece of reply.payload) {
      sent += piece.byteLength;
      if (expected !== null && sent > expected) break;
      await stream.write(piece);
    }
    if (expected !== null && sent !== expected) {
      // The client counts payload bytes by the header; a short or long payload would corrupt the
      // stream, so reset it and let the client see a failed request instead of wrong bytes.
      throw new LanspreadError('INTERNAL', `Payload was ${sent} bytes, header announced ${expected}`);
    }
  }
}
