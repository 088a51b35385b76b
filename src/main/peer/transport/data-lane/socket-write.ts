import type { Socket } from 'node:net';
import { LanspreadError } from '../../../../shared/errors';

/**
 * Writes one piece and, when the socket's buffer is full, waits for 'drain' before returning, so
 * a sender never queues more than about one high-water mark of payload in memory. Rejects if
 * the socket closes while waiting.
 */
export function writeWithBackpressure(socket: Socket, piece: Uint8Array): Promise<void> {
  if (socket.destroyed) return Promise.reject(closed());
  if (socket.write(piece)) return Promise.resolve();
  return drained(socket);
}

/** Resolves at the socket's next 'drain'; rejects if it closes first. */
function drained(socket: Socket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(closed());
    };
    const cleanup = () => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
    };
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}

function closed(): LanspreadError {
  return new LanspreadError('PEER_GONE', 'Connection closed while sending');
}

/**
 * Writes one piece and resolves once the socket is done with it (its write callback ran, so the
 * bytes were handed to the kernel), which lets the caller reuse the buffer. This is also the
 * backpressure: at most one piece is queued in user space.
 */
export function writeAndRelease(socket: Socket, piece: Uint8Array): Promise<void> {
  if (socket.destroyed) return Promise.reject(closed());
  return new Promise<void>((resolve, reject) => {
    // On destroy, Node calls pending write callbacks with an error: no waiter is left behind.
    socket.write(piece, (error) => (error ? reject(closed()) : resolve()));
  });
}

/**
 * writeWithin for a frame: the stall timer is set only when the frame filled the socket's
 * buffer (a chunk's header nearly never does, and a timer per chunk is a cost in a crowd).
 */
export async function writeFrameWithin(socket: Socket, ms: number, frame: Uint8Array): Promise<void> {
  if (socket.destroyed) throw closed();
  if (socket.write(frame)) return;
  await writeWithin(socket, ms, drained(socket));
}

/** What a write must take at least, in bytes per second, once its floor has passed (a download cap far below it is not a LAN). */
export const MIN_WRITE_RATE = 32 * 1024;

/**
 * A write the peer must take within `ms`, or within the time `bytes` take at `minRate` when that
 * is longer: one that does not read (or reads a byte now and then) would otherwise hold an
 * upload slot, a streamed-install slot and the buffers behind them for as long as it likes,
 * while a downloader behind a low download cap still gets its piece. `contended` (asked every
 * `ms` while the write waits) cuts the longer allowance short: a slot others wait for is not
 * held past `ms`. Past the deadline the connection is dropped and the write rejects.
 */
export async function writeWithin(socket: Socket, ms: number, write: Promise<void>, bytes = 0, minRate = MIN_WRITE_RATE, contended: () => boolean = () => false): Promise<void> {
  const allowed = Math.max(ms, (bytes * 1000) / minRate);
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    const check = () => {
      const waited = Date.now() - startedAt;
      if (waited < allowed && !contended()) {
        timer = setTimeout(check, Math.min(ms, allowed - waited));
        return;
      }
      socket.destroy();
      reject(new LanspreadError('REQUEST_TIMEOUT', `The peer took nothing of a write for ${waited} ms`));
    };
    timer = setTimeout(check, ms);
  });
  try {
    await Promise.race([write, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
