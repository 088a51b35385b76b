/**
 * The download engine: fetches one game version from any number of sources into a game root.
 *
 *   const manager = new DownloadManager({ progressIntervalMs: 250 });
 *   const outcome = await manager.download({ gameId, gameDir, stateDir, manifest, sources, signal, onEvent });
 *   manager.addSource(gameId, source);      // a peer with the same version appeared
 *   manager.removeSource(gameId, peerId);   // a peer was pruned
 *   manager.cancel(gameId);                 // same as aborting `signal`
 *   await manager.stop();                   // shutdown: interrupts downloads, keeps them resumable
 *
 * `download` emits game-download-begin, -progress (at most every progressIntervalMs), then
 * exactly one of -finished | -failed | -cancelled, and resolves with the same outcome; it never
 * rejects. Sources must all serve `manifest.version` (the caller selects them).
 *
 * On disk (see SentinelTransaction): an old version.ini is parked while the transfer runs;
 * version.ini is committed last, after every file was re-checked whole from disk (in batches
 * of verified chunks while the rest still arrive: WholeFileChecks). A failure
 * keeps the payload and the journal (`<stateDir>/games/<id>/download_journal.json`), so the
 * next download of the same manifest resumes; cancel and disk-full discard payload and journal.
 * local/ and install metadata are never touched.
 */
import { mkdir } from 'node:fs/promises';
import type { LauncherEvents } from '../../../shared/api';
import type { ErrorInfo } from '../../../shared/errors';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { GameManifest, PeerId } from '../../../shared/model';
import { joinInside } from '../fs/safe-path';
import { createChunkCopier, createChunkFetcher, createChunkStore } from './chunk-fetcher';
import type { SchedulerTuning, SourceStats } from './chunk-scheduler';
import { ChunkScheduler } from './chunk-scheduler';
import { findBadChunksOnDisk } from './disk-verify';
import type { FileCheck } from './whole-file-checks';
import { WholeFileChecks } from './whole-file-checks';
import type { DownloadPlan } from './download-plan';
import { buildDownloadPlan } from './download-plan';
import { ProgressTracker } from './progress-tracker';
import { ResumeJournal } from './resume-journal';
import { SentinelTransaction } from './sentinel-transaction';
import type { ShareableDownload } from '../swarm/partial-shares';
import type { ChunkSource, PlannedChunk } from './types';

export type DownloadEvent =
  | { type: 'game-download-begin'; payload: LauncherEvents['game-download-begin'] }
  | { type: 'game-download-progress'; payload: LauncherEvents['game-download-progress'] }
  | { type: 'game-download-finished'; payload: LauncherEvents['game-download-finished'] }
  | { type: 'game-download-failed'; payload: LauncherEvents['game-download-failed'] }
  | { type: 'game-download-cancelled'; payload: LauncherEvents['game-download-cancelled'] };

export interface DownloadRequest {
  gameId: string;
  /** The configured game directory; the game root is `<gameDir>/<gameId>`. */
  gameDir: string;
  stateDir: string;
  /** From peers: untrusted, validated before anything is written. */
  manifest: GameManifest;
  sources: ChunkSource[];
  /** Aborting cancels: the payload and the journal are discarded. */
  signal?: AbortSignal;
  /** Aborting interrupts (a pause): the download ends failed, keeping its journal and verified payload, as at stop(). */
  interrupt?: AbortSignal;
  onEvent?: (event: DownloadEvent) => void;
  tuning?: Partial<SchedulerTuning>;
  /**
   * Serves the verified part to other peers while the download runs: called once the payload
   * files exist, fed every chunk as it is verified on disk (resumed ones first), and ended
   * ('withdrawn') before a failed or cancelled download touches its payload. After a finished
   * download the share is left to the caller, which ends it once the game is served whole.
   */
  share?: (download: ShareableDownload) => DownloadShare;
  /** Payload bytes as they arrive from each source (before verification). */
  onReceived?: (peerId: PeerId, bytes: number) => void;
  /**
   * What the game root holds now (an update: the downloaded version's manifest, from the
   * library index). Its files that the new manifest lists unchanged (same path, size and chunk
   * hashes) are kept where they are, not fetched again: their chunks count as verified, and are
   * read back with every other byte before version.ini commits.
   */
  onDisk?: GameManifest | null;
}

