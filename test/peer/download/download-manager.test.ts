import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DownloadEvent } from '../../../src/main/peer/download/download-manager';
import { DownloadManager } from '../../../src/main/peer/download/download-manager';
import { journalPath } from '../../../src/main/peer/download/resume-journal';
import { ChunkHasher } from '../../../src/main/peer/library/chunk-hasher';
import type { GameManifest } from '../../../src/shared/model';
import { makeTempDir } from '../../support/install-helpers';
import { CHUNK, SeedSource, buildManifest, exists, fileCrc, treeCrcs, writeSeedGame } from './seed-helpers';
import { sha256Hex } from '../../support/sha256';

const GAME = 'demo-game';

const GAME_FILES = [
  { path: 'version.ini', content: '[version]\nversion=2\n' },
  { path: 'game.part1.rar', size: 1_000_000 },
  { path: 'game.part2.rar', size: 700_001 },
  { path: 'extras/manual.pdf', size: 300_000 },
  { path: 'empty.txt', size: 0 },
];

let dir: string;
let cleanup: () => Promise<void>;
let seedRoot: string;
let gameDir: string;
let stateDir: string;
let manifest: GameManifest;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir('download'));
  seedRoot = path.join(dir, 'seed', GAME);
  gameDir = path.join(dir, 'games');
  stateDir = path.join(dir, 'state');
  await mkdir(gameDir, { recursive: true });
  manifest = await writeSeedGame(seedRoot, GAME, '2', GAME_FILES);
});

afterEach(async () => {
  await cleanup();
});

function collect(): { events: DownloadEvent[]; onEvent: (event: DownloadEvent) => void } {
  const events: DownloadEvent[] = [];
  return { events, onEvent: (event) => events.push(event) };
}

async function expectSameAsSeed(): Promise<void> {
  for (const file of manifest.files) {
    const relative = file.path.split('/');
    expect(await fileCrc(path.join(gameDir, GAME, ...relative)), file.path).toBe(await fileCrc(path.join(seedRoot, ...relative)));
  }
}

type Range = { offset: number; length: number };

/** What the hash worker answers: each range's CRC, null where the bytes end before it does. */
function rangeHashesOf(bytes: Buffer, ranges: readonly Range[]): Array<string | null> {
  return ranges.map(({ offset, length }) => (offset + length <= bytes.byteLength ? sha256Hex(bytes.subarray(offset, offset + length)) : null));
}

/** The chunks the journal records as verified, decoded from its per-file bitsets. */
async function journaledChunks(): Promise<Array<{ path: string; offset: number; length: number }>> {
  const journal = JSON.parse(await readFile(journalPath(stateDir, GAME), 'utf8')) as { verified: Record<string, string> };
  return manifest.files.flatMap((file) => {
    const bits = Buffer.from(journal.verified[file.path] ?? '', 'base64');
    return file.chunkHashes.flatMap((_, i) => ((bits[i >> 3] ?? 0) & (1 << (i & 7)) ? [{ path: file.path, offset: i * CHUNK, length: Math.min(CHUNK, file.size - i * CHUNK) }] : []));
  });
}

async function rootEntries(): Promise<string[]> {
  return (await readdir(path.join(gameDir, GAME))).sort();
}

function progressOf(events: DownloadEvent[]) {
  return events.flatMap((event) => (event.type === 'game-download-progress' ? [event.payload] : []));
}

