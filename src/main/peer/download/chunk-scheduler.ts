import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { ErrorCode } from '../../../shared/errors';
import type { PeerId } from '../../../shared/model';
import type { AvailabilityChange, ChunkSource, PlannedChunk } from './types';
import { MAX_BAD_CHUNKS_PER_SOURCE, MAX_RETRY_COUNT } from './types';

/**
 * Fetches one chunk from one source, stores it and verifies it. Rejects with
 * CHUNK_HASH_MISMATCH for bad bytes, with the source's error when the source fails, and with a
 * `LocalFailure` when the fault is ours (disk full): that one ends the download at once.
 */
export type ChunkFetcher = (source: ChunkSource, chunk: PlannedChunk, signal: AbortSignal, onBytes: (bytes: number) => void) => Promise<void>;

/** Endgame: fetches a chunk into memory and checks it, writing nothing (another request of it may be writing). */
export type ChunkCopier = (source: ChunkSource, chunk: PlannedChunk, signal: AbortSignal, onBytes: (bytes: number) => void) => Promise<Uint8Array>;

/** A failure on this machine (e.g. the disk): no other source can help. */
export class LocalFailure extends Error {
  constructor(readonly error: LanspreadError) {
    super(error.message);
    this.name = 'LocalFailure';
  }
}

export interface SchedulerTuning {
  /**
   * Requests in flight per source, at most; a free slot pulls the next chunk, so faster sources
   * take more. Within that, as many as make `inFlightBytesPerSource`, and of those as many as
   * the source delivers in `inFlightSeconds` (once its rate is known) plus one, at least two.
   */
  inFlightPerSource: number;
  /**
   * Bytes in flight per source, at most: 4 MiB keeps a fast link busy while each request waits
   * on the server's disk read (at 1 Gbit/s four 256 KiB chunks were 8 ms of wire, and a single
   * link ran at 0.88 of curl's speed instead of 0.96).
   */
  inFlightBytesPerSource: number;
  /**
   * A source gets about this much of its own rate in flight. Few requests to a slow or busy
   * source: each one waiting in its queue holds a chunk no faster source may take (in a flash
   * crowd of 8, 16 requests per source spread the players' finishing times over 4 s, by rate over 1 s).
   */
  inFlightSeconds: number;
  /** Tries per chunk after the first, across sources (bad bytes and definite refusals count; a busy or unreachable source does not). */
  maxRetryCount: number;
  /** A source with requests outstanding that sends nothing for this long rests. */
  stallTimeoutMs: number;
  /** A source below this fraction of the fastest source's rate... */
  slowRatio: number;
  /** ...for this long, while work is waiting, rests. */
  slowSustainMs: number;
  /** How often stalls, rates and rests are checked. */
  tickMs: number;
  /** With no source left at all (every one removed or dropped), how long to wait for one to be added before failing with NO_SOURCE. */
  noSourceGraceMs: number;
  /**
   * With sources known but none able to deliver a needed chunk (all resting after connect
   * failures or timeouts, or holding none of what is missing), how long to keep trying before
   * failing with NO_SOURCE. A busy seed in a crowd is waited for, not given up on.
   */
  unreachableGraceMs: number;
  /** First rest of a source after a transport failure; doubles with each failure in a row. */
  restMs: number;
  maxRestMs: number;
}

export const DEFAULT_TUNING: SchedulerTuning = {
  inFlightPerSource: 16,
  inFlightBytesPerSource: 4 * 1024 * 1024,
  inFlightSeconds: 0.05,
  maxRetryCount: MAX_RETRY_COUNT,
  stallTimeoutMs: 30_000,
  slowRatio: 0.1,
  slowSustainMs: 15_000,
  tickMs: 500,
  noSourceGraceMs: 0,
  unreachableGraceMs: 180_000,
  restMs: 1_000,
  maxRestMs: 30_000,
};

