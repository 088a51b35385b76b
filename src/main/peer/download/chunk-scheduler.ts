import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { PeerId } from '../../../shared/model';
import type { ChunkSource, PlannedChunk } from './types';
import { MAX_BAD_CHUNKS_PER_SOURCE, MAX_RETRY_COUNT } from './types';

/**
 * Fetches one chunk from one source, stores it and verifies it. Rejects with
 * CHUNK_HASH_MISMATCH for bad bytes, with the source's error when the source fails, and with a
 * `LocalFailure` when the fault is ours (disk full): that one ends the download at once.
 */
export type ChunkFetcher = (source: ChunkSource, chunk: PlannedChunk, signal: AbortSignal, onBytes: (bytes: number) => void) => Promise<void>;

/** A failure on this machine (e.g. the disk): no other source can help. */
export class LocalFailure extends Error {
  constructor(readonly error: LanspreadError) {
    super(error.message);
    this.name = 'LocalFailure';
  }
}

export interface SchedulerTuning {
  /** Requests in flight per source; a free slot pulls the next chunk, so faster sources take more. */
  inFlightPerSource: number;
  /** Tries per chunk after the first, across sources. */
  maxRetryCount: number;
  /** A source with requests outstanding that sends nothing for this long is dropped. */
  stallTimeoutMs: number;
  /** A source below this fraction of the fastest source's rate... */
  slowRatio: number;
  /** ...for this long, while work is waiting, is dropped. */
  slowSustainMs: number;
  /** How often stalls and rates are checked. */
  tickMs: number;
  /** With no source left, how long to wait for one to be added before failing with NO_SOURCE. */
  noSourceGraceMs: number;
}

export const DEFAULT_TUNING: SchedulerTuning = {
  inFlightPerSource: 4,
  maxRetryCount: MAX_RETRY_COUNT,
  stallTimeoutMs: 30_000,
  slowRatio: 0.1,
  slowSustainMs: 15_000,
  tickMs: 500,
  noSourceGraceMs: 0,
};

export interface SchedulerOptions {
  chunks: readonly PlannedChunk[];
  fetch: ChunkFetcher;
  onChunkVerified?: (chunk: PlannedChunk, source: ChunkSource) => void;
  onBytes?: (peerId: PeerId, bytes: number) => void;
  onSourceDropped?: (peerId: PeerId, reason: LanspreadError) => void;
  tuning?: Partial<SchedulerTuning>;
  now?: () => number;
}

export interface SourceStats {
  peerId: PeerId;
  name: string;
  chunks: number;
  bytes: number;
  badChunks: number;
  /** Why the source was dropped, if it was. */
  dropped: LanspreadError | null;
}

interface ChunkState {
  chunk: PlannedChunk;
  failures: number;
  failedBy: Set<PeerId>;
  lastError: LanspreadError | null;
}

interface SourceState {
  source: ChunkSource;
  stats: SourceStats;
  alive: boolean;
  attempts: Set<Attempt>;
  lastProgressAt: number;
  bytesAtLastTick: number;
  rate: number | null;
  slowSince: number | null;
}

interface Attempt {
  chunk: ChunkState;
  controller: AbortController;
  /** Why we aborted it: 'dropped' = not the chunk's fault, 'stalled' = counts as a failure. */
  abortedBecause: 'dropped' | 'stalled' | 'stopped' | null;
}

const RATE_SMOOTHING = 0.3;

/**
 * One chunk queue shared by one puller per source. Each source keeps `inFlightPerSource`
 * requests outstanding and pulls the next chunk whenever one completes, so work flows to the
 * fastest sources without a plan made up front. A failing, stalled or persistently slow source
 * is dropped and its chunks go back to the queue; a retried chunk prefers a source that has not
 * failed it. The run fails only when a chunk exhausted its retries, no source is left, or the
 * fault is local; it settles only after every request has settled, so no write is pending.
 */
export class ChunkScheduler {
  private readonly tuning: SchedulerTuning;
  private readonly now: () => number;
  private readonly fresh: ChunkState[];
  private freshHead = 0;
  private readonly retry: ChunkState[] = [];
  private readonly sources = new Map<PeerId, SourceState>();
  private readonly allStats: SourceStats[] = [];
  private readonly banned = new Set<PeerId>();
  private readonly total: number;
  private done = 0;
  private inFlight = 0;
  private running = false;
  /** undefined while running; null = success; an error = failure. */
  private outcome: LanspreadError | null | undefined = undefined;
  private settle: ((error: LanspreadError | null) => void) | null = null;
  private ticker: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private lastCause: LanspreadError | null = null;