describe('DownloadManager', () => {
  it('downloads from three sources byte-identically, every source serving a share', async () => {
    const sources = ['a', 'b', 'c'].map((id) => new SeedSource(id, `peer-${id}`, seedRoot, { delayMs: 3 }));
    const { events, onEvent } = collect();
    const outcome = await new DownloadManager({ progressIntervalMs: 20 }).download({ gameId: GAME, gameDir, stateDir, manifest, sources, onEvent });

    expect(outcome.status).toBe('finished');
    await expectSameAsSeed();
    for (const stats of outcome.sources) expect(stats.chunks, stats.name).toBeGreaterThan(0);
    const served = outcome.sources.reduce((sum, stats) => sum + stats.chunks, 0);
    expect(served).toBe(manifest.files.reduce((sum, file) => sum + file.chunkHashes.length, 0));

    expect(events[0]?.type).toBe('game-download-begin');
    expect(events.at(-1)).toEqual({ type: 'game-download-finished', payload: { gameId: GAME, version: '2' } });
    const progress = progressOf(events);
    const total = manifest.files.reduce((sum, file) => sum + file.size, 0);
    expect(progress.at(-1)).toMatchObject({ bytesDone: total, totalBytes: total, etaSeconds: 0 });
    for (let index = 1; index < progress.length; index += 1) {
      expect(progress[index]!.bytesDone).toBeGreaterThanOrEqual(progress[index - 1]!.bytesDone);
    }
    expect(Math.max(...progress.map((sample) => sample.activePeers))).toBeGreaterThanOrEqual(2);
    expect(await exists(journalPath(stateDir, GAME))).toBe(false);
    expect(await rootEntries()).toEqual(['empty.txt', 'extras', 'game.part1.rar', 'game.part2.rar', 'version.ini']);
  });

  it('completes from the other sources when one dies mid-chunk', async () => {
    const dying = new SeedSource('a', 'dying', seedRoot, { dieMidChunk: 4, delayMs: 1 });
    const others = ['b', 'c'].map((id) => new SeedSource(id, id, seedRoot, { delayMs: 3 }));
    const outcome = await new DownloadManager().download({ gameId: GAME, gameDir, stateDir, manifest, sources: [dying, ...others] });

    expect(outcome.status).toBe('finished');
    await expectSameAsSeed();
    const dyingStats = outcome.sources.find((stats) => stats.peerId === 'a');
    // Rested and tried again later (it may only be busy): a vanished peer is removed by the peer manager, not here.
    expect(dyingStats?.lastError?.code).toBe('PEER_GONE');
    expect(dyingStats?.rests).toBeGreaterThanOrEqual(1);
    // The chunk it died in never counts. (Not a fixed "< 4": with 4 requests in flight, a 5th
    // can start before the 4th dies and still complete, so 4 delivered chunks is legitimate.)
    expect(dyingStats?.chunks).toBeLessThan(dying.chunksServed);
    expect(dying.chunksServed).toBeGreaterThanOrEqual(4);
  });

  it('detects a corrupting source, re-fetches its chunks and drops it after 3 bad chunks', async () => {
    const corrupt = new SeedSource('bad', 'corrupt', seedRoot, { corruptEvery: 2 });
    const honest = new SeedSource('good', 'honest', seedRoot, { delayMs: 5 });
    // One request at a time from each, so "nothing asked after the third bad chunk" is exact.
    const tuning = { inFlightPerSource: 1 };
    const outcome = await new DownloadManager().download({ gameId: GAME, gameDir, stateDir, manifest, sources: [corrupt, honest], tuning });

    expect(outcome.status).toBe('finished');
    await expectSameAsSeed();
    const stats = outcome.sources.find((entry) => entry.peerId === 'bad');
    expect(stats?.badChunks).toBe(3);
    expect(stats?.dropped?.code).toBe('CHUNK_HASH_MISMATCH');
    // Dropped for this download: nothing was asked of it after the third bad chunk.
    expect(corrupt.chunksRequested).toBe(6);
  });

  it('cancel discards the payload and the journal and leaves local/ and install metadata alone', async () => {
    const root = path.join(gameDir, GAME);
    await mkdir(path.join(root, 'local', 'saves'), { recursive: true });
    await writeFile(path.join(root, 'local', 'game.exe'), 'installed binary');
    await writeFile(path.join(root, 'local', 'saves', 'slot1.sav'), 'progress');
    const intent = path.join(stateDir, 'games', GAME, 'install_intent.json');
    await mkdir(path.dirname(intent), { recursive: true });
    await writeFile(intent, '{"kind":"none"}');
    const localBefore = await treeCrcs(path.join(root, 'local'));

    const controller = new AbortController();
    const sources = [new SeedSource('a', 'a', seedRoot, { delayMs: 20 })];
    const { events, onEvent } = collect();
    const outcome = await new DownloadManager({ progressIntervalMs: 10 }).download({
      gameId: GAME,
      gameDir,
      stateDir,
      manifest,
      sources,
      signal: controller.signal,
      onEvent: (event) => {
        onEvent(event);
        if (event.type === 'game-download-progress' && event.payload.bytesDone > 0) controller.abort();
      },
    });

    expect(outcome.status).toBe('cancelled');
    expect(events.at(-1)).toEqual({ type: 'game-download-cancelled', payload: { gameId: GAME } });
    expect(await rootEntries()).toEqual(['local']);
    expect(await treeCrcs(path.join(root, 'local'))).toEqual(localBefore);
    expect(await readFile(intent, 'utf8')).toBe('{"kind":"none"}');
    expect(await exists(journalPath(stateDir, GAME))).toBe(false);
  });

  it('resumes after all sources vanished, fetching only the rest and starting above 0', async () => {
    const vanishing = ['a', 'b'].map((id) => new SeedSource(id, id, seedRoot, { failAfterChunks: 10 }));
    // Unreachable sources are given up on at once here (the runtime waits minutes for them).
    const manager = new DownloadManager({ journalFlushIntervalMs: 10, tuning: { unreachableGraceMs: 0 } });
    const failedRun = collect();
    const first = await manager.download({ gameId: GAME, gameDir, stateDir, manifest, sources: vanishing, onEvent: failedRun.onEvent });
    expect(first.status).toBe('failed');
    if (first.status === 'failed') expect(first.error.code).toBe('NO_SOURCE');
    // The failure says the verified part is kept.
    expect(failedRun.events.at(-1)).toMatchObject({ type: 'game-download-failed', payload: { gameId: GAME, resumes: true } });
    expect(await exists(journalPath(stateDir, GAME))).toBe(true);
    expect(await exists(path.join(gameDir, GAME, 'version.ini'))).toBe(false);
    expect(await exists(path.join(gameDir, GAME, '.version.ini.discarded'))).toBe(false);

    const fresh = new SeedSource('c', 'c', seedRoot);
    const { events, onEvent } = collect();
    const second = await manager.download({ gameId: GAME, gameDir, stateDir, manifest, sources: [fresh], onEvent });
    expect(second.status).toBe('finished');
    await expectSameAsSeed();
    const total = manifest.files.reduce((sum, file) => sum + file.size, 0);
    const startedAt = progressOf(events)[0]!.bytesDone;
    expect(startedAt).toBeGreaterThan(0);
    expect(fresh.bytesRequested).toBeLessThanOrEqual(total - startedAt + CHUNK * manifest.files.length);
  });

  it('re-checks the journaled chunks in the hash worker before fetching, and fetches again one changed on disk since', async () => {
    const vanishing = ['a', 'b'].map((id) => new SeedSource(id, id, seedRoot, { failAfterChunks: 10 }));
    const first = await new DownloadManager({ journalFlushIntervalMs: 10, tuning: { unreachableGraceMs: 0 } }).download({ gameId: GAME, gameDir, stateDir, manifest, sources: vanishing });
    expect(first.status).toBe('failed');
    const journaled = await journaledChunks();
    expect(journaled.length).toBeGreaterThan(1);
    const damaged = journaled[0]!;
    const damagedFile = path.join(gameDir, GAME, ...damaged.path.split('/'));
    const bytes = await readFile(damagedFile);
    bytes[damaged.offset + 3] = (bytes[damaged.offset + 3] ?? 0) ^ 0xff;
    await writeFile(damagedFile, bytes);

    const fresh = new SeedSource('c', 'c', seedRoot);
    const worker = new ChunkHasher();
    const rechecked: Array<{ file: string; ranges: Range[]; servedBefore: number }> = [];
    const hasher = {
      hashRanges: (file: string, ranges: readonly Range[]) => {
        rechecked.push({ file: path.relative(path.join(gameDir, GAME), file), ranges: [...ranges], servedBefore: fresh.chunksServed });
        return worker.hashRanges(file, ranges);
      },
    };
    const { events, onEvent } = collect();
    try {
      const second = await new DownloadManager({ hasher }).download({ gameId: GAME, gameDir, stateDir, manifest, sources: [fresh], onEvent });
      expect(second.status).toBe('finished');
    } finally {
      await worker.stop();
    }
    await expectSameAsSeed();
    // Every journaled chunk went through the worker before the first byte was fetched.
    const before = rechecked.filter((call) => call.servedBefore === 0).flatMap((call) => call.ranges.map((range) => `${call.file}@${range.offset}+${range.length}`));
    for (const chunk of journaled) expect(before).toContain(`${chunk.path}@${chunk.offset}+${chunk.length}`);
    // Progress starts at the journaled bytes less the damaged chunk, and exactly the rest is fetched.
    const startedAt = progressOf(events)[0]!.bytesDone;
    expect(startedAt).toBe(journaled.reduce((sum, chunk) => sum + chunk.length, 0) - damaged.length);
    const total = manifest.files.reduce((sum, file) => sum + file.size, 0);
    expect(fresh.bytesRequested).toBe(total - startedAt);
  });

  it('checks each payload file from disk once, as soon as its last chunk is verified', async () => {
    const source = new SeedSource('a', 'a', seedRoot, { delayMs: 2 });
    const checked: Array<{ file: string; servedBefore: number }> = [];
    const hasher = {
      hashRanges: async (file: string, ranges: readonly Range[]) => {
        checked.push({ file: path.relative(path.join(gameDir, GAME), file), servedBefore: source.chunksServed });
        return rangeHashesOf(await readFile(file), ranges);
      },
    };
    // Started at the first chunk, so the first volume is the first file to complete.
    const outcome = await new DownloadManager({ hasher, random: () => 0 }).download({ gameId: GAME, gameDir, stateDir, manifest, sources: [source], tuning: { inFlightPerSource: 2 } });
    expect(outcome.status).toBe('finished');
    await expectSameAsSeed();
    const totalChunks = manifest.files.reduce((sum, file) => sum + file.chunkHashes.length, 0);
    // Every payload file with bytes, once; version.ini lives in memory until the commit.
    expect(checked.map((check) => check.file).sort()).toEqual(['extras/manual.pdf', 'game.part1.rar', 'game.part2.rar']);
    // The first volume was read back while the later ones were still being fetched.
    const first = checked.find((check) => check.file === 'game.part1.rar')!;
    expect(first.servedBefore).toBeLessThan(totalChunks - 5);
  });

  it('fails with FILE_CRC_MISMATCH when a file changed on disk after its chunks were verified; the next attempt fetches only those', async () => {
    const damaged = path.join(gameDir, GAME, 'game.part2.rar');
    const hasher = {
      hashRanges: async (file: string, ranges: readonly Range[]) => {
        const bytes = await readFile(file);
        // Something else wrote into the file after its chunks had checked out.
        if (file === damaged) bytes[CHUNK + 7] = (bytes[CHUNK + 7] ?? 0) ^ 0xff;
        if (file === damaged) await writeFile(file, bytes);
        return rangeHashesOf(bytes, ranges);
      },
    };
    const { events, onEvent } = collect();
    const first = await new DownloadManager({ hasher, journalFlushIntervalMs: 10 }).download({ gameId: GAME, gameDir, stateDir, manifest, sources: [new SeedSource('a', 'a', seedRoot)], onEvent });
    expect(first.status).toBe('failed');
    if (first.status === 'failed') expect(first.error.code).toBe('FILE_CRC_MISMATCH');
    expect(events.at(-1)?.type).toBe('game-download-failed');
    expect(await exists(path.join(gameDir, GAME, 'version.ini'))).toBe(false);
    expect(await exists(path.join(gameDir, GAME, '.version.ini.tmp'))).toBe(false);

    const fresh = new SeedSource('b', 'b', seedRoot);
    const second = await new DownloadManager({ journalFlushIntervalMs: 10 }).download({ gameId: GAME, gameDir, stateDir, manifest, sources: [fresh] });
    expect(second.status).toBe('finished');
    await expectSameAsSeed();
    // Only the damaged chunk, plus version.ini, which is never kept between attempts.
    expect(fresh.chunksServed).toBe(2);
  });

  it('discards a journal of another version and downloads everything', async () => {
    const journal = journalPath(stateDir, GAME);
    await mkdir(path.dirname(journal), { recursive: true });
    await writeFile(journal, JSON.stringify({ format: 2, gameId: GAME, version: '1', manifestId: 'x', verified: {} }));
    const source = new SeedSource('a', 'a', seedRoot);
    const { events, onEvent } = collect();
    const outcome = await new DownloadManager().download({ gameId: GAME, gameDir, stateDir, manifest, sources: [source], onEvent });
    expect(outcome.status).toBe('finished');
    expect(progressOf(events)[0]!.bytesDone).toBe(0);
    expect(source.bytesRequested).toBe(manifest.files.reduce((sum, file) => sum + file.size, 0));
    expect(await exists(journal)).toBe(false);
  });

  it('updates over an installed older version: local/ untouched throughout, stale archive removed, version.ini last', async () => {
    const root = path.join(gameDir, GAME);
    await mkdir(path.join(root, 'local', 'bin'), { recursive: true });
    await writeFile(path.join(root, 'local', 'bin', 'game.exe'), Buffer.alloc(200_000, 7));
    await writeFile(path.join(root, 'local', 'config.cfg'), 'fov=90');
    await writeFile(path.join(root, 'version.ini'), '[version]\nversion=1\n');
    await writeFile(path.join(root, 'old-game.rar'), Buffer.alloc(150_000, 1));
    await writeFile(path.join(root, 'game.part1.rar'), Buffer.alloc(1_200_000, 2));
    const localBefore = await treeCrcs(path.join(root, 'local'));

    const checks: Promise<void>[] = [];
    const duringDownload = async () => {
      expect(await treeCrcs(path.join(root, 'local'))).toEqual(localBefore);
      expect(await exists(path.join(root, 'version.ini'))).toBe(false);
      expect(await readFile(path.join(root, '.version.ini.discarded'), 'utf8')).toContain('version=1');
    };
    const sources = ['a', 'b'].map((id) => new SeedSource(id, id, seedRoot, { delayMs: 5 }));
    const outcome = await new DownloadManager({ progressIntervalMs: 10 }).download({
      gameId: GAME,
      gameDir,
      stateDir,
      manifest,
      sources,
      onEvent: (event) => {
        if (event.type === 'game-download-progress' && event.payload.bytesDone > 0 && checks.length < 3) checks.push(duringDownload());
      },
    });

    expect(outcome.status).toBe('finished');
    expect(checks.length).toBeGreaterThan(0);
    await Promise.all(checks);
    await expectSameAsSeed();
    expect(await treeCrcs(path.join(root, 'local'))).toEqual(localBefore);
    expect(await exists(path.join(root, 'old-game.rar'))).toBe(false);
    expect(await readFile(path.join(root, 'version.ini'), 'utf8')).toContain('version=2');
    expect(await rootEntries()).toEqual(['empty.txt', 'extras', 'game.part1.rar', 'game.part2.rar', 'local', 'version.ini']);
  });

  /** A downloaded version 1 in the player's game root: the seed's part1, manual and empty file unchanged, part2 and version.ini not. */
  async function downloadedVersionOne(): Promise<GameManifest> {
    const root = path.join(gameDir, GAME);
    await mkdir(path.join(root, 'extras'), { recursive: true });
    for (const unchanged of ['game.part1.rar', 'extras/manual.pdf', 'empty.txt']) {
      await writeFile(path.join(root, ...unchanged.split('/')), await readFile(path.join(seedRoot, ...unchanged.split('/'))));
    }
    // Same size, other bytes: only the hashes tell it changed.
    await writeFile(path.join(root, 'game.part2.rar'), Buffer.alloc(700_001, 9));
    await writeFile(path.join(root, 'version.ini'), '[version]\nversion=1\n');
    return buildManifest(root, GAME, '1', ['empty.txt', 'extras/manual.pdf', 'game.part1.rar', 'game.part2.rar', 'version.ini']);
  }

  it('an update keeps the files the downloaded version holds unchanged: only the changed ones and version.ini are fetched', async () => {
    const onDisk = await downloadedVersionOne();
    const source = new SeedSource('a', 'a', seedRoot);
    const checked: string[] = [];
    const hasher = {
      hashRanges: async (file: string, ranges: readonly Range[]) => {
        checked.push(path.relative(path.join(gameDir, GAME), file));
        return rangeHashesOf(await readFile(file), ranges);
      },
    };
    const { events, onEvent } = collect();
    const outcome = await new DownloadManager({ hasher }).download({ gameId: GAME, gameDir, stateDir, manifest, sources: [source], onEvent, onDisk });

    expect(outcome.status).toBe('finished');
    await expectSameAsSeed();
    const sizeOf = (file: string) => manifest.files.find((entry) => entry.path === file)!.size;
    expect(source.bytesRequested).toBe(sizeOf('game.part2.rar') + sizeOf('version.ini'));
    // Progress starts at what was kept, and every kept byte was still read back before the commit.
    expect(progressOf(events)[0]!.bytesDone).toBe(sizeOf('game.part1.rar') + sizeOf('extras/manual.pdf'));
    expect(new Set(checked)).toEqual(new Set(['game.part1.rar', 'game.part2.rar', path.join('extras', 'manual.pdf')]));
    expect(await readFile(path.join(gameDir, GAME, 'version.ini'), 'utf8')).toContain('version=2');
    expect(await exists(path.join(gameDir, GAME, '.version.ini.discarded'))).toBe(false);
    expect(await exists(journalPath(stateDir, GAME))).toBe(false);
  });

  it('an update whose kept file changed on disk behind the index fails with FILE_CRC_MISMATCH; the next attempt fetches only that chunk', async () => {
    const onDisk = await downloadedVersionOne();
    // Bit rot the index cannot see (same size, same listing): the read-back before the commit must.
    const kept = path.join(gameDir, GAME, 'game.part1.rar');
    const bytes = await readFile(kept);
    bytes[3 * CHUNK + 11] = (bytes[3 * CHUNK + 11] ?? 0) ^ 0xff;
    await writeFile(kept, bytes);

    const first = await new DownloadManager({ journalFlushIntervalMs: 10 }).download({ gameId: GAME, gameDir, stateDir, manifest, sources: [new SeedSource('a', 'a', seedRoot)], onDisk });
    expect(first.status).toBe('failed');
    if (first.status === 'failed') expect(first.error.code).toBe('FILE_CRC_MISMATCH');
    expect(await exists(path.join(gameDir, GAME, 'version.ini'))).toBe(false);
    expect(await exists(path.join(gameDir, GAME, '.version.ini.discarded'))).toBe(false);

    // The old version.ini is gone, so nothing vouches for the kept files but the journal.
    const fresh = new SeedSource('b', 'b', seedRoot);
    const second = await new DownloadManager().download({ gameId: GAME, gameDir, stateDir, manifest, sources: [fresh], onDisk: null });
    expect(second.status).toBe('finished');
    await expectSameAsSeed();
    expect(fresh.chunksServed).toBe(2);
    expect(fresh.bytesRequested).toBe(CHUNK + manifest.files.find((entry) => entry.path === 'version.ini')!.size);
  });

  it('keeps nothing of a listing of another game or chunk size', async () => {
    const onDisk = await downloadedVersionOne();
    for (const other of [{ ...onDisk, gameId: 'other-game' }, { ...onDisk, chunkSize: CHUNK * 2 }]) {
      const source = new SeedSource('a', 'a', seedRoot);
      const outcome = await new DownloadManager().download({ gameId: GAME, gameDir, stateDir, manifest, sources: [source], onDisk: other });
      expect(outcome.status).toBe('finished');
      expect(source.bytesRequested).toBe(manifest.files.reduce((sum, file) => sum + file.size, 0));
    }
    await expectSameAsSeed();
  });

  it('fails with the last cause after a chunk exhausted its retries, and sweeps the sentinels', async () => {
    const root = path.join(gameDir, GAME);
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, 'version.ini'), 'old');
    // Every source corrupts every chunk: each is dropped after 3 bad chunks, none can deliver.
    const sources = ['a', 'b', 'c'].map((id) => new SeedSource(id, id, seedRoot, { corruptEvery: 1 }));
    const { events, onEvent } = collect();
    const outcome = await new DownloadManager().download({ gameId: GAME, gameDir, stateDir, manifest, sources, onEvent });
    expect(outcome.status).toBe('failed');
    const failedEvent = events.at(-1);
    expect(failedEvent?.type).toBe('game-download-failed');
    if (outcome.status === 'failed') expect(['NO_SOURCE', 'CHUNK_HASH_MISMATCH']).toContain(outcome.error.code);
    expect(outcome.sources.every((stats) => stats.dropped?.code === 'CHUNK_HASH_MISMATCH')).toBe(true);
    // Upstream: the old sentinel is not restored.
    for (const name of ['version.ini', '.version.ini.tmp', '.version.ini.discarded']) expect(await exists(path.join(root, name)), name).toBe(false);
  });

  it('takes sources added while running and survives one removed', async () => {
    const manager = new DownloadManager();
    const slow = new SeedSource('slow', 'slow', seedRoot, { delayMs: 15 });
    const late = new SeedSource('late', 'late', seedRoot, { delayMs: 1 });
    let added = false;
    const outcome = await manager.download({
      gameId: GAME,
      gameDir,
      stateDir,
      manifest,
      sources: [slow],
      onEvent: (event) => {
        if (event.type === 'game-download-begin') {
          setTimeout(() => {
            added = manager.addSource(GAME, late);
            manager.removeSource(GAME, 'slow');
          }, 30);
        }
      },
    });
    expect(added).toBe(true);
    expect(outcome.status).toBe('finished');
    await expectSameAsSeed();
    expect(outcome.sources.find((stats) => stats.peerId === 'late')!.chunks).toBeGreaterThan(0);
    expect(outcome.sources.find((stats) => stats.peerId === 'slow')!.dropped?.code).toBe('PEER_GONE');
  });

  it('stop() interrupts without the cancel cleanup: payload and journal stay for the next start', async () => {
    const manager = new DownloadManager({ journalFlushIntervalMs: 10, progressIntervalMs: 10 });
    const { events, onEvent } = collect();
    const run = manager.download({
      gameId: GAME,
      gameDir,
      stateDir,
      manifest,
      sources: [new SeedSource('a', 'a', seedRoot, { delayMs: 40 })],
      onEvent,
    });
    expect(manager.isRunning(GAME)).toBe(true);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        // More than version.ini (held in memory, never journaled): some payload chunk is verified.
        const sentinelBytes = manifest.files.find((file) => file.path === 'version.ini')?.size ?? 0;
        if (progressOf(events).some((sample) => sample.bytesDone > sentinelBytes)) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    await manager.stop();
    const outcome = await run;
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') expect(outcome.error.code).toBe('REQUEST_CANCELLED');
    expect(manager.isRunning(GAME)).toBe(false);
    expect(await exists(journalPath(stateDir, GAME))).toBe(true);
    expect(await exists(path.join(gameDir, GAME, 'game.part1.rar'))).toBe(true);
    expect(await exists(path.join(gameDir, GAME, 'version.ini'))).toBe(false);
  });

  it('refuses an untrusted manifest before touching the disk', async () => {
    const cases: Array<[GameManifest, string]> = [
      [{ ...manifest, files: [...manifest.files, { path: '../escape.rar', size: 0, chunkHashes: [] }] }, 'PATH_OUTSIDE_ROOT'],
      [{ ...manifest, files: [...manifest.files, { path: 'local/evil.exe', size: 0, chunkHashes: [] }] }, 'PATH_FORBIDDEN'],
      [{ ...manifest, files: [...manifest.files, { path: 'x.rar', size: 10, chunkHashes: [] }] }, 'MALFORMED_MESSAGE'],
      [{ ...manifest, files: manifest.files.filter((file) => file.path !== 'version.ini') }, 'MALFORMED_MESSAGE'],
      [{ ...manifest, gameId: 'other' }, 'MALFORMED_MESSAGE'],
    ];
    for (const [bad, code] of cases) {
      const { events, onEvent } = collect();
      const outcome = await new DownloadManager().download({ gameId: GAME, gameDir, stateDir, manifest: bad, sources: [new SeedSource('a', 'a', seedRoot)], onEvent });
      expect(outcome.status).toBe('failed');
      if (outcome.status === 'failed') expect(outcome.error.code).toBe(code);
      // Nothing was kept, so nothing will resume.
      expect(events).toEqual([{ type: 'game-download-failed', payload: { gameId: GAME, error: expect.objectContaining({ code }) } }]);
    }
    expect(await exists(path.join(gameDir, GAME))).toBe(false);
  });
});
