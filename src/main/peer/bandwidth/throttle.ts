import type { RateLimiter } from './rate-limiter';

/**
 * Passes an upload payload through `limiter`, and tells `passed` of each piece as it goes out.
 * Pulled lazily, so while tokens are short the source (a file read) is simply not read:
 * nothing piles up in memory. Stopping early (the consumer's return()) closes the source
 * through for-await. A piece with tokens to spare (always, when no cap is set) passes without
 * waiting on a promise.
 */
export async function* throttle(source: AsyncIterable<Uint8Array>, limiter: RateLimiter, passed?: (bytes: number) => void): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const piece of source) {
    if (!limiter.tryTake(piece.byteLength)) await limiter.take(piece.byteLength);
    passed?.(piece.byteLength);
    yield piece;
  }
}
