import type { CommandArgs, CommandName, CommandResult, EventName, EventPayload, InstallMode, LauncherBackend, LauncherEvents, OperationView, PeerView } from '../../../shared/api';
import { swarmFiguresOf } from '../../../shared/api';
import { LanspreadError, missingCase, toLanspreadError } from '../../../shared/errors';
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
  private readonly operations = new Map<string, OperationView>();
  private readonly running = new Set<string>();
  private readonly stoppers = new Map<string, () => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private listTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: LauncherBackendDeps) {
    const { runtime } = deps;
    this.unsubscribe.push(
      runtime.onAny((event, payload) => this.onRuntimeEvent(event, payload)),
    );
  }

  dispose(): void {
    for (const off of this.unsubscribe) off();
    if (this.listTimer) clearTimeout(this.listTimer);
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
        if (!runtime.cancelDownload(gameIdOf(args))) throw new LanspreadError('NOT_DOWNLOADED', 'No download of that game is running');
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
      operations: this.operations,
      running: this.running,
      platform: process.platform,
      descriptions: runtime.descriptions(),
      peerName: (peerId) => runtime.peers().find((record) => record.info.peerId === peerId)?.info.name ?? peerId.slice(0, 12),
    });
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
    this.deps.runtime.setBandwidthLimits({ downloadBytesPerSec: rest.downloadLimitBytesPerSec, uploadBytesPerSec: rest.uploadLimitBytesPerSec });
    const settings = await this.deps.settings.update(rest);
    // Peers see a new name within seconds, not after a restart.
    this.deps.runtime.setDisplayName(settings.displayName);
    this.events.emit('settings-changed', { settings });
    return settings;
  }

  /** Long operations resolve when they end; progress and the outcome also arrive as events. */
  private async install(gameId: string, mode: InstallMode): Promise<void> {
    const { runtime } = this.deps;
    if (!runtime.isKnownGame(gameId)) throw new LanspreadError('NOT_IN_CATALOG', `Unknown game ${gameId}`);
    const game = runtime.localGames().find((g) => g.id === gameId);
    if (game?.installed) throw new LanspreadError('ALREADY_INSTALLED', `${gameId} is already installed`);
    // Archives already here: unpack them, whatever the mode (streaming would fetch them again).
    if (game?.downloaded) await runtime.installDownloaded(gameId);
    else if (mode === 'streamed') await runtime.streamInstall(gameId);
    else await runtime.download(gameId);
  }

  /** The archives of the newest version on the LAN, verified and kept; installing is left for later. */
  private async downloadOnly(gameId: string): Promise<void> {
    const { runtime } = this.deps;
    if (!runtime.isKnownGame(gameId)) throw new LanspreadError('NOT_IN_CATALOG', `Unknown game ${gameId}`);
    await runtime.download(gameId, { install: false });
  }

  /**
   * A game installed by a streamed install has no archives to keep in sync, so its update is
   * streamed too; otherwise the new archives are downloaded and installed over the old ones.
   */
  private async update(gameId: string): Promise<void> {
    const { runtime } = this.deps;
    const game = runtime.localGames().find((g) => g.id === gameId);
    if (game?.installed && !game.downloaded) await runtime.streamInstall(gameId);
    else await runtime.download(gameId);
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

  /** Runtime events either pass through unchanged (same names) or trigger a list refresh. */
  private forward(event: string, payload: unknown): void {
    switch (event) {
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
      case 'operations-changed':
        this.scheduleListUpdate();
        return;
      default:
        if (event.startsWith('game-')) {
          this.trackOperation(event, payload as { gameId: string });
          this.events.emit(event as EventName, payload as never);
          this.scheduleListUpdate();
        }
    }
  }

  /** Keeps the per-game operation view that GameView.operation shows. */
  private trackOperation(event: string, payload: { gameId: string; mode?: InstallMode } & Partial<LauncherEvents['game-download-progress']>): void {
    const { gameId } = payload;
    const ended = /-(finished|failed|cancelled)$/.test(event);
    if (ended) {
      this.operations.delete(gameId);
      return;
    }
    const previous = this.operations.get(gameId);
    const kind = operationKindOf(event, payload.mode, previous?.kind);
    this.operations.set(gameId, {
      kind,
      // A streamed install is a transfer and an unpack at once; its bytes are the peer's.
      phase: kind === 'download' || kind === 'stream-install' ? 'transfer' : kind === 'install' ? 'unpack' : 'finishing',
      bytesDone: payload.bytesDone ?? (previous?.kind === kind ? previous.bytesDone : 0),
      totalBytes: payload.totalBytes ?? (previous?.kind === kind ? previous.totalBytes : 0),
      bytesPerSecond: payload.bytesPerSecond ?? 0,
      etaSeconds: payload.etaSeconds ?? null,
      activePeers: payload.activePeers ?? 0,
      ...swarmFiguresOf(payload),
    });
  }

  private scheduleListUpdate(): void {
    if (this.listTimer) return;
    this.listTimer = setTimeout(() => {
      this.listTimer = null;
      this.events.emit('games-list-updated', { games: this.gameViews() });
    }, this.deps.listDebounceMs ?? 100);
  }
}

/** Which operation a game-* event belongs to; install progress keeps a streamed install's kind. */
function operationKindOf(event: string, mode: InstallMode | undefined, previous: OperationView['kind'] | undefined): OperationView['kind'] {
  if (event.startsWith('game-download')) return 'download';
  if (event.startsWith('game-uninstall')) return 'uninstall';
  if (event === 'game-install-begin') return mode === 'streamed' ? 'stream-install' : 'install';
  return previous === 'stream-install' ? 'stream-install' : 'install';
}

function gameIdOf(args: unknown): string {
  const gameId = (args as { gameId?: unknown } | null)?.gameId;
  if (typeof gameId !== 'string' || gameId === '') throw new LanspreadError('MALFORMED_MESSAGE', 'gameId is required');
  return gameId;
}

