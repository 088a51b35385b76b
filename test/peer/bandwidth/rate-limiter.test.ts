import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import { BandwidthLimits } from '../../../src/main/peer/bandwidth/bandwidth-limits';
import { RateLimiter } from '../../../src/main/peer/bandwidth/rate-limiter';
import { throttle } from '../../../src/main/peer/bandwidth/throttle';

const MiB = 1024 * 1024;

const run = promisify(execFile);

/** True if `promise` settles before a few event-loop turns pass (no timer involved). */
async function settlesAtOnce(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

async function* pieces(total: number, size: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += size) yield new Uint8Array(Math.min(size, total - sent));
}

describe('RateLimiter', () => {
  it('holds a set rate: 1 MiB at 2 MiB/s takes at least 0.35 s', async () => {
    const limiter = new RateLimiter({ bytesPerSec: 2 * MiB });
    const started = performance.now();
    for (let i = 0; i < 16; i++) await limiter.take(64 * 1024);
    expect(performance.now() - started).toBeGreaterThanOrEqual(350);
    expect(limiter.waiting).toBe(0);
  });

  it('lets everything through at once when unlimited (0)', async () => {
    const limiter = new RateLimiter({ bytesPerSec: 0 });
    for (let i = 0; i < 100; i++) expect(await settlesAtOnce(limiter.take(64 * MiB))).toBe(true);
  });

  it('applies setRate live to takers already waiting', async () => {
    const limiter = new RateLimiter({ bytesPerSec: 1000 });
    await limiter.take(100); // spend the burst
    const slow = limiter.take(10 * MiB); // ~3 hours at 1000 B/s
    await sleep(20);
    expect(limiter.waiting).toBe(1);
    limiter.setRate(0);
    await slow;
    expect(limiter.waiting).toBe(0);

    limiter.setRate(1000);
    await limiter.take(100);
    const next = limiter.take(5 * MiB);
    limiter.setRate(1000 * MiB);
    await next; // resolves within a few ms of the new rate instead of hours
  });

  it('shares the rate fairly between concurrent takers', async () => {
    const limiter = new RateLimiter({ bytesPerSec: 4 * MiB });
    const got = [0, 0, 0];
    let running = true;
    const takers = got.map(async (_, index) => {
      while (running) {
        await limiter.take(16 * 1024);
        got[index] = (got[index] ?? 0) + 16 * 1024;
      }
    });
    await sleep(600);
    running = false;
    await Promise.all(takers);
    const most = Math.max(...got);
    const least = Math.min(...got);
    expect(least).toBeGreaterThan(0);
    // Strict first-come-first-served: nobody gets more than one piece ahead.
    expect(most - least).toBeLessThanOrEqual(16 * 1024);
  });

  it('rejects an aborted taker with REQUEST_CANCELLED and serves the next one', async () => {
    const limiter = new RateLimiter({ bytesPerSec: 1000 });
    await limiter.take(100);
    const controller = new AbortController();
    const doomed = limiter.take(MiB, controller.signal);
    const after = limiter.take(10);
    controller.abort();
    await expect(doomed).rejects.toSatisfy((error: unknown) => error instanceof LanspreadError && error.code === 'REQUEST_CANCELLED');
    await after;
    await expect(limiter.take(1, AbortSignal.abort())).rejects.toBeInstanceOf(LanspreadError);
    expect(limiter.waiting).toBe(0);
  });

  it('keeps no timer while idle, so a process using it can exit', async () => {
    // The real property: a process whose limiter went idle ends by itself.
    const script = `
      import { RateLimiter } from ${JSON.stringify(new URL('../../../src/main/peer/bandwidth/rate-limiter.ts', import.meta.url).href)};
      const limiter = new RateLimiter({ bytesPerSec: 1024 * 1024 });
      await Promise.all([limiter.take(200000), limiter.take(200000), limiter.take(200000)]);
      console.log('waiting=' + limiter.waiting);
    `;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 });
    expect(stdout.trim()).toBe('waiting=0');
  });

  it('tryTake passes at once while the bucket holds enough, and never jumps the queue', async () => {
    let now = 0;
    const limiter = new RateLimiter({ bytesPerSec: MiB, burstMs: 100, now: () => now });
    expect(limiter.tryTake(0)).toBe(true);
    // The bucket starts full: 100 ms at 1 MiB/s.
    expect(limiter.tryTake(MiB / 10)).toBe(true);
    expect(limiter.tryTake(1)).toBe(false);
    const waiting = limiter.take(MiB / 20);
    expect(limiter.waiting).toBe(1);
    now += 1000;
    // Tokens are back, but a taker waits ahead: tryTake must not overtake it.
    expect(limiter.tryTake(1)).toBe(false);
    await waiting;
    expect(limiter.tryTake(1)).toBe(true);
    limiter.setRate(0);
    expect(limiter.tryTake(10 * MiB)).toBe(true);
  });

  it('refuses a negative or non-finite rate with a coded error', () => {
    expect(() => new RateLimiter({ bytesPerSec: -1 })).toThrow(LanspreadError);
    expect(() => new RateLimiter({ bytesPerSec: 0 }).setRate(Number.NaN)).toThrow(LanspreadError);
  });
});

describe('throttle and BandwidthLimits', () => {
  it('throttles an upload payload without altering it', async () => {
    const limits = new BandwidthLimits({ downloadBytesPerSec: 0, uploadBytesPerSec: 2 * MiB });
    const started = performance.now();
    let total = 0;
    for await (const piece of throttle(pieces(MiB, 256 * 1024), limits.upload)) total += piece.byteLength;
    expect(total).toBe(MiB);
    expect(performance.now() - started).toBeGreaterThanOrEqual(350);

    limits.apply({ uploadBytesPerSec: 0 });
    expect(limits.upload.bytesPerSec).toBe(0);
    expect(limits.download.bytesPerSec).toBe(0);
  });
});