  constructor(private readonly options: SchedulerOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.now = options.now ?? (() => performance.now());
    this.fresh = options.chunks.map((chunk) => ({ chunk, failures: 0, failedBy: new Set(), lastError: null }));
    this.total = this.fresh.length;
  }

  /** Adds a source (a peer appeared). A source dropped for bad chunks stays out. */
  addSource(source: ChunkSource): boolean {
    if (this.banned.has(source.peerId) || this.sources.get(source.peerId)?.alive) return false;
    if (this.outcome !== undefined) return false;
    const at = this.now();
    const stats: SourceStats = { peerId: source.peerId, name: source.name, chunks: 0, bytes: 0, badChunks: 0, dropped: null };
    this.allStats.push(stats);
    this.sources.set(source.peerId, { source, stats, alive: true, attempts: new Set(), lastProgressAt: at, bytesAtLastTick: 0, rate: null, slowSince: null });
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.pump();
    return true;
  }

  /** Removes a source (peer pruned); its chunks go back to the queue without counting as failures. */
  removeSource(peerId: PeerId): boolean {
    const state = this.sources.get(peerId);
    if (!state?.alive) return false;
    this.drop(state, new LanspreadError('PEER_GONE', `Source ${state.source.name} was removed`));
    return true;
  }

  /** Per source, including dropped ones, in the order they were added. */
  stats(): SourceStats[] {
    return this.allStats.map((stats) => ({ ...stats }));
  }

  get activeSources(): number {
    let count = 0;
    for (const state of this.sources.values()) if (state.alive) count += 1;
    return count;
  }

