import { LanspreadError } from '../../../shared/errors';

/**
 * Long work the runtime starts per game (a streamed install, an archive install) and must be
 * able to abort: each run gets its own signal, and stop() aborts them all and waits until
 * every one has cleaned up, so nothing writes into a game folder after the runtime stopped.
 */
export class CancellableRuns {
  private readonly running = new Map<string, { controller: AbortController; settled: Promise<unknown> }>();
  private stopped = false;

  isRunning(key: string): boolean {
    return this.running.has(key);
  }

  /** Runs `work` under `key`; refuses a key already running and any run once stopped. */
  async run<T>(key: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.stopped) throw new LanspreadError('REQUEST_CANCELLED', 'The runtime is stopping');
    if (this.running.has(key)) throw new LanspreadError('OPERATION_IN_PROGRESS', `Already in progress for ${key}`);
    const controller = new AbortController();
    const settled = work(controller.signal);
    this.running.set(key, { controller, settled });
    try {
      return await settled;
    } finally {
      this.running.delete(key);
    }
  }

  cancel(key: string): boolean {
    const running = this.running.get(key);
    running?.controller.abort();
    return running !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const running = [...this.running.values()];
    for (const { controller } of running) controller.abort();
    await Promise.allSettled(running.map(({ settled }) => settled));
  }
}
