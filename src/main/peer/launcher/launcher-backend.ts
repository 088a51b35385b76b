import type { CommandArgs, CommandName, CommandResult, DownloadsView, EventName, EventPayload, InstallMode, LauncherBackend, LauncherEvents, OperationView, PeerView } from '../../../shared/api';
import { LanspreadError, missingCase, toLanspreadError } from '../../../shared/errors';
import { isQueuedKind, type Operation } from '../../../shared/operation';
import type { Settings } from '../../../shared/settings';
import type { PeerRuntime } from '../runtime-types';
import { TypedEmitter } from '../util/typed-emitter';
import { checkGameDir } from './game-dir-check';
import { buildGameViews } from './game-views';

/** Persisted settings as the backend needs them (the store decides where and how they are saved). */
export interface SettingsAccess {
  get(): Settings;
  update(patch: Partial<Omit<Settings, 'schemaVersion'>>): Promise<Settings>;
}

export interface LauncherBackendDeps {
  runtime: PeerRuntime;
  settings: SettingsAccess;
  /** Starts a game; resolves when the process has started (with a way to stop it), `onExit` fires when it ends. */
  launchGame?: (gameId: string, onExit: () => void) => Promise<{ stop(): void } | void>;
  /** How long games-list-updated waits to coalesce bursts of changes. */
  listDebounceMs?: number;
}

/**
 * The one implementation of the LauncherApi over the peer runtime. Electron IPC, the web UI's
 * WebSocket and the CLI's control socket all forward to this object.
 */