  /** Resolves when every chunk is verified; rejects with a coded error otherwise. Call once. */
  run(signal: AbortSignal): Promise<void> {
    if (this.running) return Promise.reject(new LanspreadError('INTERNAL', 'Scheduler already ran'));
    this.running = true;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => this.finish(new LanspreadError('REQUEST_CANCELLED', 'Download cancelled'));
      this.settle = (error) => {
        signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.total === 0) return this.finish(null);
      this.ticker = setInterval(() => this.tick(), this.tuning.tickMs);
      this.pump();
      this.checkSourcesLeft();
    });
  }

  private pump(): void {
    if (!this.running || this.outcome !== undefined) return;
    for (const state of this.sources.values()) {
      while (state.alive && state.attempts.size < this.tuning.inFlightPerSource) {
        const next = this.pick(state);
        if (!next) break;
        void this.runAttempt(state, next);
      }
    }
  }

  private pick(state: SourceState): ChunkState | null {
    const peerId = state.source.peerId;
    const preferred = this.retry.findIndex((entry) => !entry.failedBy.has(peerId));
    if (preferred >= 0) return this.retry.splice(preferred, 1)[0] ?? null;
    if (this.freshHead < this.fresh.length) {
      const entry = this.fresh[this.freshHead] as ChunkState;
      this.freshHead += 1;
      return entry;
    }
    // Every waiting retry failed on this source: take one only if no other live source could try it.
    const fallback = this.retry.findIndex((entry) => !this.someOtherCouldTry(entry, state));
    return fallback >= 0 ? (this.retry.splice(fallback, 1)[0] ?? null) : null;
  }

  private someOtherCouldTry(entry: ChunkState, except: SourceState): boolean {
    for (const other of this.sources.values()) {
      if (other !== except && other.alive && !entry.failedBy.has(other.source.peerId)) return true;
    }
    return false;
  }

  private async runAttempt(state: SourceState, entry: ChunkState): Promise<void> {
    const attempt: Attempt = { chunk: entry, controller: new AbortController(), abortedBecause: null };
    if (state.attempts.size === 0) state.lastProgressAt = this.now();
    state.attempts.add(attempt);
    this.inFlight += 1;
    let failure: unknown = null;
    try {
      await this.options.fetch(state.source, entry.chunk, attempt.controller.signal, (bytes) => {
        state.stats.bytes += bytes;
        state.lastProgressAt = this.now();
        this.options.onBytes?.(state.source.peerId, bytes);
      });
    } catch (error) {
      failure = error ?? new Error('unknown failure');
    }
    state.attempts.delete(attempt);
    this.inFlight -= 1;
    this.settleAttempt(state, attempt, failure);
    this.pump();
    this.checkSettled();
  }

  private settleAttempt(state: SourceState, attempt: Attempt, failure: unknown): void {
    const entry = attempt.chunk;
    if (failure === null) {
      this.done += 1;
      state.stats.chunks += 1;
      this.options.onChunkVerified?.(entry.chunk, state.source);
      if (this.done === this.total) this.finish(null);
      return;
    }
    if (this.outcome !== undefined) return;
    if (failure instanceof LocalFailure) return this.finish(failure.error);
    if (attempt.abortedBecause === 'dropped') {
      this.retry.push(entry);
      return;
    }
    const error =
      attempt.abortedBecause === 'stalled'
        ? new LanspreadError('REQUEST_TIMEOUT', `Source ${state.source.name} sent nothing for ${this.tuning.stallTimeoutMs} ms`)
        : toLanspreadError(failure);
    entry.failures += 1;
    entry.failedBy.add(state.source.peerId);
    entry.lastError = error;
    this.lastCause = error;
    this.retry.push(entry);
    if (error.code === 'CHUNK_HASH_MISMATCH') {
      state.stats.badChunks += 1;
      if (state.stats.badChunks >= MAX_BAD_CHUNKS_PER_SOURCE) {
        this.banned.add(state.source.peerId);
        this.drop(state, new LanspreadError('CHUNK_HASH_MISMATCH', `Source ${state.source.name} sent ${state.stats.badChunks} bad chunks`));
      }
    } else {
      this.drop(state, error);
    }
    if (entry.failures > this.tuning.maxRetryCount) {
      const { path, offset } = entry.chunk;
      this.finish(new LanspreadError(error.code, `Chunk at ${offset} of ${JSON.stringify(path)} failed ${entry.failures} times: ${error.message}`, { cause: error }));
    }
  }

  private drop(state: SourceState, reason: LanspreadError): void {
    if (!state.alive) return;
    state.alive = false;
    state.stats.dropped = reason;
    for (const attempt of state.attempts) {
      attempt.abortedBecause ??= 'dropped';
      attempt.controller.abort(reason);
    }
    this.options.onSourceDropped?.(state.source.peerId, reason);
    this.checkSourcesLeft();
  }

  private checkSourcesLeft(): void {
    if (!this.running || this.outcome !== undefined || this.activeSources > 0 || this.graceTimer) return;
    const fail = () => {
      this.graceTimer = undefined;
      if (this.activeSources > 0) return;
      const cause = this.lastCause ? `: last error ${this.lastCause.code}: ${this.lastCause.message}` : '';
      this.finish(new LanspreadError('NO_SOURCE', `No source can deliver the remaining chunks${cause}`, { cause: this.lastCause ?? undefined }));
    };
    if (this.tuning.noSourceGraceMs <= 0) return fail();
    this.graceTimer = setTimeout(fail, this.tuning.noSourceGraceMs);
  }

  private tick(): void {
    if (this.outcome !== undefined) return;
    const at = this.now();
    const alive = [...this.sources.values()].filter((state) => state.alive);
    for (const state of alive) {
      const sent = state.stats.bytes - state.bytesAtLastTick;
      state.bytesAtLastTick = state.stats.bytes;
      const rate = (sent * 1000) / this.tuning.tickMs;
      state.rate = state.rate === null ? rate : state.rate + RATE_SMOOTHING * (rate - state.rate);
      if (state.attempts.size > 0 && at - state.lastProgressAt > this.tuning.stallTimeoutMs) {
        for (const attempt of state.attempts) attempt.abortedBecause = 'stalled';
        this.drop(state, new LanspreadError('REQUEST_TIMEOUT', `Source ${state.source.name} stalled`));
      }
    }
    this.dropSlowSources(at, alive.filter((state) => state.alive));
  }

  private dropSlowSources(at: number, alive: SourceState[]): void {
    const waiting = this.retry.length > 0 || this.freshHead < this.fresh.length;
    const best = Math.max(0, ...alive.map((state) => state.rate ?? 0));
    for (const state of alive) {
      const slow = waiting && alive.length > 1 && best > 0 && (state.rate ?? 0) < best * this.tuning.slowRatio;
      if (!slow) {
        state.slowSince = null;
        continue;
      }
      state.slowSince ??= at;
      if (at - state.slowSince >= this.tuning.slowSustainMs && this.activeSources > 1) {
        this.drop(state, new LanspreadError('REQUEST_TIMEOUT', `Source ${state.source.name} is far slower than the others`));
      }
    }
  }

  private finish(error: LanspreadError | null): void {
    if (this.outcome !== undefined) return;
    this.outcome = error;
    for (const state of this.sources.values()) {
      for (const attempt of state.attempts) {
        attempt.abortedBecause ??= 'stopped';
        attempt.controller.abort(error ?? undefined);
      }
    }
    this.checkSettled();
  }

  private checkSettled(): void {
    if (this.outcome === undefined || this.inFlight > 0 || !this.settle) return;
    if (this.ticker) clearInterval(this.ticker);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.ticker = undefined;
    this.graceTimer = undefined;
    const settle = this.settle;
    this.settle = null;
    settle(this.outcome);
  }
}
