import path from 'node:path';
import type { Catalog } from '../../../shared/catalog';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { GameDescription } from '../../../shared/game-description';
import type { GameManifest, GameSummary, LocalGameState } from '../../../shared/model';
import type { ServedLibrary } from '../server/served-library';
import type { Logger } from '../util/logger';
import { TypedEmitter } from '../util/typed-emitter';
import type { ChunkHasher } from './chunk-hasher';
import { FileIndex } from './file-index';
import { LibraryMonitor } from './library-monitor';
import { manifestId } from '../protocol/manifest-id';
import { buildManifest } from './manifest';
import { listGameRoots, scanGame, type ScannedGame } from './scan';

export interface LocalLibraryOptions {
  stateDir: string;
  gameDir: string | null;
  catalog: Catalog;
  chunkSize?: number;
  debounceMs?: number;
  fallbackScanMs?: number;
  /** An operation runs on this game: do not rescan it until it settles. */
  isBusy(gameId: string): boolean;
  /** Whether its archives may be served now; default: not while any operation runs (a download or removal changes them, an install only reads them). */
  isServable?(gameId: string): boolean;
  /** Version recorded at install time (state directory), for "update available". */
  installedVersion?(gameId: string): Promise<string | null>;
  /** Shared worker-thread hasher (the runtime also uses it to verify downloads). */
  hasher: ChunkHasher;
  /** Games known beyond the catalog (described here, or adopted from a peer): scanned and served like catalog games, announced with their description. */
  descriptions?: { get(gameId: string): { description: GameDescription } | undefined };
  logger: Logger;
}

export interface LocalLibraryEvents {
  /** Only the games whose state changed (a game whose folder vanished comes with availability None). */
  'library-changed': { games: LocalGameState[] };
}

/**
 * This machine's library: scans game roots, keeps the snapshot, answers what is served, and
 * builds manifests through the CRC index. The watcher only says which game to look at again.
 */
export class LocalLibrary extends TypedEmitter<LocalLibraryEvents> implements ServedLibrary {
  private dir: string | null;
  private readonly catalogIds: ReadonlySet<string>;
  private readonly games = new Map<string, ScannedGame & { installedVersion: string | null }>();
  private readonly manifests = new Map<string, Promise<GameManifest>>();
  /** Content address of each built manifest: announced with the game, so downloaders mix only identical bytes. */
  private readonly manifestIds = new Map<string, string>();
  private index: FileIndex | null = null;
  private monitor: LibraryMonitor | null = null;
  /** Rescans run one at a time: a watcher rescan racing a full one must not emit a game twice. */
  private scans: Promise<unknown> = Promise.resolve();
  /**
   * Background hashing for the announcement, one game at a time: a library of a hundred games
   * must not put a hundred reads (two 4 MiB buffers each) in the hash worker at once. A peer
   * asking for a manifest does not wait in this line (manifest() starts it, or joins it).
   */
  private announcing: Promise<unknown> = Promise.resolve();
  /** Undefined: chosen per game by its size (chunkSizeFor). */
  private readonly chunkSize: number | undefined;

  constructor(private readonly options: LocalLibraryOptions) {
    super();
    this.dir = options.gameDir;
    this.catalogIds = new Set(options.catalog.games.map((game) => game.id));
    this.chunkSize = options.chunkSize;
  }

  async start(): Promise<void> {
    this.index ??= await FileIndex.open(this.options.stateDir, this.options.hasher);
    await this.rescanAll();
    await this.startMonitor();
  }

  async stop(): Promise<void> {
    await this.monitor?.stop();
    this.monitor = null;
    await this.scans;
    await this.saveIndex();
  }

  gameDir(): string | null {
    return this.dir;
  }

  async setGameDir(dir: string | null): Promise<void> {
    if (dir === this.dir) return;
    this.dir = dir;
    await this.monitor?.stop();
    this.monitor = null;
    await this.serial(async () => {
      // One event for the switch: every game of the old folder that is not in the new one
      // vanishes, every game found in the new one arrives (even with an identical state, since
      // it now lives elsewhere).
      const before = [...this.games.keys()];
      this.games.clear();
      this.manifests.clear();
      this.manifestIds.clear();
      const found = await this.scanAll();
      const foundIds = new Set(found.map((game) => game.id));
      const games = [...before.filter((id) => !foundIds.has(id)).map(vanished), ...found];
      if (games.length > 0) this.emit('library-changed', { games });
    });
    await this.startMonitor();
  }