/** The running download's side of a partial share (swarm/partial-shares.ts). */
export interface DownloadShare {
  markHave(chunkId: number): void;
  markFetching(chunkId: number): void;
  markAbandoned(chunkId: number): void;
  markMissing(chunkId: number): void;
  end(reason: 'withdrawn'): void;
}

export type DownloadOutcome =
  | { status: 'finished'; version: string; sources: SourceStats[] }
  | { status: 'failed'; error: ErrorInfo; sources: SourceStats[] }
  | { status: 'cancelled'; sources: SourceStats[] };

/** SHA-256s of byte ranges of a file, null where the file is too short (the library's worker-thread ChunkHasher). */
export interface RangeHasher {
  hashRanges(path: string, ranges: ReadonlyArray<{ offset: number; length: number }>): Promise<Array<string | null>>;
  /** Gets the worker ready ahead of use, so its start-up is not on the download's tail. */
  warmUp?(): void;
}

export interface DownloadManagerOptions {
  /** When given, reading chunks back from disk (whole-file checks, resume re-checks) hashes in a worker instead of on this thread. */
  hasher?: RangeHasher;
  progressIntervalMs?: number;
  journalFlushIntervalMs?: number;
  tuning?: Partial<SchedulerTuning>;
  now?: () => number;
  /** Where each download starts and how ties are broken (the scheduler's); tests pin it. */
  random?: () => number;
}

interface Running {
  scheduler: ChunkScheduler | null;
  /** Sources added before the scheduler exists. */
  pendingSources: ChunkSource[];
  cancel: AbortController;
  interrupt: AbortController;
}

export class DownloadManager {
  private readonly running = new Map<string, Running>();
  private readonly settled = new Set<Promise<DownloadOutcome>>();

  constructor(private readonly options: DownloadManagerOptions = {}) {}

  isRunning(gameId: string): boolean {
    return this.running.has(gameId);
  }

  /** Runs one download to its end. Rejects only with OPERATION_IN_PROGRESS for a game already downloading. */
  download(request: DownloadRequest): Promise<DownloadOutcome> {
    if (this.running.has(request.gameId)) {
      return Promise.reject(new LanspreadError('OPERATION_IN_PROGRESS', `${request.gameId} is already downloading`));
    }
    const entry: Running = { scheduler: null, pendingSources: [...request.sources], cancel: new AbortController(), interrupt: new AbortController() };
    this.running.set(request.gameId, entry);
    const onAbort = () => entry.cancel.abort();
    const onInterrupt = () => entry.interrupt.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    request.interrupt?.addEventListener('abort', onInterrupt, { once: true });
    if (request.signal?.aborted) entry.cancel.abort();
    if (request.interrupt?.aborted) entry.interrupt.abort();
    const work = this.execute(request, entry).finally(() => {
      request.signal?.removeEventListener('abort', onAbort);
      request.interrupt?.removeEventListener('abort', onInterrupt);
      this.running.delete(request.gameId);
      this.settled.delete(work);
    });
    this.settled.add(work);
    return work;
  }

  addSource(gameId: string, source: ChunkSource): boolean {
    const entry = this.running.get(gameId);
    if (!entry) return false;
    if (entry.scheduler) return entry.scheduler.addSource(source);
    if (entry.pendingSources.some((known) => known.peerId === source.peerId)) return false;
    entry.pendingSources.push(source);
    return true;
  }

  removeSource(gameId: string, peerId: PeerId): boolean {
    const entry = this.running.get(gameId);
    if (!entry) return false;
    if (entry.scheduler) return entry.scheduler.removeSource(peerId);
    const before = entry.pendingSources.length;
    entry.pendingSources = entry.pendingSources.filter((source) => source.peerId !== peerId);
    return entry.pendingSources.length < before;
  }

