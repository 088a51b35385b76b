import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CATALOG_ID_PATTERN } from '../../../shared/catalog';
import { LanspreadError, toLanspreadError, type ErrorCode, type ErrorInfo } from '../../../shared/errors';
import type { Operation, OperationKind } from '../../../shared/operation';
import { MAX_CONCURRENT_DOWNLOADS } from '../../../shared/settings';
import { writeFileAtomic } from '../fs/atomic-write';
import { PRIVATE_DIR_MODE } from '../fs/private-files';
import type { OperationRegistry } from '../operations/operation-registry';
import type { Logger } from '../util/logger';

/** The kinds that wait in the queue: each moves bytes over the network first. */
export type QueuedKind = Extract<OperationKind, 'download' | 'install' | 'update' | 'stream-install'>;

/** How one transfer of a queued game ended. `installed`: it installed the game too (a streamed install); `resumes`: its verified part was kept. */
export type TransferOutcome = { status: 'finished'; installed: boolean } | { status: 'failed'; error: ErrorInfo; resumes: boolean } | { status: 'cancelled' };

export interface TransferControl {
  /** Aborted by Cancel: the transfer ends and discards what it fetched. */
  cancel: AbortSignal;
  /** Aborted by Pause: the transfer ends keeping its journal and verified payload. */
  pause: AbortSignal;
}

export interface DownloadQueueDeps {
  stateDir: string;
  operations: OperationRegistry;
  /** True while some peer shares a version of the game. */
  hasSource: (gameId: string) => boolean;
  /** False when what the entry needs from the network is already here (archives downloaded before a restart). */
  needsTransfer: (gameId: string, kind: QueuedKind) => boolean;
  /** Fetches the game (or streams its install); resolves with how it went, never rejects for a failed transfer. */
  transfer: (gameId: string, kind: QueuedKind, control: TransferControl) => Promise<TransferOutcome>;
  /** The local step after a transfer: unpacks the downloaded archives (install, update). */
  unpack: (gameId: string) => Promise<void>;
  /** Cancel of a paused or waiting download: its journal and payload go. */
  discard: (gameId: string) => Promise<void>;
  /** How many transfers run at once. */
  concurrency?: number;
  logger: Logger;
  /** After a failure that kept the download, the first retry without a peer event comes this late; each next one twice as late. */
  retryAfterMs?: number;
  maxRetryAfterMs?: number;
}

interface Entry {
  gameId: string;
  kind: QueuedKind;
  control: { cancel: AbortController; pause: AbortController } | null;
  failures: number;
  retry: NodeJS.Timeout | undefined;
}

interface QueueFile {
  format: 1;
  entries: Array<{ gameId: string; kind: QueuedKind; state: 'queued' | 'paused' }>;
}

export const QUEUE_FILE = 'download_queue.json';
const QUEUE_FORMAT = 1;
const RETRY_AFTER_MS = 15_000;
const MAX_RETRY_AFTER_MS = 5 * 60_000;
const QUEUED_KINDS: ReadonlySet<string> = new Set<QueuedKind>(['download', 'install', 'update', 'stream-install']);
/** Failures that a peer coming back can cure: the game waits for one instead of failing. */
const WAITABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['NO_SOURCE', 'PEER_GONE', 'PEER_UNREACHABLE', 'REQUEST_TIMEOUT', 'GAME_NOT_SERVED', 'GAME_NOT_FOUND']);

/**
 * The download queue: Install, Update, Download and Streamed install go to its end, and at most
 * `concurrency` transfers run at once, in queue order. The unpack after a download runs outside
 * the count, so the next download starts while the previous game is being unpacked.
 *
 * The queue is saved in the state directory (atomically, after every change) and read back at
 * start: order and paused entries survive a restart; what was running starts again and resumes
 * from its journal. An entry whose turn comes while no peer shares the game, or whose transfer
 * lost every source, waits for peers (its slot goes to the next) and is queued again when a
 * peer's game list changes (poke) or after a doubling delay. Each entry's state lives in the
 * operation registry; the queue owns the order and decides the steps.
 */