export interface SchedulerOptions {
  chunks: readonly PlannedChunk[];
  fetch: ChunkFetcher;
  /**
   * Endgame, when both are given: once every chunk left is being fetched, a source with a free
   * slot fetches a copy of one that another source has been slow to deliver; whichever verifies
   * first wins. A copy is written (`store`, rejecting with LocalFailure) only after the other
   * request was stopped and its writes ended, so two requests never write one region at once.
   */
  fetchCopy?: ChunkCopier;
  store?: (chunk: PlannedChunk, bytes: Uint8Array) => Promise<void>;
  onChunkVerified?: (chunk: PlannedChunk, source: ChunkSource) => void;
  /** A chunk was handed to a source, and (without being verified) back to the queue: the download tells the room what it is fetching. */
  onChunkTaken?: (chunk: PlannedChunk) => void;
  onChunkReturned?: (chunk: PlannedChunk) => void;
  onBytes?: (peerId: PeerId, bytes: number) => void;
  onSourceDropped?: (peerId: PeerId, reason: LanspreadError) => void;
  tuning?: Partial<SchedulerTuning>;
  now?: () => number;
  /** Tie-breaks among equally rare chunks; injectable so tests can be exact. */
  random?: () => number;
}

export interface SourceStats {
  peerId: PeerId;
  name: string;
  chunks: number;
  bytes: number;
  badChunks: number;
  /** Holds only part of the game (a downloader itself) when added. */
  partial: boolean;
  /** Times the source was rested (busy, unreachable, stalled, slow) and tried again later. */
  rests: number;
  /** The source's last failure, rested or not. */
  lastError: LanspreadError | null;
  /** Why the source was dropped for good, if it was (removed, bad chunks, a definite refusal). */
  dropped: LanspreadError | null;
}

/** Errors that say the source is busy, gone for now or unreachable, and nothing about the chunk. */
const TRANSPORT_CODES: ReadonlySet<ErrorCode> = new Set(['PEER_UNREACHABLE', 'PEER_GONE', 'PEER_BUSY', 'REQUEST_TIMEOUT', 'PEER_FINGERPRINT_MISMATCH']);
const BAD_BYTES_CODES: ReadonlySet<ErrorCode> = new Set(['CHUNK_HASH_MISMATCH', 'CHUNK_CRC_MISMATCH']);
/**
 * After a full source refused a repeat, it is asked only for chunks no partial source holds for
 * this long. Short: a source refuses repeats only until the room holds what it has (see
 * DataLaneServer's super-seeding), and then serves them again; a 10 s memory left the seed
 * idle through the last seconds of a flash crowd.
 */
const SUPER_SEEDING_MEMORY_MS = 2_000;
/** A chunk a partial source turned out not to hold is asked of it again no sooner than this. */
const NOT_AVAILABLE_RETRY_MS = 1_000;
/**
 * "Not set" for the time fields below: earlier than any time, so no rest, no retry-after and
 * no super-seeding is in force. A double, not 0: V8 gives a field the representation of its
 * first value, and a small integer field that later takes a time (a fraction of a
 * millisecond) deprecates the object's shape; that deoptimized pick, pump and inFlightFor in
 * the middle of a download, and V8 compiled them again (`--trace-deopt` of a crowd's player).
 */
const NO_TIME = Number.NEGATIVE_INFINITY;

interface ChunkState {
  chunk: PlannedChunk;
  status: 'pending' | 'active' | 'done';
  failures: number;
  failedBy: Set<PeerId>;
  lastError: LanspreadError | null;
  /** Live partial sources that hold it (full sources hold everything). */
  holders: number;
  /** Live partial sources fetching it right now: they will likely hold it soon, so it counts as almost held. */
  coming: number;
  /** Not asked again before this time (a partial source had not got it yet); NO_TIME if never refused. */
  notBefore: number;
  /** Requests of it in flight: one, or two in the endgame. */
  attempts: Set<Attempt>;
  /** When its current first request started (NO_TIME before the first). */
  startedAt: number;
}

