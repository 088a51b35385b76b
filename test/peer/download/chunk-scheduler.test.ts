import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ChunkFetcher } from '../../../src/main/peer/download/chunk-scheduler';
import { ChunkScheduler, LocalFailure } from '../../../src/main/peer/download/chunk-scheduler';
import type { ChunkSource, PlannedChunk } from '../../../src/main/peer/download/types';
import { MAX_RETRY_COUNT } from '../../../src/main/peer/download/types';
import { LanspreadError } from '../../../src/shared/errors';

function chunks(count: number, length = 1000): PlannedChunk[] {
  return Array.from({ length: count }, (_, id) => ({ id, fileIndex: 0, chunkIndex: id, path: 'a.rar', offset: id * length, length, hash: '0'.repeat(64) }));
}

function source(peerId: string): ChunkSource {
  return { peerId, name: peerId, fetchChunk: () => Promise.reject(new Error('the test fetcher is used instead')) };
}

/** A fetcher whose behaviour depends on the source: a delay, or never answering until aborted. */
function fetcher(behaviour: Record<string, { delayMs?: number; hang?: boolean; error?: () => Error }>): ChunkFetcher {
  return async (src, chunk, signal, onBytes) => {
    const how = behaviour[src.peerId] ?? {};
    if (how.error) throw how.error();
    if (how.hang) {
      await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new LanspreadError('REQUEST_CANCELLED', 'aborted')), { once: true }));
    }
    await sleep(how.delayMs ?? 0);
    onBytes(chunk.length);
  };
}

describe('ChunkScheduler', () => {
  it('fails with the chunk’s last error once it exhausted MAX_RETRY_COUNT retries across sources', async () => {
    const ids = Array.from({ length: MAX_RETRY_COUNT + 3 }, (_, index) => `s${index}`);
    const tried: string[] = [];
    const scheduler = new ChunkScheduler({
      chunks: chunks(1),
      fetch: async (src) => {
        tried.push(src.peerId);
        throw new LanspreadError('CHUNK_CRC_MISMATCH', 'bad');
      },
    });
    for (const id of ids) scheduler.addSource(source(id));
    const error = await scheduler.run(new AbortController().signal).then(
      () => null,
      (caught: unknown) => caught as LanspreadError,
    );
    expect(error?.code).toBe('CHUNK_CRC_MISMATCH');
    expect(error?.message).toContain(`failed ${MAX_RETRY_COUNT + 1} times`);
    // Each retry went to a source that had not failed the chunk yet.
    expect(new Set(tried).size).toBe(tried.length);
    expect(tried).toHaveLength(MAX_RETRY_COUNT + 1);
  });

  it('drops a stalled source and finishes its chunks elsewhere', async () => {
    const scheduler = new ChunkScheduler({
      chunks: chunks(40),
      fetch: fetcher({ stuck: { hang: true }, ok: { delayMs: 1 } }),
      tuning: { stallTimeoutMs: 100, tickMs: 20 },
    });
    scheduler.addSource(source('stuck'));
    scheduler.addSource(source('ok'));
    await scheduler.run(new AbortController().signal);
    const stats = scheduler.stats();
    expect(stats.find((entry) => entry.peerId === 'stuck')).toMatchObject({ chunks: 0, dropped: { code: 'REQUEST_TIMEOUT' } });
    expect(stats.find((entry) => entry.peerId === 'ok')?.chunks).toBe(40);
  });

  it('drops a source far slower than the others while work is waiting', async () => {
    const scheduler = new ChunkScheduler({
      chunks: chunks(3000),
      fetch: fetcher({ fast: { delayMs: 1 }, slow: { delayMs: 400 } }),
      tuning: { slowRatio: 0.2, slowSustainMs: 150, tickMs: 25 },
    });
    scheduler.addSource(source('fast'));
    scheduler.addSource(source('slow'));
    await scheduler.run(new AbortController().signal);
    const slow = scheduler.stats().find((entry) => entry.peerId === 'slow');
    expect(slow?.dropped?.message).toContain('slower');
    expect(scheduler.stats().reduce((sum, entry) => sum + entry.chunks, 0)).toBe(3000);
  });

  it('waits for a source added within the grace period instead of failing', async () => {
    const scheduler = new ChunkScheduler({ chunks: chunks(10), fetch: fetcher({}), tuning: { noSourceGraceMs: 10_000 } });
    const run = scheduler.run(new AbortController().signal);
    setTimeout(() => scheduler.addSource(source('late')), 20);
    await run;
    expect(scheduler.stats()[0]?.chunks).toBe(10);
  });

  it('fails with NO_SOURCE when the last source goes and none comes back', async () => {
    const scheduler = new ChunkScheduler({ chunks: chunks(10), fetch: fetcher({ gone: { error: () => new LanspreadError('PEER_GONE', 'gone') } }) });
    scheduler.addSource(source('gone'));
    await expect(scheduler.run(new AbortController().signal)).rejects.toMatchObject({ code: 'NO_SOURCE' });
  });

  it('stops at once on a local failure without blaming the source', async () => {
    const scheduler = new ChunkScheduler({
      chunks: chunks(10),
      fetch: async () => {
        throw new LocalFailure(new LanspreadError('DISK_FULL', 'full'));
      },
    });
    scheduler.addSource(source('a'));
    await expect(scheduler.run(new AbortController().signal)).rejects.toMatchObject({ code: 'DISK_FULL' });
    expect(scheduler.stats()[0]?.dropped).toBeNull();
  });

  it('cancels: aborts requests in flight and settles only after they settled', async () => {
    let inFlight = 0;
    const scheduler = new ChunkScheduler({
      chunks: chunks(10),
      fetch: async (_src, _chunk, signal) => {
        inFlight += 1;
        await new Promise((resolve) => signal.addEventListener('abort', () => setTimeout(resolve, 20), { once: true }));
        inFlight -= 1;
        throw new LanspreadError('REQUEST_CANCELLED', 'aborted');
      },
    });
    scheduler.addSource(source('a'));
    const controller = new AbortController();
    const run = scheduler.run(controller.signal);
    setTimeout(() => controller.abort(), 10);
    await expect(run).rejects.toMatchObject({ code: 'REQUEST_CANCELLED' });
    expect(inFlight).toBe(0);
  });
});