  cancel(gameId: string): boolean {
    const entry = this.running.get(gameId);
    if (!entry) return false;
    entry.cancel.abort();
    return true;
  }

  /** Interrupts every download without the cancel cleanup: each stays resumable from its journal. */
  async stop(): Promise<void> {
    for (const entry of this.running.values()) entry.interrupt.abort();
    await Promise.allSettled([...this.settled]);
  }

  private async execute(request: DownloadRequest, entry: Running): Promise<DownloadOutcome> {
    const { gameId, onEvent } = request;
    const emit = (event: DownloadEvent) => {
      try {
        onEvent?.(event);
      } catch {
        // A listener's bug must not break the transfer.
      }
    };
    let plan: DownloadPlan;
    let transaction: SentinelTransaction;
    try {
      if (request.manifest.gameId !== gameId) {
        throw new LanspreadError('MALFORMED_MESSAGE', `Manifest is for ${JSON.stringify(request.manifest.gameId)}, not ${JSON.stringify(gameId)}`);
      }
      plan = buildDownloadPlan(request.manifest, joinInside(request.gameDir, gameId));
      transaction = new SentinelTransaction(plan);
    } catch (error) {
      return failed(emit, gameId, toLanspreadError(error), []);
    }
    const journal = new ResumeJournal(plan, request.stateDir, this.options.journalFlushIntervalMs);
    const combined = AbortSignal.any([entry.cancel.signal, entry.interrupt.signal]);
    const diskCheck = this.diskCheck(plan, combined);
    const checks = new WholeFileChecks(plan, diskCheck);
    let begun = false;
    let tracker: ProgressTracker | null = null;
    let scheduler: ChunkScheduler | null = null;
    let share: DownloadShare | null = null;
    try {
      // Folder, then journal, then payload: a kill leaves nothing, or a journal the resumer takes
      // up (it skips a journal whose game folder is gone).
      await mkdir(plan.gameRoot, { recursive: true });
      await journal.create();
      begun = true;
      await transaction.begin();
      this.options.hasher?.warmUp?.();
      emit({ type: 'game-download-begin', payload: { gameId, version: plan.manifest.version, totalBytes: plan.totalBytes } });
      const alreadyVerified = await resumeFromJournal(plan, journal, diskCheck, combined);
      for (const chunk of unchangedChunks(plan, request.onDisk)) {
        if (alreadyVerified.has(chunk)) continue;
        alreadyVerified.add(chunk);
        // Journaled like a fetched chunk: an interrupted update resumes them (re-checked) instead
        // of fetching them, although the old version.ini that vouched for them is gone by then.
        journal.markVerified(chunk.fileIndex, chunk.chunkIndex);
      }
      share = request.share?.(shareable(plan, transaction)) ?? null;
      for (const chunk of alreadyVerified) {
        checks.verified(chunk);
        share?.markHave(chunk.id);
      }
      const alreadyBytes = sumLengths(alreadyVerified);
      const remaining = plan.chunks.filter((chunk) => !alreadyVerified.has(chunk));
      const progress = new ProgressTracker({
        gameId,
        totalBytes: plan.totalBytes,
        initialBytes: alreadyBytes,
        intervalMs: this.options.progressIntervalMs,
        now: this.options.now,
        emit: (payload) => emit({ type: 'game-download-progress', payload }),
        sources: () => scheduler?.sourceCounts() ?? { full: 0, partial: 0 },
      });
      tracker = progress;
      scheduler = new ChunkScheduler({
        chunks: remaining,
        fetch: createChunkFetcher(gameId, transaction),
        fetchCopy: createChunkCopier(gameId),
        store: createChunkStore(transaction),
        tuning: { ...this.options.tuning, ...request.tuning },
        now: this.options.now,
        ...(this.options.random ? { random: this.options.random } : {}),
        onBytes: (peerId, bytes) => {
          progress.received(peerId, bytes);
          request.onReceived?.(peerId, bytes);
        },
        onChunkVerified: (chunk) => {
          progress.verified(chunk.length);
          if (!transaction.isSentinel(chunk.fileIndex)) journal.markVerified(chunk.fileIndex, chunk.chunkIndex);
          checks.verified(chunk);
          share?.markHave(chunk.id);
        },
        onChunkTaken: (chunk) => share?.markFetching(chunk.id),
        onChunkReturned: (chunk) => share?.markAbandoned(chunk.id),
      });
      entry.scheduler = scheduler;
      for (const source of entry.pendingSources) scheduler.addSource(source);
      entry.pendingSources = [];
      progress.start();
      await scheduler.run(combined);
      // The flush to disk and the read-back check overlap: one waits on the disk, the other
      // on the CPU, and the commit after both finds the payload already durable.
      await allSettledOrThrow([this.verifyWholeFiles(checks, journal, share), transaction.syncPayload()]);
      await transaction.commit();
      await journal.delete();
      progress.sample();
      progress.stop();
      emit({ type: 'game-download-finished', payload: { gameId, version: plan.manifest.version } });
      return { status: 'finished', version: plan.manifest.version, sources: scheduler.stats() };
    } catch (thrown) {
      tracker?.stop();
      // Nobody is served a byte of a payload that is about to be discarded or left unfinished.
      share?.end('withdrawn');
      // Files read back early may still be open: nothing of this download touches the disk after it ends.
      await checks.settle();
      const error = toLanspreadError(thrown);
      const stats = scheduler?.stats() ?? [];
      // No journal, so nothing of this download is on disk either: nothing to sweep.
      if (!begun) return failed(emit, gameId, error, stats);
      if (entry.cancel.signal.aborted) {
        await transaction.discardPayload();
        await journal.delete();
        emit({ type: 'game-download-cancelled', payload: { gameId } });
        return { status: 'cancelled', sources: stats };
      }
      if (error.code === 'DISK_FULL') {
        await transaction.discardPayload();
        await journal.delete();
        return failed(emit, gameId, new LanspreadError('DISK_FULL', `The disk filled up during the download: ${gameId} needs ${plan.totalBytes} bytes; what was downloaded is removed`, { cause: error }), stats);
      }
      await journal.close();
      await transaction.fail();
      const reported = entry.interrupt.signal.aborted ? new LanspreadError('REQUEST_CANCELLED', 'Download interrupted; it resumes when started again') : error;
      // The journal and the verified payload stay: a later attempt fetches only the rest.
      return failed(emit, gameId, reported, stats, { resumes: true });
    } finally {
      entry.scheduler = null;
    }
  }