export class DownloadQueue {
  private readonly entries: Entry[] = [];
  private concurrency: number;
  private saving: Promise<void> = Promise.resolve();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: DownloadQueueDeps) {
    this.concurrency = normaliseConcurrency(deps.concurrency ?? 1);
  }

  private get file(): string {
    return path.join(this.deps.stateDir, QUEUE_FILE);
  }

  /** Reads the saved queue back (entries whose game has an operation already are skipped) and starts what can start. */
  async start(): Promise<void> {
    const saved = await readQueueFile(this.file);
    for (const item of saved) {
      if (this.deps.operations.operation(item.gameId)) continue;
      this.entries.push(newEntry(item.gameId, item.kind));
      this.deps.operations.open(item.gameId, item.kind, item.state);
    }
    this.pump();
  }

  has(gameId: string): boolean {
    return this.entries.some((entry) => entry.gameId === gameId);
  }

  /** The queue in order, each with its operation (running and finishing ones first as they are, then the rest). */
  list(): Operation[] {
    return this.entries.map((entry) => this.operationOf(entry.gameId)).filter((operation): operation is Operation => operation !== undefined);
  }

  /** Index among the entries waiting for their turn (0 = next to start); null for one that is not waiting in line. */
  positionOf(gameId: string): number | null {
    let position = 0;
    for (const entry of this.entries) {
      const state = this.operationOf(entry.gameId)?.state;
      if (entry.gameId === gameId) return state === 'queued' || state === 'paused' || state === 'waiting-for-peers' ? position : null;
      if (state === 'queued' || state === 'paused' || state === 'waiting-for-peers') position += 1;
    }
    return null;
  }

  getConcurrency(): number {
    return this.concurrency;
  }

  setConcurrency(value: number): void {
    this.concurrency = normaliseConcurrency(value);
    this.pump();
  }

  /** Adds the game at the end. */
  add(gameId: string, kind: QueuedKind): void {
    this.assertRunning();
    // In the list before its operation is published, so the event already carries its place.
    const entry = newEntry(gameId, kind);
    this.entries.push(entry);
    try {
      this.deps.operations.open(gameId, kind, 'queued');
    } catch (error) {
      this.remove(entry);
      throw error;
    }
    this.changed();
  }

  /** Moves a waiting entry to `position` among the waiting ones (0 = next). */
  move(gameId: string, position: number): void {
    const entry = this.require(gameId);
    if (!Number.isSafeInteger(position) || position < 0) throw new LanspreadError('MALFORMED_MESSAGE', 'position must be a non-negative integer');
    if (this.positionOf(gameId) === null) throw new LanspreadError('OPERATION_IN_PROGRESS', `${gameId} is already running`, { details: { gameId } });
    const waiting = this.entries.filter((other) => other !== entry && this.positionOf(other.gameId) !== null);
    const before = waiting[Math.min(position, waiting.length)];
    this.entries.splice(this.entries.indexOf(entry), 1);
    // Running entries keep their place ahead; the moved one goes right before the entry now at `position`.
    this.entries.splice(before ? this.entries.indexOf(before) : this.entries.length, 0, entry);
    this.changed();
  }

  /** Stops a transfer keeping what it verified, or holds a waiting entry back; its slot goes to the next. */
  pause(gameId: string): void {
    const entry = this.require(gameId);
    const operation = this.operationOf(gameId);
    switch (operation?.state) {
      case 'queued':
      case 'waiting-for-peers':
        this.deps.operations.move(gameId, 'paused');
        this.changed();
        return;
      case 'running':
        // A streamed install keeps nothing: pausing it would throw it away.
        if (entry.kind === 'stream-install' || operation.phase !== 'transfer') {
          throw new LanspreadError('NOT_PAUSABLE', `The ${entry.kind} of ${gameId} cannot be paused; cancel it or let it finish`, { details: { gameId } });
        }
        entry.control?.pause.abort();
        return;
      case 'paused':
        return;
      default:
        throw new LanspreadError('NOT_PAUSABLE', `${gameId} is ${operation?.state ?? 'not queued'}`, { details: { gameId } });
    }
  }

  /** A paused entry goes back into the queue at its place. */
  resume(gameId: string): void {
    this.require(gameId);
    if (this.operationOf(gameId)?.state !== 'paused') return;
    this.deps.operations.move(gameId, 'queued');
    this.changed();
  }

  /** Ends the entry: a running transfer discards what it fetched, a paused or waiting one its journal and payload. */
  async cancel(gameId: string): Promise<void> {
    const entry = this.require(gameId);
    const state = this.operationOf(gameId)?.state;
    if (state === 'running') {
      entry.control?.cancel.abort();
      return;
    }
    if (state === 'finishing') throw new LanspreadError('NOT_PAUSABLE', `${gameId} is being unpacked; it cannot be cancelled now`, { details: { gameId } });
    this.remove(entry);
    if (state === 'paused' || state === 'waiting-for-peers') await this.deps.discard(gameId);
    this.deps.operations.move(gameId, 'cancelled');
    this.changed();
  }

  /** Peers changed: entries waiting for one are queued again where a peer now shares the game. */
  poke(): void {
    if (this.stopped) return;
    let woke = false;
    for (const entry of this.entries) {
      if (this.operationOf(entry.gameId)?.state !== 'waiting-for-peers' || !this.deps.hasSource(entry.gameId)) continue;
      this.deps.operations.move(entry.gameId, 'queued');
      woke = true;
    }
    if (woke) this.changed();
  }

  /** Waits for the work started so far to end (tests; stop). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  /** No step after this: transfers stopped by the runtime stay saved as queued and resume at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.entries) clearTimeout(entry.retry);
    await this.saving;
  }

  private pump(): void {
    if (this.stopped) return;
    let transferring = this.entries.filter((entry) => this.operationOf(entry.gameId)?.state === 'running').length;
    for (const entry of [...this.entries]) {
      if (transferring >= this.concurrency) break;
      if (this.operationOf(entry.gameId)?.state !== 'queued') continue;
      if (!this.deps.needsTransfer(entry.gameId, entry.kind)) {
        this.track(this.unpack(entry));
        continue;
      }
      if (!this.deps.hasSource(entry.gameId)) {
        this.deps.operations.move(entry.gameId, 'waiting-for-peers', { code: 'NO_SOURCE', message: `No peer shares ${entry.gameId} right now` });
        continue;
      }
      transferring += 1;
      this.track(this.transfer(entry));
    }
  }

  private track(work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch((error: unknown) => this.deps.logger.error('download queue step failed', { error: toLanspreadError(error).message }))
      .finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private async transfer(entry: Entry): Promise<void> {
    const { gameId, kind } = entry;
    const control = { cancel: new AbortController(), pause: new AbortController() };
    entry.control = control;
    this.deps.operations.move(gameId, 'running');
    let outcome: TransferOutcome;
    try {
      outcome = await this.deps.transfer(gameId, kind, { cancel: control.cancel.signal, pause: control.pause.signal });
    } catch (error) {
      outcome = { status: 'failed', error: toLanspreadError(error).toInfo(), resumes: false };
    } finally {
      entry.control = null;
    }
    // The runtime stopped it: it stays saved as queued, and resumes at the next start.
    if (this.stopped) return;
    if (control.cancel.signal.aborted || outcome.status === 'cancelled') {
      this.end(entry, 'cancelled');
      return;
    }
    if (control.pause.signal.aborted && outcome.status === 'failed') {
      this.deps.operations.move(gameId, 'paused');
      this.changed();
      return;
    }
    if (outcome.status === 'failed') {
      if (outcome.resumes || WAITABLE.has(outcome.error.code)) this.waitForPeers(entry, outcome.error);
      else this.end(entry, 'failed', outcome.error);
      return;
    }
    if (!outcome.installed && (kind === 'install' || kind === 'update')) {
      await this.unpack(entry);
      return;
    }
    this.end(entry, 'done');
  }

  /** The unpack after a download: outside the transfer count, so the next transfer starts now. */
  private async unpack(entry: Entry): Promise<void> {
    this.deps.operations.move(entry.gameId, 'finishing');
    this.changed();
    try {
      await this.deps.unpack(entry.gameId);
    } catch (error) {
      if (this.stopped) return;
      const coded = toLanspreadError(error);
      this.end(entry, coded.code === 'REQUEST_CANCELLED' ? 'cancelled' : 'failed', coded.toInfo());
      return;
    }
    if (!this.stopped) this.end(entry, 'done');
  }

  private waitForPeers(entry: Entry, error: ErrorInfo): void {
    this.deps.operations.move(entry.gameId, 'waiting-for-peers', error);
    entry.failures += 1;
    clearTimeout(entry.retry);
    const first = this.deps.retryAfterMs ?? RETRY_AFTER_MS;
    const delay = Math.min(first * 2 ** (entry.failures - 1), this.deps.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS);
    entry.retry = setTimeout(() => {
      if (this.stopped || this.operationOf(entry.gameId)?.state !== 'waiting-for-peers') return;
      this.deps.operations.move(entry.gameId, 'queued');
      this.changed();
    }, delay);
    // A pending retry must not keep a headless peer's process alive.
    entry.retry.unref();
    this.changed();
  }

  private end(entry: Entry, state: 'done' | 'failed' | 'cancelled', error: ErrorInfo | null = null): void {
    this.remove(entry);
    this.deps.operations.move(entry.gameId, state, error);
    this.changed();
  }

  private remove(entry: Entry): void {
    clearTimeout(entry.retry);
    const at = this.entries.indexOf(entry);
    if (at >= 0) this.entries.splice(at, 1);
  }

  /** Saves the queue and starts what can start now. */
  private changed(): void {
    this.save();
    this.pump();
  }

  private save(): void {
    if (this.stopped) return;
    const snapshot: QueueFile = {
      format: QUEUE_FORMAT,
      entries: this.entries.map((entry) => ({ gameId: entry.gameId, kind: entry.kind, state: this.operationOf(entry.gameId)?.state === 'paused' ? 'paused' : 'queued' })),
    };
    // Writes are serialised, so the last one written is the newest; a failed write is logged, and the next change writes again.
    this.saving = this.saving.then(async () => {
      await mkdir(this.deps.stateDir, { recursive: true, mode: PRIVATE_DIR_MODE });
      await writeFileAtomic(this.file, JSON.stringify(snapshot));
    }).catch((error: unknown) => this.deps.logger.warn('download queue not saved', { error: toLanspreadError(error).message }));
  }

  private operationOf(gameId: string): Operation | undefined {
    return this.deps.operations.operation(gameId);
  }

  private require(gameId: string): Entry {
    const entry = this.entries.find((candidate) => candidate.gameId === gameId);
    if (!entry) throw new LanspreadError('NOT_DOWNLOADED', `${gameId} is not in the download queue`, { details: { gameId } });
    return entry;
  }

  private assertRunning(): void {
    if (this.stopped) throw new LanspreadError('REQUEST_CANCELLED', 'The runtime is stopping');
  }
}