interface SourceState {
  source: ChunkSource;
  stats: SourceStats;
  alive: boolean;
  /** Holds every chunk: no availability, or its availability said it completed. */
  full: boolean;
  attempts: Set<Attempt>;
  lastProgressAt: number;
  bytesAtLastTick: number;
  /** Bytes per second, smoothed; NaN until measured (a double from the start, see NO_TIME). */
  rate: number;
  /** Far slower than the fastest source since then; NO_TIME while it is not. */
  slowSince: number;
  /** Resting until then (a transport failure); NO_TIME = never rested. */
  restUntil: number;
  failuresInARow: number;
  /** A full source refused to repeat a chunk another peer got from it (super-seeding): until then it is asked only for chunks no partial source holds or is fetching. */
  superSeedingUntil: number;
  unsubscribe: (() => void) | null;
  /**
   * `pick` found nothing to ask of this source at its last scan of every chunk. Until that
   * changes, only the chunks in `fresh` can have become askable of it, and `pick` looks at
   * those instead of every chunk. In a flash crowd of 8, pump ran about 1,000 times per player
   * and three picks in four found nothing, each after a scan of all 400 chunks (256 KiB each).
   */
  empty: boolean;
  /** ...until this time, when a chunk kept back by a time limit (notBefore, super-seeding) becomes askable. */
  emptyUntil: number;
  /** While `empty`: chunks that may have become askable of it since (it got them, or they went back to the queue). */
  fresh: ChunkState[];
}

interface Attempt {
  chunk: ChunkState;
  controller: AbortController;
  /** Why we aborted it: 'dropped' = not the chunk's fault, 'rested' = the source's trouble, 'stopped' = the run ended, 'superseded' = another request of the chunk won. */
  abortedBecause: 'dropped' | 'rested' | 'stopped' | 'superseded' | null;
  /** An endgame copy (fetched into memory). */
  copy: boolean;
  /** Settles once the request and all its writes have ended. */
  finished: Promise<void>;
}

const RATE_SMOOTHING = 0.3;
/** Pending chunks ahead of the cursor among which equally rare picks are drawn. */
const PICK_WINDOW = 16;
/** A chunk is copied in the endgame only after its request has run this long (most finish sooner). */
const ENDGAME_AFTER_MS = 250;
/** Largest chunk copied into memory in the endgame (the lane's own limit). */
const ENDGAME_MAX_CHUNK = 16 * 1024 * 1024;

/**
 * Hands chunks to sources, one puller per source with `inFlightPerSource` requests
 * outstanding: each finished request pulls the next chunk, so work flows to the fastest
 * sources without a plan made up front.
 *
 * Sources are full (they hold the whole game) or partial (downloaders themselves, holding what
 * their have-map says, growing as they go). A source is given the rarest chunk it holds among
 * those nobody is fetching, random among equally rare ones: pieces that only the seed has go
 * first, so what the seed uploads is mostly new to the room and is then passed on between
 * downloaders (BitTorrent's rarest-first; with partial sources counted, a full seed facing a
 * crowd hands out pieces nobody has yet before repeating one).
 *
 * A busy, unreachable, stalled or persistently slow source rests (1 s, doubling to 30 s) and is
 * tried again; its chunks go back to the queue without counting against them. Bad bytes count
 * against the chunk and, three times, ban the source; a definite refusal (file not found, game
 * not served) drops it. The run fails when a chunk exhausted its retries, the fault is local,
 * no source is left for `noSourceGraceMs`, or none could deliver a needed chunk for
 * `unreachableGraceMs`. It settles only after every request settled, so no write is pending.
 */
export class ChunkScheduler {
  private readonly tuning: SchedulerTuning;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly states = new Map<number, ChunkState>();
  /** Every chunk in plan order (files in order, offsets ascending). */
  private readonly order: ChunkState[] = [];
  /** Where this download starts in `order` (random: downloaders of one seed start in different places), then where it has got to. */
  private cursor = 0;
  private pendingCount = 0;
  private readonly sources = new Map<PeerId, SourceState>();
  private readonly allStats: SourceStats[] = [];
  private readonly banned = new Set<PeerId>();
  private readonly total: number;
  /** Requests in flight per source at most (SchedulerTuning.inFlightPerSource and inFlightBytesPerSource). */
  private readonly inFlightLimit: number;
  /** The largest chunk of the plan. */
  private readonly largestChunk: number;
  /** Live full sources: each holds every chunk, so they add to every chunk's rarity alike. */
  private fullAlive = 0;
  private done = 0;
  private inFlight = 0;
  private running = false;
  /** undefined while running; null = success; an error = failure. */
  private outcome: LanspreadError | null | undefined = undefined;
  private settle: ((error: LanspreadError | null) => void) | null = null;
  private ticker: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  /** Last time any source delivered bytes (or a source was added): the unreachable grace counts from here. */
  private lastDeliveryAt = 0;
  private lastCause: LanspreadError | null = null;

