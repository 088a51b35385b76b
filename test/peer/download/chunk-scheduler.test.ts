import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ChunkFetcher } from '../../../src/main/peer/download/chunk-scheduler';
import { ChunkScheduler, LocalFailure } from '../../../src/main/peer/download/chunk-scheduler';
import type { AvailabilityChange, ChunkSource, PlannedChunk } from '../../../src/main/peer/download/types';
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

  it('rests a stalled source and finishes its chunks elsewhere', async () => {
    const scheduler = new ChunkScheduler({
      chunks: chunks(40),
      fetch: fetcher({ stuck: { hang: true }, ok: { delayMs: 1 } }),
      tuning: { stallTimeoutMs: 100, tickMs: 20 },
    });
    scheduler.addSource(source('stuck'));
    scheduler.addSource(source('ok'));
    await scheduler.run(new AbortController().signal);
    const stats = scheduler.stats();
    // Rested, not dropped: a stalled seed in a crowd is tried again later.
    expect(stats.find((entry) => entry.peerId === 'stuck')).toMatchObject({ chunks: 0, dropped: null, lastError: { code: 'REQUEST_TIMEOUT' } });
    expect(stats.find((entry) => entry.peerId === 'stuck')?.rests).toBeGreaterThanOrEqual(1);
    expect(stats.find((entry) => entry.peerId === 'ok')?.chunks).toBe(40);
  });

  it('rests a source far slower than the others while work is waiting', async () => {
    const scheduler = new ChunkScheduler({
      chunks: chunks(3000),
      fetch: fetcher({ fast: { delayMs: 1 }, slow: { delayMs: 400 } }),
      tuning: { slowRatio: 0.2, slowSustainMs: 150, tickMs: 25 },
    });
    scheduler.addSource(source('fast'));
    scheduler.addSource(source('slow'));
    await scheduler.run(new AbortController().signal);
    const slow = scheduler.stats().find((entry) => entry.peerId === 'slow');
    expect(slow?.lastError?.message).toContain('slower');
    expect(slow?.dropped).toBeNull();
    expect(scheduler.stats().reduce((sum, entry) => sum + entry.chunks, 0)).toBe(3000);
  });

  it('keeps about inFlightSeconds of a source’s rate in flight: 4 before its rate is known, 2 to a slow source, up to 4 MiB to a fast one', async () => {
    const KIB = 1024;
    // At each request's start: how many the source then had in flight, and when.
    const starts: Record<string, Array<{ at: number; inFlight: number }>> = { fast: [], slow: [] };
    const inFlight: Record<string, number> = { fast: 0, slow: 0 };
    const began = performance.now();
    const scheduler = new ChunkScheduler({
      chunks: chunks(6000, 256 * KIB),
      fetch: async (src, chunk, _signal, onBytes) => {
        inFlight[src.peerId]! += 1;
        starts[src.peerId]!.push({ at: performance.now() - began, inFlight: inFlight[src.peerId]! });
        // The slow source's first answers come long after the first rate sample (100 ms).
        await sleep(src.peerId === 'fast' ? 5 : 1_000);
        inFlight[src.peerId]! -= 1;
        onBytes(chunk.length);
      },
      tuning: { tickMs: 100, slowSustainMs: 60_000 },
    });
    scheduler.addSource(source('fast'));
    scheduler.addSource(source('slow'));
    await scheduler.run(new AbortController().signal);
    const most = (peerId: string, from: number, to = Infinity) => Math.max(0, ...starts[peerId]!.filter(({ at }) => at >= from && at < to).map(({ inFlight: count }) => count));
    // Before the first rate sample, 4 each.
    expect(most('fast', 0, 80)).toBe(4);
    expect(most('slow', 0, 80)).toBe(4);
    // Then the fast source gets 4 MiB of 256 KiB chunks in flight, the slow one (1 MiB/s) 2.
    expect(most('fast', 300)).toBe(16);
    expect(most('slow', 300)).toBe(2);
  });

  it('waits for a source added within the grace period instead of failing', async () => {
    const scheduler = new ChunkScheduler({ chunks: chunks(10), fetch: fetcher({}), tuning: { noSourceGraceMs: 10_000 } });
    const run = scheduler.run(new AbortController().signal);
    setTimeout(() => scheduler.addSource(source('late')), 20);
    await run;
    expect(scheduler.stats()[0]?.chunks).toBe(10);
  });

  it('fails with NO_SOURCE when the last source is removed and none comes back', async () => {
    const scheduler = new ChunkScheduler({ chunks: chunks(10), fetch: fetcher({ gone: { hang: true } }) });
    scheduler.addSource(source('gone'));
    const run = scheduler.run(new AbortController().signal);
    setTimeout(() => scheduler.removeSource('gone'), 20);
    await expect(run).rejects.toMatchObject({ code: 'NO_SOURCE' });
  });

  it('keeps trying an unreachable source with doubling rests, and fails with NO_SOURCE only after unreachableGraceMs', async () => {
    let tries = 0;
    const scheduler = new ChunkScheduler({
      chunks: chunks(10),
      fetch: async () => {
        tries++;
        throw new LanspreadError('PEER_UNREACHABLE', 'connect timed out');
      },
      tuning: { restMs: 20, maxRestMs: 80, tickMs: 10, unreachableGraceMs: 400 },
    });
    scheduler.addSource(source('busy'));
    await expect(scheduler.run(new AbortController().signal)).rejects.toMatchObject({ code: 'NO_SOURCE', message: expect.stringContaining('PEER_UNREACHABLE') });
    expect(scheduler.stats()[0]).toMatchObject({ dropped: null, lastError: { code: 'PEER_UNREACHABLE' } });
    // 20 + 40 + 80 + 80 ... ms rests within 400 ms: several rounds, not one and not hundreds.
    expect(scheduler.stats()[0]!.rests).toBeGreaterThanOrEqual(3);
    expect(tries).toBeLessThan(100);
  });

  it('a busy source that refuses connections for a while is waited for, and the download completes without a failed chunk', async () => {
    let refusals = 0;
    const scheduler = new ChunkScheduler({
      chunks: chunks(20),
      fetch: async (_src, chunk, _signal, onBytes) => {
        if (refusals < 6) {
          refusals++;
          throw new LanspreadError(refusals % 2 ? 'PEER_UNREACHABLE' : 'REQUEST_TIMEOUT', 'busy');
        }
        onBytes(chunk.length);
      },
      tuning: { restMs: 5, tickMs: 5 },
    });
    scheduler.addSource(source('seed'));
    await scheduler.run(new AbortController().signal);
    expect(scheduler.stats()[0]).toMatchObject({ chunks: 20, badChunks: 0, dropped: null });
  });

  it('gives a partial source only chunks it holds, and more as it announces them', async () => {
    const held = new Set([0, 1, 2]);
    const listeners = new Set<(change: AvailabilityChange | 'all') => void>();
    const partial: ChunkSource = {
      ...source('partial'),
      availability: { has: (id) => held.has(id), isFetching: () => false, onChange: (listener) => (listeners.add(listener), () => listeners.delete(listener)) },
    };
    const asked: number[] = [];
    const scheduler = new ChunkScheduler({
      chunks: chunks(6),
      fetch: async (_src, chunk, _signal, onBytes) => {
        asked.push(chunk.id);
        onBytes(chunk.length);
      },
      tuning: { tickMs: 5 },
    });
    scheduler.addSource(partial);
    const run = scheduler.run(new AbortController().signal);
    await sleep(30);
    expect([...asked].sort()).toEqual([0, 1, 2]);
    for (const id of [3, 4]) held.add(id);
    for (const listener of listeners) listener({ have: [3, 4] });
    await sleep(30);
    expect([...asked].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const listener of listeners) listener('all');
    await run;
    expect([...asked].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a source that had nothing to give is asked at once for a chunk it holds that goes back to the queue, with no tick in between', async () => {
    const partial: ChunkSource = { ...source('partial'), availability: { has: (id) => id === 0, isFetching: () => false, onChange: () => () => undefined } };
    const asked: string[] = [];
    let busy!: () => void;
    const seedBusy = new Promise<void>((resolve) => (busy = resolve));
    const scheduler = new ChunkScheduler({
      chunks: chunks(3),
      fetch: async (src, chunk, signal, onBytes) => {
        asked.push(`${src.peerId}:${chunk.id}`);
        if (src.peerId === 'seed' && chunk.id === 0) {
          await seedBusy;
          throw new LanspreadError('PEER_BUSY', 'busy');
        }
        if (src.peerId === 'seed') await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new LanspreadError('REQUEST_CANCELLED', 'aborted')), { once: true }));
        onBytes(chunk.length);
      },
      // The clock stands still and the tick never comes: only events can hand out a chunk.
      now: () => 0,
      random: () => 0,
      tuning: { inFlightPerSource: 2, tickMs: 60_000 },
    });
    scheduler.addSource(source('seed'));
    const stop = new AbortController();
    const run = scheduler.run(stop.signal).catch((error: unknown) => error);
    await sleep(10);
    expect(asked).toEqual(['seed:0', 'seed:1']);
    // Chunk 2 is left, and the partial source does not hold it: it has nothing to give.
    scheduler.addSource(partial);
    await sleep(10);
    expect(asked).toEqual(['seed:0', 'seed:1']);
    // The seed turns busy and rests: chunk 0 goes back, and the partial source holds it.
    busy();
    await sleep(10);
    expect(asked).toContain('partial:0');
    stop.abort();
    expect(await run).toMatchObject({ code: 'REQUEST_CANCELLED' });
  });

  it('asks a full source first for the chunks no partial source holds (rarest first)', async () => {
    const partialHolds = new Set([0, 1, 2, 3, 4, 5, 6, 7]);
    const partial: ChunkSource = { ...source('partial'), availability: { has: (id) => partialHolds.has(id), isFetching: () => false, onChange: () => () => undefined } };
    const fromSeed: number[] = [];
    const scheduler = new ChunkScheduler({
      chunks: chunks(16),
      fetch: async (src, chunk, _signal, onBytes) => {
        if (src.peerId === 'seed') fromSeed.push(chunk.id);
        await sleep(src.peerId === 'seed' ? 1 : 5);
        onBytes(chunk.length);
      },
      tuning: { inFlightPerSource: 2 },
    });
    scheduler.addSource(partial);
    scheduler.addSource(source('seed'));
    await scheduler.run(new AbortController().signal);
    // The seed's first picks are all chunks only it has (8..15), whatever the random start.
    expect(fromSeed.slice(0, 6).every((id) => id >= 8)).toBe(true);
  });

  it('asks a full source for chunks nobody is fetching before those a partial source is already fetching', async () => {
    const fetchingElsewhere = new Set([0, 1, 2, 3, 4, 5, 6, 7]);
    const partial: ChunkSource = { ...source('partial'), availability: { has: () => false, isFetching: (id) => fetchingElsewhere.has(id), onChange: () => () => undefined } };
    const fromSeed: number[] = [];
    const scheduler = new ChunkScheduler({
      chunks: chunks(16),
      fetch: async (src, chunk, _signal, onBytes) => {
        fromSeed.push(chunk.id);
        await sleep(1);
        onBytes(chunk.length);
      },
      tuning: { inFlightPerSource: 2 },
      random: () => 0,
    });
    scheduler.addSource(partial);
    scheduler.addSource(source('seed'));
    await scheduler.run(new AbortController().signal);
    expect(fromSeed.slice(0, 8).every((id) => id >= 8)).toBe(true);
    expect([...fromSeed].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, id) => id));
  });

  it('a partial source that does not (yet) hold a chunk it announced costs the chunk nothing', async () => {
    let denied = 0;
    const partial: ChunkSource = { ...source('partial'), availability: { has: () => true, isFetching: () => false, onChange: () => () => undefined } };
    const scheduler = new ChunkScheduler({
      chunks: chunks(4),
      fetch: async (src, chunk, _signal, onBytes) => {
        if (src.peerId === 'partial' && chunk.id === 2) {
          denied++;
          throw new LanspreadError('CHUNK_NOT_AVAILABLE', 'not yet');
        }
        onBytes(chunk.length);
      },
      tuning: { maxRetryCount: 0, tickMs: 5 },
    });
    scheduler.addSource(partial);
    const run = scheduler.run(new AbortController().signal);
    await sleep(50);
    scheduler.addSource(source('seed'));
    await run;
    expect(denied).toBeGreaterThanOrEqual(1);
    expect(scheduler.stats().find((entry) => entry.peerId === 'partial')).toMatchObject({ dropped: null, badChunks: 0 });
  });

  it('endgame: a chunk held up at a slow source is copied from another, and the copy is written only after the slow request stopped', async () => {
    const events: string[] = [];
    const scheduler = new ChunkScheduler({
      chunks: chunks(2),
      fetch: async (src, chunk, signal, onBytes) => {
        if (src.peerId === 'fast') return onBytes(chunk.length);
        // The slow one never finishes; once stopped, its last write still takes a moment.
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        await sleep(30);
        events.push(`slow stopped ${chunk.id}`);
        throw new LanspreadError('REQUEST_CANCELLED', 'aborted');
      },
      fetchCopy: async (src, chunk, _signal, onBytes) => {
        events.push(`copy ${chunk.id} from ${src.peerId}`);
        onBytes(chunk.length);
        return new Uint8Array(chunk.length);
      },
      store: async (chunk) => void events.push(`store ${chunk.id}`),
      tuning: { inFlightPerSource: 1, tickMs: 10 },
      random: () => 0,
    });
    scheduler.addSource(source('slow'));
    scheduler.addSource(source('fast'));
    await scheduler.run(new AbortController().signal);
    expect(events).toEqual(['copy 0 from fast', 'slow stopped 0', 'store 0']);
    expect(scheduler.stats().find((entry) => entry.peerId === 'fast')?.chunks).toBe(2);
    expect(scheduler.stats().find((entry) => entry.peerId === 'slow')).toMatchObject({ chunks: 0, dropped: null, badChunks: 0 });
  });

  it('endgame: when the first request wins, the copy is dropped and nothing is written twice', async () => {
    let stored = 0;
    const scheduler = new ChunkScheduler({
      chunks: chunks(2),
      fetch: async (src, chunk, _signal, onBytes) => {
        await sleep(src.peerId === 'fast' ? 0 : 400);
        onBytes(chunk.length);
      },
      fetchCopy: async (_src, chunk, signal) => {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        throw new LanspreadError('REQUEST_CANCELLED', `copy of ${chunk.id} aborted`);
      },
      store: async () => void stored++,
      tuning: { inFlightPerSource: 1, tickMs: 10 },
      random: () => 0,
    });
    scheduler.addSource(source('slow'));
    scheduler.addSource(source('fast'));
    await scheduler.run(new AbortController().signal);
    expect(stored).toBe(0);
    expect(scheduler.stats().find((entry) => entry.peerId === 'slow')?.chunks).toBe(1);
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
