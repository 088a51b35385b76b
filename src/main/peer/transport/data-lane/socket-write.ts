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