  constructor(private readonly options: SchedulerOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    for (const chunk of options.chunks) {
      const state: ChunkState = { chunk, status: 'pending', failures: 0, failedBy: new Set(), lastError: null, holders: 0, coming: 0, notBefore: NO_TIME, attempts: new Set(), startedAt: NO_TIME };
      this.states.set(chunk.id, state);
      this.order.push(state);
    }
    this.total = this.states.size;
    this.largestChunk = options.chunks.reduce((most, chunk) => Math.max(most, chunk.length), 1);
    this.inFlightLimit = Math.max(1, Math.min(this.tuning.inFlightPerSource, Math.ceil(this.tuning.inFlightBytesPerSource / this.largestChunk)));
    this.pendingCount = this.total;
    this.cursor = Math.floor(this.random() * this.total);
  }

  /** Adds a source (a peer appeared). A source banned for bad chunks stays out. */
  addSource(source: ChunkSource): boolean {
    if (this.banned.has(source.peerId) || this.sources.get(source.peerId)?.alive) return false;
    if (this.outcome !== undefined) return false;
    const at = this.now();
    const availability = source.availability;
    const stats: SourceStats = { peerId: source.peerId, name: source.name, chunks: 0, bytes: 0, badChunks: 0, partial: availability !== undefined, rests: 0, lastError: null, dropped: null };
    this.allStats.push(stats);
    const state: SourceState = {
      source,
      stats,
      alive: true,
      full: availability === undefined,
      attempts: new Set(),
      lastProgressAt: at,
      bytesAtLastTick: 0,
      rate: Number.NaN,
      slowSince: NO_TIME,
      restUntil: NO_TIME,
      failuresInARow: 0,
      superSeedingUntil: NO_TIME,
      unsubscribe: null,
      empty: false,
      emptyUntil: NO_TIME,
      fresh: [],
    };
    this.sources.set(source.peerId, state);
    if (state.full) this.fullAlive++;
    else {
      for (const chunk of this.states.values()) {
        if (availability?.has(chunk.chunk.id)) chunk.holders++;
        else if (availability?.isFetching(chunk.chunk.id)) chunk.coming++;
      }
      state.unsubscribe = availability?.onChange((change) => this.availabilityChanged(state, change)) ?? null;
    }
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.lastDeliveryAt = at;
    this.pump();
    return true;
  }

  /** Removes a source (peer pruned, partial peer withdrew); its chunks go back to the queue without counting as failures. */
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

