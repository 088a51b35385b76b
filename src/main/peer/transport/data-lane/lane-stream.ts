import { connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { LanspreadError } from '../../../../shared/errors';
import type { RateLimiter } from '../../bandwidth/rate-limiter';
import type { PeerIdentity } from '../../identity/identity';
import { ByteReader, encodeFrame } from '../../protocol/codec';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../../protocol/messages';
import type { StreamInstallFrame } from '../../protocol/stream-install';
import { parseStreamInstallFrame } from '../../protocol/validate';
import type { LaneTarget } from './lane-connection';
import { laneClientOptions, remoteFingerprint } from './lane-tls';
import { ProgressDeadline } from './progress-deadline';

/** What the receiver is told, in wire order. Returning a promise holds the next read back. */
export interface StreamVisitor {
  /** Every frame except Data and Error (those become data() calls and a rejection). */
  frame(frame: Exclude<StreamInstallFrame, { type: 'Data' | 'Error' }>): void | Promise<void>;
  /** Content of the current entry, piece by piece as it arrives. */
  data(piece: Uint8Array): void | Promise<void>;
}

export interface ReceiveStreamOptions {
  identity: PeerIdentity;
  connectTimeoutMs: number;
  /** Longest silence from the sender once the stream started (time spent waiting on it). */
  idleTimeoutMs: number;
  /**
   * Bytes that must arrive within every `idleTimeoutMs` of waiting; fewer fail the stream with
   * REQUEST_TIMEOUT. A sender dripping a byte now and then would otherwise hold the install
   * forever, since each byte ends a silence. 0 (the default): only silence fails it.
   */
  minBytesPerWindow?: number;
  downloadLimiter?: RateLimiter;
  signal?: AbortSignal;
}

/**
 * Asks `target` for a streamed install of `gameId` at `version` on a fresh pinned data-lane
 * connection and feeds the answer to `visitor` until the End frame, after which it resolves.
 * Rejects with the sender's Error code, PEER_UNREACHABLE, PEER_FINGERPRINT_MISMATCH, PEER_GONE
 * (the sender vanished mid-stream), REQUEST_TIMEOUT, REQUEST_CANCELLED, or whatever the visitor
 * threw. The connection is always closed on return.
 */
export async function receiveStreamInstall(target: LaneTarget, gameId: string, version: string, visitor: StreamVisitor, options: ReceiveStreamOptions): Promise<void> {
  const socket = await connectPinned(target, options);
  let failure: LanspreadError | null = null;
  const fail = (error: LanspreadError) => {
    failure ??= error;
    socket.destroy();
  };
  const onAbort = () => fail(new LanspreadError('REQUEST_CANCELLED', 'Streamed install cancelled'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const windowMs = options.idleTimeoutMs;
  const minBytes = options.minBytesPerWindow ?? 0;
  const deadline = new ProgressDeadline(windowMs, minBytes, (got) =>
    fail(
      new LanspreadError(
        'REQUEST_TIMEOUT',
        got === 0 ? `No data from the sender for ${windowMs} ms` : `The sender sent ${got} bytes in ${windowMs} ms, less than the ${minBytes} it must (a trickle)`,
      ),
    ),
  );
  const input = socket[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  const timedInput: AsyncIterator<Uint8Array> = {
    next: () => {
      deadline.waiting();
      return input.next().then(
        (result) => {
          deadline.arrived(result.done ? 0 : result.value.byteLength);
          return result;
        },
        (error: unknown) => {
          deadline.stop();
          throw error;
        },
      );
    },
    return: () => input.return?.() ?? Promise.resolve({ done: true, value: undefined }),
  };
  const reader = new ByteReader({ [Symbol.asyncIterator]: () => timedInput });
  try {
    if (options.signal?.aborted) onAbort();
    socket.write(encodeFrame({ type: 'StreamInstall', gameId, version }, MAX_REQUEST_BYTES));
    for (;;) {
      const raw = await reader.readFrame(MAX_RESPONSE_BYTES);
      if (raw === null) throw new LanspreadError('PEER_GONE', 'The sender closed the stream before its end');
      const frame = parseStreamInstallFrame(raw);
      if (frame.type === 'Error') throw new LanspreadError(frame.code, `Sender: ${frame.message}`);
      if (frame.type === 'Data') {
        const limiter = options.downloadLimiter;
        await reader.pipeExact(frame.length, async (piece) => {
          if (limiter) await limiter.take(piece.byteLength, options.signal);
          await visitor.data(piece);
        });
        continue;
      }
      await visitor.frame(frame);
      if (frame.type === 'End') return;
    }
  } catch (error) {
    // A socket we tore down ourselves explains itself; a lost one is the sender vanishing.
    if (failure) throw failure;
    if (error instanceof LanspreadError && error.code !== 'MALFORMED_MESSAGE') throw error;
    if (socket.destroyed || socket.readableEnded) throw new LanspreadError('PEER_GONE', 'The sender vanished mid-stream', { cause: error });
    throw error;
  } finally {
    deadline.stop();
    options.signal?.removeEventListener('abort', onAbort);
    socket.destroy();
  }
}

/** Opens a data-lane connection to `target` and resolves once its certificate proved it is `target.peerId`. */
export function connectPinned(target: LaneTarget, options: { identity: PeerIdentity; connectTimeoutMs: number; signal?: AbortSignal }): Promise<TLSSocket> {
  const where = `${target.host}:${target.dataPort}`;
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = connect(laneClientOptions(target, options.identity));
    const timer = setTimeout(() => done(new LanspreadError('PEER_UNREACHABLE', `Data lane to ${where} not established within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
    const onError = (error: Error) => done(new LanspreadError('PEER_UNREACHABLE', `Data lane to ${where} failed: ${error.message}`, { cause: error }));
    const onAbort = () => done(new LanspreadError('REQUEST_CANCELLED', 'Connecting was cancelled'));
    const done = (error: LanspreadError | null) => {
      clearTimeout(timer);
      socket.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve(socket);
      }
    };
    socket.on('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      const actual = remoteFingerprint(socket);
      if (actual !== target.peerId) {
        done(new LanspreadError('PEER_FINGERPRINT_MISMATCH', `Data lane peer at ${where} is ${actual ?? 'anonymous'}, expected ${target.peerId}`));
        return;
      }
      socket.setNoDelay(true);
      // Errors after this point surface through the read loop as a lost connection.
      socket.on('error', () => undefined);
      done(null);
    });
  });
}
