import type { OnReadOpts } from 'node:net';
import { connect } from 'node:tls';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { LanspreadError, toLanspreadError } from '../../../../shared/errors';
import type { PeerId } from '../../../../shared/model';
import type { RateLimiter } from '../../bandwidth/rate-limiter';
import type { PeerIdentity } from '../../identity/identity';
import { decodeFrameBody, encodeFrame, FRAME_HEADER_BYTES } from '../../protocol/codec';
import type { Request } from '../../protocol/messages';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../../protocol/messages';
import { parseResponse } from '../../protocol/validate';
import { InputQueue } from './input-queue';
import { laneClientOptions, remoteFingerprint } from './lane-tls';

/** Larger than a TLS record (16 KiB), so each record arrives in one piece. */
const READ_BUFFER_BYTES = 64 * 1024;
/** A request cancelled mid-payload with at most this much still to come is read to its end and dropped, keeping the connection. */
const MAX_SKIPPED_PAYLOAD_BYTES = 1024 * 1024;

export interface LaneTarget {
  host: string;
  dataPort: number;
  peerId: PeerId;
}

export type ChunkRequest = Omit<Extract<Request, { type: 'GetChunk' }>, 'type'>;
/**
 * Takes one piece of a chunk's payload. The piece is a view of the connection's read buffer,
 * valid only during the call: a sink copies what it keeps (a returned promise only delays the
 * next piece).
 */
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
 * in request order, so a FIFO pairs them up.
 *
 * Reading is push-based: each decrypted piece (a TLS record, at most 16 KiB) is parsed and
 * handed to the request's sink synchronously as it arrives. Only when a sink (or the download
 * cap) returns a promise is the socket paused until it settles. An async iterator with a timer
 * per read cost a promise chain and a timer per record, 65,536 of each per GiB, on the thread
 * that also decrypts; that thread bounds a download's speed.
 *
 * Records are decrypted into one read buffer per connection (the socket's `onread` option),
 * not into a fresh Buffer each. A loopback GiB then cost the receiving thread 0.40 s of CPU
 * instead of 0.72 s (a micro-benchmark of both ways in one run), and the 65,536
 * short-lived buffers per GiB no longer drive V8 into back-to-back major GCs, which perf
 * showed taking a sixth of a download's CPU in some runs.
 */
export class LaneConnection {
  private readonly socket: TLSSocket;
  /** Where the socket decrypts each record; reused, so nothing of it may be kept past onData. */
  private readonly readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  private readonly options: LaneConnectionOptions;
  private readonly queue: InFlight[] = [];
  private readonly input = new InputQueue();
  /** Payload bytes of the head request still to come; null while a frame is expected. */
  private payloadLeft: number | null = null;
  /** A sink or the download cap holds reading back: the socket is paused until it settles. */
  private holding = false;
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
    const onread: OnReadOpts = { buffer: this.readBuffer, callback: (bytes) => this.onData(this.readBuffer.subarray(0, bytes)) };
    const socket = connect({ ...laneClientOptions(target, options.identity), onread } as ConnectionOptions & { onread: OnReadOpts });
    this.socket = socket;
    const where = `${target.host}:${target.dataPort}`;
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
      this.updateTimeout();
    });
    // Silence while a request is outstanding (and we are not holding reading back ourselves).
    socket.on('timeout', () => {
      if (this.queue.length > 0 && !this.holding) this.destroy(new LanspreadError('REQUEST_TIMEOUT', `No data from peer for ${options.requestTimeoutMs} ms`));
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
      if (this.queue.length === 1) this.updateTimeout();
    });
  }

  destroy(reason: LanspreadError): void {
    this.failure ??= reason;
    this.socket.destroy();
  }

  private cancel(entry: InFlight): void {
    if (entry.settled) return;
    if (entry.streaming && (this.holding || (this.payloadLeft ?? 0) > MAX_SKIPPED_PAYLOAD_BYTES)) {
      // Mid-payload with much left: where the next frame starts is only known by reading the
      // rest; dropping the connection is cheaper (and fails the requests behind it). So when
      // reading waits on its sink, which may never settle once its request is gone.
      entry.reject(cancelled());
      this.destroy(new LanspreadError('PEER_GONE', 'Data lane connection dropped because a request on it was cancelled'));
      return;
    }
    // Queued, or the rest of its payload is short: answer the caller now; the read loop skips
    // what is left of its response, and the requests behind it on this connection go on (an
    // endgame copy that won must not cost the other source its connection).
    entry.sink = () => undefined;
    entry.reject(cancelled());
  }

  /** `piece` lives in the read buffer, which the next record overwrites. Always true: pausing is explicit. */
  private onData(piece: Uint8Array): boolean {
    if (this.failure) return true;
    this.input.push(piece);
    if (!this.holding) this.consume();
    // Left over: a frame header split across records, or what arrived while a sink holds us.
    this.input.detachFrom(this.readBuffer.buffer);
    return true;
  }

  /** Parses buffered input until it runs out, or a sink asks to wait (then resumes by itself). */
  private consume(): void {
    try {
      while (this.input.length > 0 && !this.failure) {
        if (this.payloadLeft === null) {
          if (!this.readHeader()) return;
          continue;
        }
        const wait = this.readPayloadPiece();
        if (wait) {
          this.holdUntil(wait);
          return;
        }
      }
    } catch (error) {
      this.fail(this.lossReason(error));
    }
  }

  /** Handles the next response frame once it is complete; false while more bytes are needed. */
  private readHeader(): boolean {
    const length = this.input.peekUint32();
    if (length === null) return false;
    if (length > MAX_RESPONSE_BYTES) throw new LanspreadError('FRAME_TOO_LARGE', `Frame of ${length} bytes exceeds limit of ${MAX_RESPONSE_BYTES}`);
    if (this.input.length < FRAME_HEADER_BYTES + length) return false;
    const raw = this.input.take(FRAME_HEADER_BYTES + length).subarray(FRAME_HEADER_BYTES);
    const response = parseResponse(decodeFrameBody(raw));
    const entry = this.queue[0];
    if (!entry) throw new LanspreadError('STREAM_PROTOCOL_VIOLATION', `Unsolicited ${response.type} frame`);
    if (response.type === 'Error') {
      if (!entry.settled) entry.reject(new LanspreadError(response.code, response.message));
      this.finishHead();
      return true;
    }
    // The peer is busy and our request waits for an upload slot there: alive, nothing to do.
    if (response.type === 'Queued') return true;
    if (response.type !== 'ChunkHeader' || response.length !== entry.request.length) {
      throw new LanspreadError('STREAM_PROTOCOL_VIOLATION', `Expected a ChunkHeader of ${entry.request.length} bytes, got ${JSON.stringify(response).slice(0, 200)}`);
    }
    entry.streaming = true;
    this.payloadLeft = response.length;
    if (response.length === 0) this.completeHead(entry);
    return true;
  }

  /** Hands one piece of payload on; a promise when reading must wait for it. */
  private readPayloadPiece(): Promise<void> | undefined {
    const entry = this.queue[0] as InFlight;
    const piece = this.input.takeUpTo(this.payloadLeft as number);
    this.payloadLeft = (this.payloadLeft as number) - piece.byteLength;
    const last = this.payloadLeft === 0;
    const limiter = this.options.downloadLimiter;
    let delivered: Promise<void> | undefined;
    if (limiter && !limiter.tryTake(piece.byteLength)) {
      // Delivered later, so the piece must first leave the read buffer (a copy, not Buffer's slice view).
      const kept = new Uint8Array(piece);
      delivered = limiter.take(kept.byteLength).then(() => this.deliver(entry, kept));
    } else {
      delivered = this.deliver(entry, piece);
    }
    if (!last) return delivered;
    if (!delivered) {
      this.completeHead(entry);
      return undefined;
    }
    // The connection may have failed while waiting: fail() already settled everything queued.
    return delivered.then(() => {
      if (!this.failure) this.completeHead(entry);
    });
  }

  private deliver(entry: InFlight, piece: Uint8Array): Promise<void> | undefined {
    if (entry.settled) return undefined;
    let result: void | Promise<void>;
    try {
      result = entry.sink(piece);
    } catch (error) {
      throw this.sinkFailed(entry, error);
    }
    return result ? result.catch((error: unknown) => Promise.reject(this.sinkFailed(entry, error))) : undefined;
  }

  /**
   * A failing sink (disk full, ...) is that request's error alone, but the rest of its payload
   * is still on the wire: the connection cannot be reused.
   */
  private sinkFailed(entry: InFlight, error: unknown): LanspreadError {
    const cause = error ?? new Error('sink failed');
    if (!entry.settled) entry.reject(toLanspreadError(cause));
    return new LanspreadError('PEER_GONE', 'Data lane connection dropped after a chunk sink failed', { cause });
  }

  private completeHead(entry: InFlight): void {
    entry.streaming = false;
    if (!entry.settled) entry.resolve();
    this.finishHead();
  }

  private finishHead(): void {
    this.queue.shift();
    this.payloadLeft = null;
    this.updateTimeout();
    for (const listener of this.slotListeners) listener();
  }

  private holdUntil(wait: Promise<void>): void {
    this.holding = true;
    this.socket.pause();
    this.updateTimeout();
    wait.then(
      () => {
        this.holding = false;
        if (this.failure) return;
        this.socket.resume();
        this.updateTimeout();
        this.consume();
      },
      (error: unknown) => {
        this.holding = false;
        this.fail(this.lossReason(error));
      },
    );
  }

  /** The peer's silence only counts while a request waits on it and we are not holding back. */
  private updateTimeout(): void {
    if (this.closed || !this.verified) return;
    this.socket.setTimeout(this.queue.length > 0 && !this.holding ? this.options.requestTimeoutMs : 0);
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
    this.input.clear();
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