  /** Chunks of one file read back from disk: in the hash worker when there is one, so the main (Electron) thread never hashes gigabytes. */
  private diskCheck(plan: DownloadPlan, signal: AbortSignal): FileCheck {
    const hasher = this.options.hasher;
    return async (chunks) => {
      const first = chunks[0];
      if (!first) return [];
      const file = plan.targets[first.fileIndex] as string;
      if (!hasher) return findBadChunksOnDisk(file, chunks, signal);
      const ranges = chunks.map(({ offset, length }) => ({ offset, length }));
      const hashes = await hasher.hashRanges(file, ranges).catch(() => null);
      return chunks.filter((chunk, i) => hashes?.[i] !== chunk.hash);
    };
  }

  /** Every file checked whole from disk before the sentinel may say "downloaded". */
  private async verifyWholeFiles(checks: WholeFileChecks, journal: ResumeJournal, share: DownloadShare | null): Promise<void> {
    const bad = await checks.finish();
    if (bad.length === 0) return;
    // Forget them, so the next attempt fetches exactly these again (and nobody is served them meanwhile).
    for (const chunk of bad) {
      journal.markUnverified(chunk.fileIndex, chunk.chunkIndex);
      share?.markMissing(chunk.id);
    }
    const first = bad[0] as PlannedChunk;
    throw new LanspreadError('FILE_CRC_MISMATCH', `${bad.length} chunk(s) changed on disk after verification, first in ${JSON.stringify(first.path)} at ${first.offset}`);
  }
}

