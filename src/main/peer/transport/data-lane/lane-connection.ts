import { connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { LanspreadError, toLanspreadError } from '../../../../shared/errors';
import type { PeerId } from '../../../../shared/model';
import type { RateLimiter } from '../../bandwidth/rate-limiter';
import type { PeerIdentity } from '../../identity/identity';
import { ByteReader, encodeFrame } from '../../protocol/codec';
import type { Request } from '../../protocol/messages';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../../protocol/messages';
import { parseResponse } from '../../protocol/validate';
import { laneClientOptions, remoteFingerprint } from './lane-tls';

export interface LaneTarget {
  host: string;
  dataPort: number;
  peerId: PeerId;
}

export type ChunkRequest = Omit<Extract<Request, { type: 'GetChunk' }>, 'type'>;
export type PieceSink = (piece: Uint8Array) => void | Promise<void>;

export interface LaneConnectionOptions {
  identity: PeerIdentity;
  connectTimeoutMs: number;
  /** Longest wait for the next bytes from the peer while a request is outstanding. */
  requestTimeoutMs: number;
  downloadLimiter?: RateLimiter;
}

interface InFlight {
  request: ChunkRequest;
  sink: PieceSink;
  resolve: () => void;
  reject: (error: LanspreadError) => void;
  /** Settled early (cancelled while still queued): its payload is read and thrown away. */
  settled: boolean;
  /** Its payload is being handed to the sink right now. */
  streaming: boolean;
}

/**
 * One pinned TLS connection to one peer with pipelined GetChunk requests. Responses come back
 * in request order, so a FIFO pairs them up. A single read loop runs while anything is
 * outstanding and hands payload pieces straight to each request's sink.
 */
export class LaneConnection {
  private readonly socket: TLSSocket;
  private readonly reader: ByteReader;
  private readonly options: LaneConnectionOptions;
  private readonly queue: InFlight[] = [];
  private reading = false;
  /** Why we tore the connection down ourselves; otherwise a loss is PEER_GONE. */
  private failure: LanspreadError | null = null;
  private closed = false;
  private verified = false;
  private readonly connectTimer: NodeJS.Timeout;
  /** Request frames written only once the peer proved who it is. */
  private readonly held: Uint8Array[] = [];
  private readonly closeListeners: Array<() => void> = [];
  private readonly slotListeners: Array<() => void> = [];

  /**
   * Starts connecting at once and accepts requests right away; they are held back (not even
   * buffered in the TLS socket) until the server's fingerprint matched `target.peerId`. A
   * connect failure fails them with PEER_UNREACHABLE, someone else answering with
   * PEER_FINGERPRINT_MISMATCH.
   */
  constructor(target: LaneTarget, options: LaneConnectionOptions) {
    this.options = options;
    const socket = connect(laneClientOptions(target, options.identity));
    this.socket = socket;
    const where = `${target.host}:${target.dataPort}`;
    const input = socket[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    this.reader = new ByteReader({ [Symbol.asyncIterator]: () => this.timedInput(input) });
    this.connectTimer = setTimeout(
      () => this.destroy(new LanspreadError('PEER_UNREACHABLE', `Data lane to ${where} not established within ${options.connectTimeoutMs} ms`)),
      options.connectTimeoutMs,
    );
    socket.on('error', (error) => {
      if (!this.verified) this.destroy(new LanspreadError('PEER_UNREACHABLE', `Data lane to ${where} failed: ${error.message}`, { cause: error }));
    });
    socket.once('secureConnect', () => {
      clearTimeout(this.connectTimer);
      const actual = remoteFingerprint(socket);
      if (actual !== target.peerId) {
        this.destroy(new LanspreadError('PEER_FINGERPRINT_MISMATCH', `Data lane peer at ${where} is ${actual ?? 'anonymous'}, expected ${target.peerId}`));
        return;
      }
      this.verified = true;
      socket.setNoDelay(true);
      for (const frame of this.held.splice(0)) socket.write(frame);
      if (this.queue.length > 0 && !this.reading) void this.readLoop();
    });
    socket.on('close', () => this.onClose());
  }

  get inFlight(): number {
    return this.queue.length;
  }

  get usable(): boolean {
    return !this.closed && this.failure === null && !this.socket.destroyed;
  }

  onClosed(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Called whenever a request finishes, so waiting callers can take the freed slot. */
  onSlotFreed(listener: () => void): void {
    this.slotListeners.push(listener);
  }

  fetch(request: ChunkRequest, sink: PieceSink, signal?: AbortSignal): Promise<void> {
    if (!this.usable) return Promise.reject(this.failure ?? gone());
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise<void>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const entry: InFlight = {
        request,
        sink,
        settled: false,
        streaming: false,
        resolve: () => {
          entry.settled = true;
          if (onAbort) signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          entry.settled = true;
          if (onAbort) signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      if (signal) {
        onAbort = () => this.cancel(entry);
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.queue.push(entry);
      const frame = encodeFrame({ type: 'GetChunk', ...request }, MAX_REQUEST_BYTES);
      if (!this.verified) {
        this.held.push(frame);
        return;
      }
      this.socket.write(frame);
      if (!this.reading) void this.readLoop();
    });
  }

  destroy(reason: LanspreadError): void {
    this.failure ??= reason;
    this.socket.destroy();
  }

  private cancel(entry: InFlight): void {
    if (entry.settled) return;
    if (entry.streaming) {
      // Mid-payload: where the next frame starts is only known by reading the rest, which may
      // be megabytes; dropping the connection is cheaper and leaves no doubt.
      entry.reject(cancelled());
      this.destroy(new LanspreadError('PEER_GONE', 'Data lane connection dropped because a request on it was cancelled'));
      return;
    }
    // Still queued: answer the caller now; the read loop later skips its response.
    entry.sink = () => undefined;
    entry.reject(cancelled());
  }

  private async readLoop(): Promise<void> {
    this.reading = true;
    try {
      while (this.queue.length > 0) {
        const entry = this.queue[0] as InFlight;
        await this.readOne(entry);
        this.queue.shift();
        for (const listener of this.slotListeners) listener();
      }
    } catch (error) {
      this.fail(this.lossReason(error));
    } finally {
      this.reading = false;
    }
  }

  private async readOne(entry: InFlight): Promise<void> {
    const raw = await this.reader.readFrame(MAX_RESPONSE_BYTES);
    if (raw === null) throw gone();
    const response = parseResponse(raw);
    if (response.type === 'Error') {
      if (!entry.settled) entry.reject(new LanspreadError(response.code, response.message));
      return;
    }
    if (response.type !== 'ChunkHeader' || response.length !== entry.request.length) {
      throw new LanspreadError('STREAM_PROTOCOL_VIOLATION', `Expected a ChunkHeader of ${entry.request.length} bytes, got ${JSON.stringify(response).slice(0, 200)}`);
    }
    entry.streaming = true;
    const limiter = this.options.downloadLimiter;
    let sinkError: unknown;
    try {
      await this.reader.pipeExact(response.length, async (piece) => {
        if (limiter) await limiter.take(piece.byteLength);
        if (entry.settled) return;
        try {
          await entry.sink(piece);
        } catch (error) {
          sinkError = error ?? new Error('sink failed');
          throw error;
        }
      });
    } catch (error) {
      if (sinkError === undefined) throw error;
      // A failing sink (disk full, ...) is that request's error alone, but the rest of its
      // payload is still on the wire: the connection cannot be reused.
      entry.reject(toLanspreadError(sinkError));
      throw new LanspreadError('PEER_GONE', 'Data lane connection dropped after a chunk sink failed', { cause: sinkError });
    }
    entry.streaming = false;
    if (!entry.settled) entry.resolve();
  }

  /** Reading from the socket is the one place a stalled peer shows: each wait is bounded. */
  private timedInput(input: AsyncIterator<Uint8Array>): AsyncIterator<Uint8Array> {
    return {
      next: () => {
        const timer = setTimeout(
          () => this.destroy(new LanspreadError('REQUEST_TIMEOUT', `No data from peer for ${this.options.requestTimeoutMs} ms`)),
          this.options.requestTimeoutMs,
        );
        return input.next().finally(() => clearTimeout(timer));
      },
      return: () => input.return?.() ?? Promise.resolve({ done: true, value: undefined }),
    };
  }

  private lossReason(error: unknown): LanspreadError {
    if (this.failure) return this.failure;
    const lost = this.socket.destroyed || this.socket.readableEnded;
    if (!lost && error instanceof LanspreadError) return error;
    return gone(error);
  }

  private fail(reason: LanspreadError): void {
    this.failure ??= reason;
    this.socket.destroy();
    const pending = this.queue.splice(0);
    for (const entry of pending) if (!entry.settled) entry.reject(reason);
    for (const listener of this.slotListeners) listener();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    this.held.length = 0;
    this.fail(this.failure ?? gone());
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

function gone(cause?: unknown): LanspreadError {
  return new LanspreadError('PEER_GONE', 'Data lane connection to the peer was lost', cause === undefined ? undefined : { cause });
}

function cancelled(): LanspreadError {
  return new LanspreadError('REQUEST_CANCELLED', 'Chunk request was cancelled');
}
