import type { RateLimiter } from './rate-limiter';

/**
 * Passes an upload payload through `limiter`. Pulled lazily, so while tokens are short the
 * source (a file read stream) is simply not read: nothing piles up in memory. Stopping early
 * (the consumer's return()) closes the source through for-await.
 */
export async function* throttle(source: AsyncIterable<Uint8Array>, limiter: RateLimiter, signal?: AbortSignal): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const piece of source) {
    await limiter.take(piece.byteLength, signal);
    yield piece;
  }
}

/** The shape `RequestHandlerDeps.throttleUpload` expects, bound to the runtime's upload limiter. */
export function uploadThrottle(limiter: RateLimiter): (payload: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array> {
  return (payload) => throttle(payload, limiter);
}