/** Chunks a previous run verified and whose bytes on disk still match (re-checked: cheap insurance). */
async function resumeFromJournal(plan: DownloadPlan, journal: ResumeJournal, check: FileCheck, signal: AbortSignal): Promise<Set<PlannedChunk>> {
  const recorded = await journal.load();
  if (recorded.length === 0) return new Set();
  const byKey = new Map(plan.chunks.map((chunk) => [`${chunk.fileIndex}:${chunk.chunkIndex}`, chunk]));
  const byFile = new Map<number, PlannedChunk[]>();
  for (const { fileIndex, chunkIndex } of recorded) {
    const chunk = byKey.get(`${fileIndex}:${chunkIndex}`);
    if (!chunk || chunk.fileIndex === plan.sentinelIndex) continue;
    const list = byFile.get(fileIndex) ?? [];
    list.push(chunk);
    byFile.set(fileIndex, list);
  }
  const good = new Set<PlannedChunk>();
  // File by file: one read-back in flight keeps memory at one file's read buffers.
  for (const chunks of byFile.values()) {
    if (signal.aborted) throw new LanspreadError('REQUEST_CANCELLED', 'Download cancelled');
    const bad = new Set(await check(chunks));
    for (const chunk of chunks) if (!bad.has(chunk)) good.add(chunk);
  }
  for (const chunk of good) journal.markVerified(chunk.fileIndex, chunk.chunkIndex);
  return good;
}

/**
 * Chunks of the plan's payload files that `onDisk` lists with the same path, size, chunk size and
 * chunk hashes: bytes the game root already holds (sentinel transaction's begin keeps a file of
 * unchanged size as it is). version.ini is never among them: the new one is always committed.
 */
function unchangedChunks(plan: DownloadPlan, onDisk: GameManifest | null | undefined): PlannedChunk[] {
  if (!onDisk || onDisk.gameId !== plan.manifest.gameId || onDisk.chunkSize !== plan.manifest.chunkSize) return [];
  const before = new Map(onDisk.files.map((file) => [file.path, file]));
  const unchanged = new Set<number>();
  plan.manifest.files.forEach((file, fileIndex) => {
    const old = before.get(file.path);
    if (fileIndex === plan.sentinelIndex || !old || old.size !== file.size || old.chunkHashes.length !== file.chunkHashes.length) return;
    if (file.chunkHashes.every((hash, index) => old.chunkHashes[index] === hash)) unchanged.add(fileIndex);
  });
  return plan.chunks.filter((chunk) => unchanged.has(chunk.fileIndex));
}

function shareable(plan: DownloadPlan, transaction: SentinelTransaction): ShareableDownload {
  return {
    gameId: plan.manifest.gameId,
    manifest: plan.manifest,
    manifestId: plan.manifestId,
    chunks: plan.chunks,
    targets: plan.targets,
    sentinelIndex: plan.sentinelIndex,
    sentinelBytes: () => transaction.sentinelBytes(),
  };
}

function failed(emit: (event: DownloadEvent) => void, gameId: string, error: LanspreadError, sources: SourceStats[], { resumes = false } = {}): DownloadOutcome {
  emit({ type: 'game-download-failed', payload: { gameId, error: error.toInfo(), ...(resumes ? { resumes } : {}) } });
  return { status: 'failed', error: error.toInfo(), sources };
}

/** Waits for every task to settle (none keeps running behind a failure), then throws the first error. */
async function allSettledOrThrow(tasks: Promise<unknown>[]): Promise<void> {
  for (const result of await Promise.allSettled(tasks)) if (result.status === 'rejected') throw result.reason;
}

function sumLengths(chunks: Iterable<PlannedChunk>): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total;
}