export class RuntimeLauncherBackend implements LauncherBackend {
  private readonly events = new TypedEmitter<LauncherEvents>();
  private readonly running = new Set<string>();
  private readonly stoppers = new Map<string, () => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private listTimer: NodeJS.Timeout | null = null;
  private downloadsTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: LauncherBackendDeps) {
    const { runtime } = deps;
    this.unsubscribe.push(
      runtime.onAny((event, payload) => this.onRuntimeEvent(event, payload)),
    );
  }

  dispose(): void {
    for (const off of this.unsubscribe) off();
    if (this.listTimer) clearTimeout(this.listTimer);
    if (this.downloadsTimer) clearTimeout(this.downloadsTimer);
    this.events.removeAllListeners();
  }

  subscribe(listener: <E extends EventName>(event: E, payload: EventPayload<E>) => void): () => void {
    return this.events.onAny(listener);
  }

  async handle<K extends CommandName>(command: K, args: CommandArgs<K>): Promise<CommandResult<K>> {
    return (await this.dispatch(command, args as never)) as CommandResult<K>;
  }

  private async dispatch(command: CommandName, args: never): Promise<unknown> {
    const { runtime } = this.deps;
    switch (command) {
      case 'request_games':
        return this.gameViews();
      case 'request_peers':
        return this.peerViews();
      case 'get_status':
        return {
          peerId: runtime.peerId,
          displayName: runtime.displayName,
          gameDir: runtime.gameDir(),
          running: true,
          peerCount: runtime.getPeerCount(),
          controlPort: runtime.port,
          portTaken: runtime.portTaken,
          addresses: runtime.ownAddresses(),
          manualPeers: runtime.manualPeerStates(),
        };
      case 'install_game':
        return this.install(gameIdOf(args), (args as CommandArgs<'install_game'>).mode ?? 'normal');
      case 'download_game':
        return this.downloadOnly(gameIdOf(args));
      case 'update_game':
        return this.update(gameIdOf(args));
      case 'uninstall_game':
        return runtime.uninstall(gameIdOf(args));
      case 'remove_downloaded_game':
        return runtime.removeDownloaded(gameIdOf(args));
      case 'cancel_download':
        return this.cancel(gameIdOf(args));
      case 'pause_download':
        return runtime.queue.pause(gameIdOf(args));
      case 'resume_download':
        return runtime.queue.resume(gameIdOf(args));
      case 'move_download':
        runtime.queue.move(gameIdOf(args), (args as CommandArgs<'move_download'>).position);
        // A new order moves no operation to another state, so no operation-changed says it:
        // the snapshots do (the queue's order, each waiting game's place in line).
        this.scheduleDownloadsUpdate();
        this.scheduleListUpdate();
        return undefined;
      case 'request_downloads':
        return this.downloadsView();
      case 'clear_finished_downloads':
        runtime.clearFinishedOperations();
        this.scheduleDownloadsUpdate();
        return undefined;
      case 'play_game':
        return this.play(gameIdOf(args));
      case 'stop_game':
        // The game's exit (onExit) clears its running mark, as when it ends on its own.
        this.stoppers.get(gameIdOf(args))?.();
        return undefined;
      case 'update_game_directory':
        return this.updateGameDirectory((args as CommandArgs<'update_game_directory'>)?.path);
      case 'pick_game_directory':
        return null;
      case 'get_settings':
        return this.deps.settings.get();
      case 'set_settings':
        return this.setSettings(args as CommandArgs<'set_settings'>);
      case 'share_game': {
        const shared = await runtime.shareGame(args as CommandArgs<'share_game'>);
        this.scheduleListUpdate();
        return shared;
      }
      case 'unshare_game':
        await runtime.unshareGame(gameIdOf(args));
        this.scheduleListUpdate();
        return undefined;
      default:
        return missingCase(command);
    }
  }

  private gameViews() {
    const { runtime } = this.deps;
    return buildGameViews({
      catalog: runtime.catalog(),
      local: new Map(runtime.localGames().map((game) => [game.id, game])),
      remote: runtime.remoteGames(),
      operations: new Map(runtime.operations().map((operation) => [operation.gameId, this.project(operation)])),
      running: this.running,
      platform: process.platform,
      descriptions: runtime.descriptions(),
      peerName: (peerId) => runtime.peers().find((record) => record.info.peerId === peerId)?.info.name ?? peerId.slice(0, 12),
    });
  }

  /** The runtime's operation as the contract shows it: with its place in the queue. */
  private project(operation: Operation): OperationView {
    return { ...operation, queuePosition: this.deps.runtime.queue.positionOf(operation.gameId) };
  }

  private downloadsView(): DownloadsView {
    const { runtime } = this.deps;
    return {
      queue: runtime.queue.list().map((operation) => this.project(operation)),
      // The page lists downloads: an uninstall or a removal that ended is not one.
      finished: runtime.finishedOperations().filter((operation) => isQueuedKind(operation.kind)).map((operation) => this.project(operation)),
      concurrency: runtime.queue.getConcurrency(),
    };
  }

  private peerViews(): PeerView[] {
    return this.deps.runtime.peers().map((record) => ({
      peerId: record.info.peerId,
      name: record.info.name,
      host: record.info.host,
      port: record.info.port,
      source: record.info.source,
      gameCount: record.games.length,
      rttMs: record.rttMs,
      ...(({ uploaded, downloaded }) => ({ uploadedBytes: uploaded, downloadedBytes: downloaded }))(this.deps.runtime.transfersWith(record.info.peerId)),
    }));
  }

  private async updateGameDirectory(dir: unknown): Promise<void> {
    const resolved = await checkGameDir(dir);
    await this.deps.runtime.setGameDir(resolved);
    const settings = await this.deps.settings.update({ gameDir: resolved });
    this.events.emit('settings-changed', { settings });
    this.scheduleListUpdate();
  }

  private async setSettings(patch: CommandArgs<'set_settings'>): Promise<Settings> {
    if (typeof patch !== 'object' || patch === null) throw new LanspreadError('MALFORMED_MESSAGE', 'Settings patch must be an object');
    if (patch.gameDir !== undefined && patch.gameDir !== null) await this.updateGameDirectory(patch.gameDir);
    const { gameDir: _ignored, ...rest } = patch;
    for (const key of ['downloadLimitBytesPerSec', 'uploadLimitBytesPerSec'] as const) {
      const value = rest[key];
      if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
        throw new LanspreadError('MALFORMED_MESSAGE', `${key} must be a non-negative number of bytes per second`);
      }
    }
    if (rest.displayName !== undefined) {
      if (typeof rest.displayName !== 'string' || rest.displayName.trim() === '') throw new LanspreadError('MALFORMED_MESSAGE', 'The display name must not be empty');
      rest.displayName = rest.displayName.trim().slice(0, 64);
    }
    // Applied before saving: an invalid peer address is refused instead of persisted.
    if (rest.manualPeers) this.deps.runtime.setManualPeers(rest.manualPeers);
    // Refused (MALFORMED_MESSAGE) before anything is saved when it is not a whole number from 1 to 8.
    if (rest.maxConcurrentDownloads !== undefined) {
      this.deps.runtime.queue.setConcurrency(rest.maxConcurrentDownloads);
      // The downloads page shows it, and a new limit need not start or stop anything.
      this.scheduleDownloadsUpdate();
    }
    this.deps.runtime.setBandwidthLimits({ downloadBytesPerSec: rest.downloadLimitBytesPerSec, uploadBytesPerSec: rest.uploadLimitBytesPerSec });
    const settings = await this.deps.settings.update(rest);
    // Peers see a new name within seconds, not after a restart.
    this.deps.runtime.setDisplayName(settings.displayName);
    this.events.emit('settings-changed', { settings });
    return settings;
  }

  /** Install goes to the end of the queue (an install of archives already here unpacks at once, outside the transfer count). */
  private install(gameId: string, mode: InstallMode): void {
    const { runtime } = this.deps;
    this.requireKnownGame(gameId);
    const game = runtime.localGames().find((g) => g.id === gameId);
    if (game?.installed) throw new LanspreadError('ALREADY_INSTALLED', `${gameId} is already installed`, { details: { gameId } });
    // Archives already here are unpacked, whatever the mode (streaming would fetch them again).
    runtime.queue.add(gameId, mode === 'streamed' && !game?.downloaded ? 'stream-install' : 'install');
  }

  /** The archives of the newest version on the LAN, verified and kept; installing is left for later. */
  private downloadOnly(gameId: string): void {
    this.requireKnownGame(gameId);
    this.deps.runtime.queue.add(gameId, 'download');
  }

  /**
   * A game installed by a streamed install has no archives to keep in sync, so its update is
   * streamed too (the queue's transfer decides); otherwise the new archives are downloaded and
   * installed over the old ones.
   */
  private update(gameId: string): void {
    this.requireKnownGame(gameId);
    this.deps.runtime.queue.add(gameId, 'update');
  }

  private async cancel(gameId: string): Promise<void> {
    const { runtime } = this.deps;
    if (runtime.queue.has(gameId)) return runtime.queue.cancel(gameId);
    if (!runtime.cancelDownload(gameId)) throw new LanspreadError('NOT_DOWNLOADED', 'No download of that game is running', { details: { gameId } });
  }

  /** A catalog game, or one a peer (or this one) shares beyond the catalog with a description. */
  private requireKnownGame(gameId: string): void {
    if (!this.deps.runtime.isKnownGame(gameId)) throw new LanspreadError('NOT_IN_CATALOG', `Unknown game ${gameId}`, { details: { gameId } });
  }

  private async play(gameId: string): Promise<void> {
    if (!this.deps.launchGame) throw new LanspreadError('INTERNAL', 'Playing games is not supported here');
    const game = this.deps.runtime.localGames().find((g) => g.id === gameId);
    if (!game?.installed) throw new LanspreadError('NOT_INSTALLED', `Install ${gameId} before playing it`);
    const started = await this.deps.launchGame(gameId, () => {
      this.running.delete(gameId);
      this.stoppers.delete(gameId);
      this.events.emit('game-running-changed', { gameId, running: false });
      this.scheduleListUpdate();
    });
    this.running.add(gameId);
    if (started) this.stoppers.set(gameId, () => started.stop());
    this.events.emit('game-running-changed', { gameId, running: true });
    this.scheduleListUpdate();
  }

  private onRuntimeEvent(event: string, payload: unknown): void {
    try {
      this.forward(event, payload);
    } catch (error) {
      this.events.emit('runtime-error', { error: toLanspreadError(error).toInfo() });
    }
  }

  /** Runtime events pass through unchanged (same names), are projected (operations, peers), or trigger a list refresh. */
  private forward(event: string, payload: unknown): void {
    switch (event) {
      case 'operation-changed': {
        const { operation, figuresOnly } = payload as { operation: Operation; figuresOnly: boolean };
        this.events.emit('operation-changed', { operation: this.project(operation) });
        // New figures change nothing in the snapshots but this operation, which clients apply
        // from the event itself: rebuilding the whole list for each sample (4 a second per
        // download) only made every client take it in again.
        if (figuresOnly) return;
        this.scheduleListUpdate();
        this.scheduleDownloadsUpdate();
        return;
      }
      case 'peer-connected': {
        const { peer } = payload as { peer: { peerId: string } };
        const view = this.peerViews().find((p) => p.peerId === peer.peerId);
        if (view) this.events.emit('peer-connected', { peer: view });
        this.scheduleListUpdate();
        return;
      }
      case 'peer-disconnected':
      case 'peer-count':
      case 'runtime-error':
        this.events.emit(event, payload as never);
        this.scheduleListUpdate();
        return;
      case 'library-changed':
      case 'remote-games-changed':
        this.scheduleListUpdate();
        return;
      default:
        // Transfer and install details for tools that want them (the CLI's progress line); the UI's state comes from operation-changed.
        if (event.startsWith('game-')) this.events.emit(event as EventName, payload as never);
    }
  }

  private scheduleDownloadsUpdate(): void {
    if (this.downloadsTimer) return;
    this.downloadsTimer = setTimeout(() => {
      this.downloadsTimer = null;
      this.events.emit('downloads-updated', { downloads: this.downloadsView() });
    }, this.deps.listDebounceMs ?? 100);
  }

  private scheduleListUpdate(): void {
    if (this.listTimer) return;
    this.listTimer = setTimeout(() => {
      this.listTimer = null;
      this.events.emit('games-list-updated', { games: this.gameViews() });
    }, this.deps.listDebounceMs ?? 100);
  }
}

function gameIdOf(args: unknown): string {
  const gameId = (args as { gameId?: unknown } | null)?.gameId;
  if (typeof gameId !== 'string' || gameId === '') throw new LanspreadError('MALFORMED_MESSAGE', 'gameId is required');
  return gameId;
}