  /** Live sources that hold the whole game, and those that hold part of it. */
  sourceCounts(): { full: number; partial: number } {
    let partial = 0;
    for (const state of this.sources.values()) if (state.alive && !state.full) partial++;
    return { full: this.fullAlive, partial };
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
      this.lastDeliveryAt = this.now();
      this.ticker = setInterval(() => this.tick(), this.tuning.tickMs);
      this.pump();
    });
  }

  private availabilityChanged(state: SourceState, change: AvailabilityChange | 'all'): void {
    if (!state.alive || state.full) return;
    if (change === 'all') {
      // It finished: from now on it counts like any full source.
      this.forgetPartial(state);
      state.full = true;
      this.fullAlive++;
      this.rescanAll();
    } else {
      const count = (ids: readonly number[] | undefined, field: 'holders' | 'coming', by: number) => {
        for (const id of ids ?? []) {
          const chunk = this.states.get(id);
          if (chunk) chunk[field] = Math.max(0, chunk[field] + by);
        }
      };
      count(change.have, 'holders', 1);
      count(change.fetching, 'coming', 1);
      count(change.unfetched, 'coming', -1);
      this.offerIds(state, change.have);
      // A chunk nobody holds or fetches any more may be asked of a full source that only takes such chunks.
      if (change.unfetched) for (const other of this.sources.values()) if (other.full) this.offerIds(other, change.unfetched);
    }
    this.pump();
  }

  /** Takes a partial source's holdings and fetches out of the chunks' counts (it left, or became full). */
  private forgetPartial(state: SourceState): void {
    const availability = state.source.availability;
    if (!availability) return;
    for (const chunk of this.states.values()) {
      if (chunk.holders > 0 && availability.has(chunk.chunk.id)) chunk.holders--;
      else if (chunk.coming > 0 && availability.isFetching(chunk.chunk.id)) chunk.coming--;
    }
  }

  /** What may have become askable of a source known to have nothing to give (see SourceState.empty). */
  private offerIds(state: SourceState, ids: readonly number[] | undefined): void {
    if (!state.empty || !ids) return;
    for (const id of ids) {
      const chunk = this.states.get(id);
      if (chunk) state.fresh.push(chunk);
    }
  }

  /** Every source scans every chunk at its next pick (a source left: what it failed or held counts differently now). */
  private rescanAll(): void {
    for (const state of this.sources.values()) {
      state.empty = false;
      state.fresh.length = 0;
    }
  }

  private holds(state: SourceState, chunk: ChunkState): boolean {
    return state.full || (state.source.availability?.has(chunk.chunk.id) ?? false);
  }

  private pump(): void {
    if (!this.running || this.outcome !== undefined) return;
    const at = this.now();
    for (const state of this.sources.values()) {
      if (!state.alive || state.restUntil > at) continue;
      const limit = this.inFlightFor(state);
      while (state.attempts.size < limit) {
        const next = this.pick(state, at);
        if (next) {
          void this.runAttempt(state, next, false);
          continue;
        }
        const copy = this.pickEndgame(state, at);
        if (!copy) break;
        void this.runAttempt(state, copy, true);
      }
    }
    this.checkStarved(at);
  }

  /** Requests this source may have in flight: by its rate once known (SchedulerTuning.inFlightSeconds), within the limit. */
  private inFlightFor(state: SourceState): number {
    const initial = Math.min(4, this.inFlightLimit);
    if (Number.isNaN(state.rate)) return initial;
    const byRate = Math.ceil((state.rate * this.tuning.inFlightSeconds) / this.largestChunk) + 1;
    return Math.min(this.inFlightLimit, Math.max(Math.min(2, this.inFlightLimit), byRate));
  }

  /**
   * The rarest pending chunk this source holds. Among equally rare ones the download goes
   * mostly in order from its random starting point: a random pick within the next
   * PICK_WINDOW pending chunks, so files still complete one after another (each is checked
   * from disk while later ones arrive) while two downloaders that started close together
   * seldom ask a seed for the same chunk at once. The scan stops at the first chunk as rare
   * as any chunk of this source can be.
   */
  private pick(state: SourceState, at: number): ChunkState | null {
    if (this.pendingCount === 0) return null;
    // Nothing was askable of it at its last scan: only what it got since may be now.
    const onlyFresh = state.empty && at < state.emptyUntil;
    if (onlyFresh && state.fresh.length === 0) return null;
    const count = this.order.length;
    while ((this.order[this.cursor] as ChunkState).status !== 'pending') this.cursor = (this.cursor + 1) % count;
    const floor = state.full ? this.fullAlive : this.fullAlive + 1;
    const onlyUnheld = state.full && state.superSeedingUntil > at;
    const start = onlyFresh ? 0 : this.cursor + Math.floor(this.random() * Math.min(PICK_WINDOW, this.pendingCount));
    const steps = onlyFresh ? state.fresh.length : count;
    let best: ChunkState | null = null;
    let bestRarity = Infinity;
    // With nothing found, the earliest time limit that kept a chunk back: the scan's answer holds until then.
    let until = onlyUnheld ? state.superSeedingUntil : Infinity;
    for (let step = 0; step < steps; step++) {
      const entry = (onlyFresh ? state.fresh[step] : this.order[(start + step) % count]) as ChunkState;
      if (entry.status !== 'pending') continue;
      if (entry.notBefore > at) {
        until = Math.min(until, entry.notBefore);
        continue;
      }
      if (!this.holds(state, entry) || (onlyUnheld && entry.holders + entry.coming > 0)) continue;
      // A chunk this source already failed goes to another source while one could take it.
      if (entry.failedBy.has(state.source.peerId) && this.someOtherCouldTry(entry, state)) continue;
      const rarity = this.fullAlive + entry.holders + entry.coming;
      if (rarity < bestRarity) {
        best = entry;
        bestRarity = rarity;
        if (rarity <= floor) break;
      }
    }
    state.fresh.length = 0;
    if (best) {
      this.take(best);
      state.empty = false;
    } else {
      state.emptyUntil = onlyFresh ? Math.min(state.emptyUntil, until) : until;
      state.empty = true;
    }
    return best;
  }

  /** The chunk another source has been fetching longest that this one holds, once nothing is left unasked. */
  private pickEndgame(state: SourceState, at: number): ChunkState | null {
    if (this.pendingCount > 0 || !this.options.fetchCopy || !this.options.store) return null;
    let oldest: ChunkState | null = null;
    for (const entry of this.order) {
      if (entry.status !== 'active' || entry.attempts.size !== 1 || entry.chunk.length > ENDGAME_MAX_CHUNK || !this.holds(state, entry)) continue;
      // Only a request writing to disk is copied: not this source's own, not a copy already winning.
      const [running] = entry.attempts;
      if (!running || running.copy || state.attempts.has(running) || at - entry.startedAt < ENDGAME_AFTER_MS) continue;
      if (!oldest || entry.startedAt < oldest.startedAt) oldest = entry;
    }
    return oldest;
  }

  private take(entry: ChunkState): void {
    entry.status = 'active';
    this.pendingCount--;
    this.options.onChunkTaken?.(entry.chunk);
  }

  private putBack(entry: ChunkState): void {
    entry.status = 'pending';
    this.pendingCount++;
    for (const state of this.sources.values()) if (state.empty && this.holds(state, entry)) state.fresh.push(entry);
    this.options.onChunkReturned?.(entry.chunk);
  }

  private someOtherCouldTry(entry: ChunkState, except: SourceState): boolean {
    for (const other of this.sources.values()) {
      if (other !== except && other.alive && !entry.failedBy.has(other.source.peerId) && this.holds(other, entry)) return true;
    }
    return false;
  }

  private async runAttempt(state: SourceState, entry: ChunkState, copy: boolean): Promise<void> {
    let finished = () => {};
    const attempt: Attempt = { chunk: entry, controller: new AbortController(), abortedBecause: null, copy, finished: new Promise((resolve) => (finished = resolve)) };
    if (state.attempts.size === 0) state.lastProgressAt = this.now();
    state.attempts.add(attempt);
    if (entry.attempts.size === 0) entry.startedAt = this.now();
    entry.attempts.add(attempt);
    this.inFlight += 1;
    const onBytes = (bytes: number) => {
      state.stats.bytes += bytes;
      state.lastProgressAt = this.now();
      this.lastDeliveryAt = state.lastProgressAt;
      this.options.onBytes?.(state.source.peerId, bytes);
    };
    let failure: unknown = null;
    try {
      if (!copy) await this.options.fetch(state.source, entry.chunk, attempt.controller.signal, onBytes);
      else await this.storeCopy(attempt, await (this.options.fetchCopy as ChunkCopier)(state.source, entry.chunk, attempt.controller.signal, onBytes));
    } catch (error) {
      failure = error ?? new Error('unknown failure');
    }
    state.attempts.delete(attempt);
    entry.attempts.delete(attempt);
    this.inFlight -= 1;
    this.settleAttempt(state, attempt, failure);
    finished();
    this.pump();
    this.checkSettled();
  }

  /** A verified endgame copy: the other request of the chunk is stopped, its writes end, then the copy is written (unless the other won meanwhile). */
  private async storeCopy(attempt: Attempt, bytes: Uint8Array): Promise<void> {
    const entry = attempt.chunk;
    const others = [...entry.attempts].filter((other) => other !== attempt);
    for (const other of others) {
      other.abortedBecause ??= 'superseded';
      other.controller.abort(new LanspreadError('REQUEST_CANCELLED', 'Another source delivered this chunk first'));
    }
    await Promise.all(others.map((other) => other.finished));
    if (entry.status === 'done' || this.outcome !== undefined) return;
    await (this.options.store as NonNullable<SchedulerOptions['store']>)(entry.chunk, bytes);
  }

  private settleAttempt(state: SourceState, attempt: Attempt, failure: unknown): void {
    const entry = attempt.chunk;
    if (failure === null) {
      // Both requests of an endgame chunk can succeed: it counts once.
      if (entry.status === 'done') return;
      for (const other of entry.attempts) {
        other.abortedBecause ??= 'superseded';
        other.controller.abort(new LanspreadError('REQUEST_CANCELLED', 'Another source delivered this chunk first'));
      }
      entry.status = 'done';
      this.done += 1;
      state.stats.chunks += 1;
      state.failuresInARow = 0;
      this.options.onChunkVerified?.(entry.chunk, state.source);
      if (this.done === this.total) this.finish(null);
      return;
    }
    if (this.outcome !== undefined) return;
    if (failure instanceof LocalFailure) return this.finish(failure.error);
    if (attempt.abortedBecause === 'superseded') return;
    // The chunk goes back only when no other request of it is still running.
    if (entry.status === 'active' && entry.attempts.size === 0) this.putBack(entry);
    if (attempt.abortedBecause === 'dropped' || attempt.abortedBecause === 'rested') return;
    const error = toLanspreadError(failure);
    state.stats.lastError = error;
    this.lastCause = error;
    if (error.code === 'CHUNK_NOT_AVAILABLE') {
      // Its have-map ran ahead of what it serves (it just withdrew, or a stale map): not the chunk's fault.
      entry.failedBy.add(state.source.peerId);
      entry.notBefore = this.now() + NOT_AVAILABLE_RETRY_MS;
      if (state.full) state.superSeedingUntil = this.now() + SUPER_SEEDING_MEMORY_MS;
      return;
    }
    if (TRANSPORT_CODES.has(error.code)) return this.rest(state, error);
    entry.failures += 1;
    entry.failedBy.add(state.source.peerId);
    entry.lastError = error;
    if (BAD_BYTES_CODES.has(error.code)) {
      state.stats.badChunks += 1;
      if (state.stats.badChunks >= MAX_BAD_CHUNKS_PER_SOURCE) {
        this.banned.add(state.source.peerId);
        this.drop(state, new LanspreadError(error.code, `Source ${state.source.name} sent ${state.stats.badChunks} bad chunks`));
      }
    } else {
      this.drop(state, error);
    }
    if (entry.failures > this.tuning.maxRetryCount) {
      const { path, offset } = entry.chunk;
      this.finish(new LanspreadError(error.code, `Chunk at ${offset} of ${JSON.stringify(path)} failed ${entry.failures} times: ${error.message}`, { cause: error }));
    }
  }

  /** The source is busy, stalled or unreachable: its requests go back, and it is tried again after a doubling pause. */
  private rest(state: SourceState, reason: LanspreadError): void {
    if (!state.alive) return;
    state.stats.rests += 1;
    state.stats.lastError = reason;
    this.lastCause = reason;
    const pause = Math.min(this.tuning.maxRestMs, this.tuning.restMs * 2 ** state.failuresInARow);
    state.failuresInARow += 1;
    state.restUntil = this.now() + pause;
    state.slowSince = NO_TIME;
    state.rate = Number.NaN;
    for (const attempt of state.attempts) {
      attempt.abortedBecause ??= 'rested';
      attempt.controller.abort(reason);
    }
  }

  private drop(state: SourceState, reason: LanspreadError): void {
    if (!state.alive) return;
    state.alive = false;
    this.rescanAll();
    state.stats.dropped = reason;
    state.stats.lastError ??= reason;
    state.unsubscribe?.();
    state.unsubscribe = null;
    if (state.full) this.fullAlive--;
    else this.forgetPartial(state);
    for (const attempt of state.attempts) {
      attempt.abortedBecause ??= 'dropped';
      attempt.controller.abort(reason);
    }
    this.options.onSourceDropped?.(state.source.peerId, reason);
    this.checkStarved(this.now());
  }

  /**
   * With no live source at all and nothing in flight, fail after noSourceGraceMs (a source may
   * still be added). With sources that rest, refuse or hold nothing we need, keep trying until
   * none has delivered a byte for unreachableGraceMs and nothing is in flight.
   */
  private checkStarved(at: number): void {
    if (!this.running || this.outcome !== undefined || this.done === this.total) return;
    if (this.activeSources === 0) {
      if (this.graceTimer || this.inFlight > 0) return;
      if (this.tuning.noSourceGraceMs <= 0) return this.failNoSource();
      this.graceTimer = setTimeout(() => {
        this.graceTimer = undefined;
        if (this.activeSources === 0) this.failNoSource();
      }, this.tuning.noSourceGraceMs);
      return;
    }
    // Requests in flight are still trying (a silent one is rested by the stall check).
    if (this.inFlight === 0 && at - this.lastDeliveryAt >= this.tuning.unreachableGraceMs) this.failNoSource();
  }

  private failNoSource(): void {
    const cause = this.lastCause ? `: last error ${this.lastCause.code}: ${this.lastCause.message}` : '';
    this.finish(new LanspreadError('NO_SOURCE', `No source can deliver the remaining chunks${cause}`, { cause: this.lastCause ?? undefined }));
  }

  private tick(): void {
    if (this.outcome !== undefined) return;
    const at = this.now();
    const alive = [...this.sources.values()].filter((state) => state.alive && state.restUntil <= at);
    for (const state of alive) {
      const sent = state.stats.bytes - state.bytesAtLastTick;
      state.bytesAtLastTick = state.stats.bytes;
      const rate = (sent * 1000) / this.tuning.tickMs;
      state.rate = Number.isNaN(state.rate) ? rate : state.rate + RATE_SMOOTHING * (rate - state.rate);
      if (state.attempts.size > 0 && at - state.lastProgressAt > this.tuning.stallTimeoutMs) {
        this.rest(state, new LanspreadError('REQUEST_TIMEOUT', `Source ${state.source.name} stalled`));
      }
    }
    this.restSlowSources(at, alive.filter((state) => state.restUntil <= at));
    // Rests end and chunks become askable again with time alone.
    this.pump();
  }

  private restSlowSources(at: number, alive: SourceState[]): void {
    const waiting = this.pendingCount > 0;
    const best = Math.max(0, ...alive.map((state) => measured(state.rate)));
    for (const state of alive) {
      const slow = waiting && alive.length > 1 && best > 0 && measured(state.rate) < best * this.tuning.slowRatio;
      if (!slow) {
        state.slowSince = NO_TIME;
        continue;
      }
      if (state.slowSince === NO_TIME) state.slowSince = at;
      if (at - state.slowSince >= this.tuning.slowSustainMs) {
        this.rest(state, new LanspreadError('REQUEST_TIMEOUT', `Source ${state.source.name} is far slower than the others`));
      }
    }
  }

  private finish(error: LanspreadError | null): void {
    if (this.outcome !== undefined) return;
    this.outcome = error;
    for (const state of this.sources.values()) {
      state.unsubscribe?.();
      state.unsubscribe = null;
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

/** A source's rate for comparisons: 0 until measured. */
function measured(rate: number): number {
  return Number.isNaN(rate) ? 0 : rate;
}
