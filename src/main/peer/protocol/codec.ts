import { LanspreadError } from '../../../shared/errors';

/**
 * Wire framing: every message is a 4-byte big-endian length followed by that many bytes of
 * UTF-8 JSON. Raw payload bytes (file chunks) may follow a header frame on the same stream.
 * Limits are checked on the length prefix, before anything is buffered.
 */

export const FRAME_HEADER_BYTES = 4;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeFrame(message: unknown, maxBytes: number): Uint8Array {
  const body = encoder.encode(JSON.stringify(message));
  if (body.byteLength > maxBytes) {
    throw new LanspreadError('FRAME_TOO_LARGE', `Frame of ${body.byteLength} bytes exceeds limit of ${maxBytes}`);
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength);
  new DataView(frame.buffer).setUint32(0, body.byteLength, false);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

export function decodeFrameBody(body: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(body));
  } catch (error) {
    throw new LanspreadError('MALFORMED_MESSAGE', 'Frame is not valid UTF-8 JSON', { cause: error });
  }
}

/**
 * Pulls exact byte counts out of any async byte source (a QUIC stream's ReadableStream, a TLS
 * socket). Keeps at most one partially consumed source chunk buffered.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** True once the source has ended and nothing is buffered. */
  get exhausted(): boolean {
    return this.ended && this.pending.byteLength === 0;
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = next.value instanceof Uint8Array ? next.value : new Uint8Array(next.value as ArrayBuffer);
    this.pending = this.pending.byteLength === 0 ? chunk : concat(this.pending, chunk);
    return true;
  }

  /** Reads exactly `length` bytes; throws MALFORMED_MESSAGE if the source ends first. */
  async readExact(length: number): Promise<Uint8Array> {
    while (this.pending.byteLength < length) {
      if (!(await this.fill())) {
        throw new LanspreadError('MALFORMED_MESSAGE', `Stream ended after ${this.pending.byteLength} of ${length} bytes`);
      }
    }
    const out = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    return out;
  }

  /**
   * Hands the next `length` bytes to `sink` piece by piece, without gathering them into one
   * buffer (chunk payloads go straight to disk or a hasher).
   */
  async pipeExact(length: number, sink: (piece: Uint8Array) => void | Promise<void>): Promise<void> {
    let remaining = length;
    while (remaining > 0) {
      if (this.pending.byteLength === 0 && !(await this.fill())) {
        throw new LanspreadError('MALFORMED_MESSAGE', `Stream ended with ${remaining} of ${length} bytes missing`);
      }
      const take = Math.min(remaining, this.pending.byteLength);
      const piece = this.pending.subarray(0, take);
      this.pending = this.pending.subarray(take);
      remaining -= take;
      await sink(piece);
    }
  }

  /**
   * Next JSON frame, or null on a clean end of stream between frames. `onStarted` runs once the
   * frame's first byte is here (a server's deadline for the whole frame starts then, not while
   * the connection merely idles between requests).
   */
  async readFrame(maxBytes: number, onStarted?: () => void): Promise<unknown> {
    if (this.pending.byteLength === 0 && !(await this.fill())) return null;
    onStarted?.();
    const header = await this.readExact(FRAME_HEADER_BYTES);
    const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
    if (length > maxBytes) {
      throw new LanspreadError('FRAME_TOO_LARGE', `Frame of ${length} bytes exceeds limit of ${maxBytes}`);
    }
    return decodeFrameBody(await this.readExact(length));
  }

  /** Stops the source (cancels a web stream, destroys a socket iterator). */
  async cancel(): Promise<void> {
    this.ended = true;
    this.pending = new Uint8Array(0);
    await this.iterator.return?.();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