  localGames(): LocalGameState[] {
    return [...this.games.values()].map(toState);
  }

  summaries(): GameSummary[] {
    const out: GameSummary[] = [];
    for (const game of this.games.values()) {
      if (!game.downloaded || !this.servable(game.id)) continue;
      const id = this.manifestIds.get(game.id);
      // A game beyond the catalog travels with its description, so every peer can show and install it.
      const description = this.catalogIds.has(game.id) ? undefined : this.options.descriptions?.get(game.id)?.description;
      out.push({
        id: game.id,
        version: game.version ?? '',
        sizeBytes: game.sizeBytes,
        fileCount: game.fileCount,
        ...(id === undefined ? {} : { manifestId: id }),
        ...(description ? { description } : {}),
      });
    }
    return out;
  }

  private servable(gameId: string): boolean {
    return this.options.isServable ? this.options.isServable(gameId) : !this.options.isBusy(gameId);
  }

  /** Whether this exact manifest is served whole here now. */
  async servesWhole(gameId: string, id: string): Promise<boolean> {
    if (!this.isServed(gameId)) return false;
    const manifest = await this.manifest(gameId).catch(() => null);
    return manifest !== null && this.manifestIds.get(gameId) === id;
  }

  /**
   * A download just verified every chunk of these files: their hashes go into the index as they
   * are on disk now, so sharing the game never reads it again, and the game is rescanned.
   */
  async adoptDownloaded(gameId: string, manifest: GameManifest): Promise<void> {
    const dir = this.dir;
    if (dir && this.index) {
      for (const file of manifest.files) {
        await this.index.adopt(gameId, file.path, path.join(dir, gameId, ...file.path.split('/')), manifest.chunkSize, file.chunkHashes).catch(() => undefined);
      }
    }
    await this.rescanGame(gameId);
  }

  /** Bytes of a game served whole here (what a downloader fetches of it); undefined when it is not served whole. */
  servedSize(gameId: string): number | undefined {
    return this.isServed(gameId) ? this.games.get(gameId)?.sizeBytes : undefined;
  }

  isServed(gameId: string): boolean {
    return this.isKnown(gameId) && this.games.get(gameId)?.downloaded === true && this.servable(gameId);
  }

  /**
   * The index is only a cache: a save that fails (a full state directory) is logged and tried
   * again with the next change, never thrown at a caller that did not ask for it.
   */
  private async saveIndex(): Promise<void> {
    await this.index?.flush().catch((error: unknown) => this.options.logger.warn('library index not saved', { error: toLanspreadError(error).message }));
  }

  manifest(gameId: string): Promise<GameManifest> {
    const game = this.games.get(gameId);
    if (!this.dir || !game?.downloaded || !this.index) return Promise.reject(new LanspreadError('GAME_NOT_SERVED', `Game ${gameId} is not shared by this peer`));
    let pending = this.manifests.get(gameId);
    if (!pending) {
      const building = buildManifest(path.join(this.dir, gameId), gameId, game.version ?? '', this.chunkSize, this.index).finally(() => this.saveIndex());
      pending = building;
      building.then(
        (manifest) => {
          if (this.manifests.get(gameId) === building) this.manifestIds.set(gameId, manifestId(manifest));
        },
        () => {
          if (this.manifests.get(gameId) === building) this.manifests.delete(gameId);
        },
      );
      this.manifests.set(gameId, pending);
    }
    return pending;
  }

  /** A catalog id, or a game described here or adopted from a peer's description. */
  private isKnown(gameId: string): boolean {
    return this.catalogIds.has(gameId) || this.options.descriptions?.get(gameId) !== undefined;
  }

  /**
   * A game's description was added or changed: its folder is looked at now (it may just have
   * become known), and its state is published even if the scan saw no change, so the new
   * description is announced and shown.
   */
  descriptionChanged(gameId: string): Promise<void> {
    this.monitor?.watchGame(gameId);
    return this.serial(async () => {
      const changed = await this.refresh(gameId);
      const current = this.games.get(gameId);
      const state = changed ?? (current ? toState(current) : null);
      if (state) this.emit('library-changed', { games: [state] });
    });
  }

