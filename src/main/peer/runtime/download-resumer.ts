import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CATALOG_ID_PATTERN } from '../../../shared/catalog';
import { hasJournal, journaledGameIds } from '../download/resume-journal';
import type { Logger } from '../util/logger';

export interface DownloadResumerDeps {
  stateDir: string;
  gameDir: () => string | null;
  /** True while some peer shares a version of the game. */
  hasSource: (gameId: string) => boolean;
  /** True while the game has an operation (a download the player started, an install, ...). */
  isBusy: (gameId: string) => boolean;
  /** Starts the download (and the install after it); its outcome arrives as events. */
  download: (gameId: string) => Promise<unknown>;
  logger: Logger;
  /** After a failure, the first retry without a peer event comes this late; each next one twice as late. */
  retryAfterMs?: number;
  maxRetryAfterMs?: number;
}

const RETRY_AFTER_MS = 15_000;
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Picks interrupted downloads up again without the player asking: those a previous run left
 * (a crash, a quit, a power cut) and those that failed because no peer could deliver any more.
 * A download that stops short keeps its journal (cancel and a full disk delete it), so a
 * journal is what marks one as waiting. It starts again once a peer shares the game and
 * nothing else runs for it, and then fetches only what the journal does not hold.
 *
 * A waiting download is tried as soon as a peer's game list changes (a peer arrives or comes
 * back). A failed one is also tried again after a delay that doubles with each failure, for a
 * source that never left the peer list (a data lane that broke for a while): one that cannot
 * finish does not spin. One whose game folder is gone (the player deleted the partial
 * download) is left alone: starting it would fetch the whole game unasked.
 */
export class DownloadResumer {
  private readonly waiting = new Set<string>();
  private readonly failures = new Map<string, { count: number; retry: NodeJS.Timeout }>();
  private readonly resuming = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: DownloadResumerDeps) {}

  /** Takes in the journals a previous run left and tries them. */
  async start(): Promise<void> {
    for (const gameId of await journaledGameIds(this.deps.stateDir)) {
      if (CATALOG_ID_PATTERN.test(gameId)) this.waiting.add(gameId);
    }
    this.poke();
  }

  /**
   * A download ended short: it waits for a peer, or for its retry. Whether its journal is still
   * there (cancel and a full disk delete it) is looked at when it is about to start again.
   */
  downloadFailed(gameId: string): void {
    if (this.stopped) return;
    this.waiting.add(gameId);
    const count = (this.failures.get(gameId)?.count ?? 0) + 1;
    clearTimeout(this.failures.get(gameId)?.retry);
    const first = this.deps.retryAfterMs ?? RETRY_AFTER_MS;
    const delay = Math.min(first * 2 ** (count - 1), this.deps.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS);
    const retry = setTimeout(() => this.poke(), delay);
    // A pending retry must not keep a headless peer's process alive.
    retry.unref();
    this.failures.set(gameId, { count, retry });
  }

  /** A download finished or was cancelled: nothing to resume. */
  downloadSettled(gameId: string): void {
    this.waiting.delete(gameId);
    clearTimeout(this.failures.get(gameId)?.retry);
    this.failures.delete(gameId);
  }

  /** Peers changed: starts every waiting download that can run now. */
  poke(): void {
    if (this.stopped) return;
    for (const gameId of [...this.waiting]) {
      if (!this.deps.hasSource(gameId) || this.deps.isBusy(gameId)) continue;
      this.waiting.delete(gameId);
      const resuming = this.resume(gameId).finally(() => this.resuming.delete(resuming));
      this.resuming.add(resuming);
    }
  }

  /** Waits for the resumes started so far, each to its download's end. */
  async settled(): Promise<void> {
    while (this.resuming.size > 0) await Promise.all(this.resuming);
  }

  stop(): void {
    this.stopped = true;
    this.waiting.clear();
    for (const { retry } of this.failures.values()) clearTimeout(retry);
    this.failures.clear();
  }

  private async resume(gameId: string): Promise<void> {
    const gameDir = this.deps.gameDir();
    if (gameDir === null) {
      // No game folder chosen yet: it waits for one.
      this.waiting.add(gameId);
      return;
    }
    if (!(await hasJournal(this.deps.stateDir, gameId))) return;
    if (!(await stat(path.join(gameDir, gameId)).catch(() => null))?.isDirectory()) {
      this.deps.logger.info('not resuming a download whose game folder is gone', { gameId });
      return;
    }
    if (this.stopped || this.deps.isBusy(gameId)) return;
    this.deps.logger.info('resuming an interrupted download', { gameId });
    try {
      await this.deps.download(gameId);
    } catch {
      // A download that began reported its failure already (its event comes before this);
      // one that failed before it began (its source left meanwhile) sends no event of its own.
      if (!this.waiting.has(gameId)) this.downloadFailed(gameId);
    }
  }
}
