import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../util/logger';
import { TypedEmitter } from '../util/typed-emitter';

export interface LibraryMonitorOptions {
  gameDir: string;
  isCatalogId(id: string): boolean;
  debounceMs?: number;
  fallbackScanMs?: number;
  /** While an operation runs on a game its rescans are held back (the folder is mid-change). */
  isBusy(gameId: string): boolean;
  /** How often held-back rescans check whether their game became idle. */
  busyPollMs?: number;
  logger: Logger;
  /** Injected so tests can prove stop() leaves no timer behind; defaults to unref'd Node timers. */
  timers?: MonitorTimers;
}

export interface MonitorTimers {
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(timer: NodeJS.Timeout): void;
  setInterval(callback: () => void, ms: number): NodeJS.Timeout;
  clearInterval(timer: NodeJS.Timeout): void;
}

// Unref'd: a library watcher alone must never keep a CLI process alive.
const nodeTimers: MonitorTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer),
  setInterval: (callback, ms) => setInterval(callback, ms).unref(),
  clearInterval: (timer) => clearInterval(timer),
};

export interface LibraryMonitorEvents {
  'game-changed': { gameId: string };
  'rescan-all': Record<string, never>;
}

/**
 * Watches the game directory and each game root one level deep (never inside local/ or deeper:
 * a game's own writes must not flood us) and says WHICH game to look at again, debounced per
 * game. A full rescan every `fallbackScanMs` catches anything the watcher missed.
 */
export class LibraryMonitor extends TypedEmitter<LibraryMonitorEvents> {
  private watcher: FSWatcher | null = null;
  private readonly debounce = new Map<string, NodeJS.Timeout>();
  private readonly held = new Set<string>();
  /** Game roots not watched while an operation runs on them. */
  private readonly paused = new Set<string>();
  private fallbackTimer: NodeJS.Timeout | null = null;
  private busyTimer: NodeJS.Timeout | null = null;

  private readonly timers: MonitorTimers;

  constructor(private readonly options: LibraryMonitorOptions) {
    super();
    this.timers = options.timers ?? nodeTimers;
  }

  async start(): Promise<void> {
    if (this.watcher) return;
    const { gameDir } = this.options;
    // depth 1 = the game roots and their direct entries (version.ini, archives, local/ itself).
    const watcher = watch(gameDir, { depth: 1, ignoreInitial: true, persistent: true, ignored: (changed) => this.isForeign(changed) });
    this.watcher = watcher;
    watcher.on('all', (_event, changed) => this.onPath(changed));
    watcher.on('error', (error) => this.options.logger.warn('watcher error', { error: String(error) }));
    this.fallbackTimer = this.timers.setInterval(() => this.emit('rescan-all', {}), this.options.fallbackScanMs ?? 300_000);
    this.busyTimer = this.timers.setInterval(() => this.releaseIdle(), this.options.busyPollMs ?? 1_000);
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = null;
    for (const timer of this.debounce.values()) this.timers.clearTimeout(timer);
    this.debounce.clear();
    this.held.clear();
    this.paused.clear();
    if (this.fallbackTimer) this.timers.clearInterval(this.fallbackTimer);
    if (this.busyTimer) this.timers.clearInterval(this.busyTimer);
    this.fallbackTimer = this.busyTimer = null;
    await watcher?.close();
  }

  /**
   * An operation on `gameId` started: stop watching its root until it ends. A download writes
   * its files thousands of times a second, and each write would cost the watcher a stat or a
   * directory re-read on the main thread for a change that is held back anyway.
   */
  notifyBusy(gameId: string): void {
    if (!this.watcher || this.paused.has(gameId)) return;
    this.paused.add(gameId);
    this.watcher.unwatch(path.join(this.options.gameDir, gameId));
  }

  /** A folder that was foreign became a game (it was described): watch it from now on. */
  watchGame(gameId: string): void {
    if (this.watcher && !this.paused.has(gameId)) this.watcher.add(path.join(this.options.gameDir, gameId));
  }

  /** An operation on `gameId` ended: watch its root again and deliver its held-back change now. */
  notifyIdle(gameId: string): void {
    if (this.paused.delete(gameId)) {
      this.watcher?.add(path.join(this.options.gameDir, gameId));
      // Whatever changed while unwatched is found by this rescan.
      this.held.add(gameId);
    }
    if (this.held.delete(gameId)) this.schedule(gameId);
  }

  /**
   * Folders beside the game roots (other games, downloads, anything) are not ours: not watching
   * inside them saves inotify watches and spurious events. A catalog folder created later is
   * seen on the game directory itself and then watched like the rest.
   */
  private isForeign(changed: string): boolean {
    const relative = path.relative(this.options.gameDir, changed);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return false;
    return !this.options.isCatalogId(relative.split(path.sep)[0] as string);
  }

  private onPath(changed: string): void {
    const relative = path.relative(this.options.gameDir, changed);
    if (relative === '' || relative.startsWith('..')) return;
    const gameId = relative.split(path.sep)[0] as string;
    if (this.options.isCatalogId(gameId)) this.schedule(gameId);
  }

  private schedule(gameId: string): void {
    // chokidar may still deliver a queued event after close(): a stopped monitor starts nothing.
    if (!this.watcher) return;
    const existing = this.debounce.get(gameId);
    if (existing) this.timers.clearTimeout(existing);
    const timer = this.timers.setTimeout(() => {
      this.debounce.delete(gameId);
      if (this.options.isBusy(gameId)) this.held.add(gameId);
      else this.emit('game-changed', { gameId });
    }, this.options.debounceMs ?? 500);
    this.debounce.set(gameId, timer);
  }

  private releaseIdle(): void {
    for (const gameId of [...this.held]) {
      if (!this.options.isBusy(gameId)) this.notifyIdle(gameId);
    }
  }
}