  /** Full rescan: every catalog game root in the game directory. */
  rescanAll(): Promise<void> {
    return this.serial(async () => {
      const changed = await this.scanAll();
      if (changed.length > 0) this.emit('library-changed', { games: changed });
    });
  }

  /** Refreshes every known and every present catalog root; returns the states that changed. */
  private async scanAll(): Promise<LocalGameState[]> {
    const dir = this.dir;
    const ids = dir ? await listGameRoots(dir, (id) => this.isKnown(id)) : [];
    const all = new Set([...ids, ...this.games.keys()]);
    const changed: LocalGameState[] = [];
    for (const id of all) {
      // A busy root is mid-change (no version.ini during a download): the runtime rescans it
      // when its operation ends, so skipping it here loses nothing.
      if (this.options.isBusy(id)) continue;
      const state = await this.refresh(id);
      if (state) changed.push(state);
    }
    return changed;
  }

  /** Rescans one game now (also called by the runtime when one of its operations ends). */
  rescanGame(gameId: string): Promise<void> {
    return this.serial(async () => {
      const state = await this.refresh(gameId);
      if (state) this.emit('library-changed', { games: [state] });
    });
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.scans.then(task, task);
    this.scans = run.catch(() => undefined);
    return run;
  }

  /** Re-reads one root; returns its new state when it differs from the snapshot. */
  private async refresh(gameId: string): Promise<LocalGameState | null> {
    const previous = this.games.get(gameId);
    const scanned = this.dir && this.isKnown(gameId) ? await scanGame(this.dir, gameId) : null;
    if (!scanned || (!scanned.downloaded && !scanned.installed)) {
      this.forgetManifest(gameId);
      if (!previous) return null;
      this.games.delete(gameId);
      this.index?.forgetGame(gameId);
      return vanished(gameId);
    }
    const installedVersion = scanned.installed ? ((await this.options.installedVersion?.(gameId)) ?? null) : null;
    const next = { ...scanned, installedVersion };
    if (previous && JSON.stringify(previous) === JSON.stringify(next)) return null;
    this.games.set(gameId, next);
    // Same version, same sizes: the cached manifest's hashes come from the index anyway, but a
    // changed root must never be served from a stale file list.
    this.forgetManifest(gameId);
    // Hashed soon (from the index when unchanged), so the game is announced with its manifest id.
    if (next.downloaded) this.announcing = this.announcing.then(() => (this.games.get(gameId)?.downloaded ? this.manifest(gameId) : null)).catch(() => undefined);
    return toState(next);
  }

  private forgetManifest(gameId: string): void {
    this.manifests.delete(gameId);
    this.manifestIds.delete(gameId);
  }

  /** Resolves once the watcher is ready: a change made right after start() is not missed. */
  private async startMonitor(): Promise<void> {
    if (!this.dir || this.monitor) return;
    const monitor = new LibraryMonitor({
      gameDir: this.dir,
      isCatalogId: (id) => this.isKnown(id),
      debounceMs: this.options.debounceMs ?? 500,
      fallbackScanMs: this.options.fallbackScanMs ?? 300_000,
      isBusy: this.options.isBusy,
      logger: this.options.logger.child('monitor'),
    });
    monitor.on('game-changed', ({ gameId }) => void this.rescanGame(gameId).catch((error: unknown) => this.options.logger.warn('rescan failed', { gameId, error: String(error) })));
    monitor.on('rescan-all', () => void this.rescanAll().catch((error: unknown) => this.options.logger.warn('full rescan failed', { error: String(error) })));
    this.monitor = monitor;
    await monitor.start();
  }

  /** The runtime tells the monitor when an operation on a game starts (its root is not watched meanwhile). */
  notifyBusy(gameId: string): void {
    this.monitor?.notifyBusy(gameId);
  }

  /** The runtime tells the monitor when an operation on a game ended, so held-back rescans run. */
  notifyIdle(gameId: string): void {
    this.monitor?.notifyIdle(gameId);
  }
}

function toState(game: ScannedGame & { installedVersion: string | null }): LocalGameState {
  return {
    id: game.id,
    downloaded: game.downloaded,
    installed: game.installed,
    version: game.version,
    installedVersion: game.installedVersion,
    sizeBytes: game.sizeBytes,
    availability: game.availability,
  };
}

function vanished(gameId: string): LocalGameState {
  return { id: gameId, downloaded: false, installed: false, version: null, installedVersion: null, sizeBytes: 0, availability: 'None' };
}