function newEntry(gameId: string, kind: QueuedKind): Entry {
  return { gameId, kind, control: null, failures: 0, retry: undefined };
}

function normaliseConcurrency(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_CONCURRENT_DOWNLOADS) {
    throw new LanspreadError('MALFORMED_MESSAGE', `The number of downloads at once must be a whole number from 1 to ${MAX_CONCURRENT_DOWNLOADS}`);
  }
  return value;
}

/** The saved entries; a missing, unreadable or foreign file is an empty queue, and entries that are not ours are dropped. */
async function readQueueFile(file: string): Promise<QueueFile['entries']> {
  const raw = await readFile(file, 'utf8').catch(() => null);
  if (raw === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  const entries = (parsed as { format?: unknown; entries?: unknown } | null)?.entries;
  if ((parsed as { format?: unknown }).format !== QUEUE_FORMAT || !Array.isArray(entries)) return [];
  const seen = new Set<string>();
  const valid: QueueFile['entries'] = [];
  for (const item of entries as Array<Record<string, unknown>>) {
    const { gameId, kind, state } = item ?? {};
    if (typeof gameId !== 'string' || !CATALOG_ID_PATTERN.test(gameId) || seen.has(gameId)) continue;
    if (typeof kind !== 'string' || !QUEUED_KINDS.has(kind)) continue;
    seen.add(gameId);
    valid.push({ gameId, kind: kind as QueuedKind, state: state === 'paused' ? 'paused' : 'queued' });
  }
  return valid;
}
