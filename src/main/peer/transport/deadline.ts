import { LanspreadError } from '../../../shared/errors';

/**
 * Races `work` against a timeout and an optional abort signal. The work itself is not stopped
 * (QUIC streams must finish gracefully); the caller just stops waiting for it.
 */
export async function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LanspreadError('REQUEST_TIMEOUT', `${what} timed out after ${timeoutMs} ms`)), timeoutMs);
    if (signal) {
      onAbort = () => reject(new LanspreadError('REQUEST_CANCELLED', `${what} was cancelled`));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  // If the deadline wins, a later failure of the abandoned work must not go unhandled.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
