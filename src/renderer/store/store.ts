import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { EVENT_NAMES, type CommandArgs, type CommandName, type CommandResult, type EventName, type EventPayload, type InstallMode } from '../../shared/api';
import type { GameDescription, ShareGameRequest } from '../../shared/game-description';
import type { Settings } from '../../shared/settings';
import type { ConnectedApi, ConnectionState } from '../api/connection';
import type { NotificationsState, Notifier } from '../notifications';
import { toErrorInfo } from '../error-text';
import type { LibraryFilter, LibrarySort } from './selectors';
import { applyDownloadsSnapshot, applyEvent, applyGamesSnapshot, applyPeersSnapshot, clearFinished, dismissToast, initialLauncherState, pushToast, type AnyEvent, type LauncherState } from './state';

export type View = 'library' | 'downloads' | 'peers' | 'settings';

/** What the player is looking at; never sent anywhere. */
export interface UiState {
  view: View;
  search: string;
  filter: LibraryFilter;
  sort: LibrarySort;
  selectedId: string | null;
  detailOpen: boolean;
  connection: ConnectionState;
  /** Desktop notifications of ended downloads: the app's own, or the browser's once the player allowed them. */
  notifications: NotificationsState;
}

export interface AppState extends LauncherState, UiState {}

const initialUi: UiState = { view: 'library', search: '', filter: 'all', sort: 'title', selectedId: null, detailOpen: false, connection: 'connecting', notifications: 'unsupported' };

export type AppStore = StoreApi<AppState>;

export function createAppStore(): AppStore {
  return createStore<AppState>(() => ({ ...initialLauncherState, ...initialUi }));
}

/** Applies a launcher-state transition to the store (UI fields are left alone). */
function update(store: AppStore, change: (state: LauncherState) => LauncherState): void {
  const before = store.getState();
  const after = change(before);
  if (after !== before) store.setState(after);
}

/**
 * Feeds the store from the API outside React: every contract event goes through applyEvent,
 * and each (re)connection re-reads the snapshots, since events missed while away are gone.
 */
export function connectStore(store: AppStore, api: ConnectedApi): () => void {
  const offs = EVENT_NAMES.map((event) =>
    api.on(event, (payload: EventPayload<EventName>) => update(store, (s) => applyEvent(s, { event, payload } as AnyEvent))),
  );
  offs.push(
    api.onConnection((connection) => {
      store.setState({ connection });
      if (connection === 'open') void refresh(store, api);
    }),
  );
  return () => offs.forEach((off) => off());
}

export async function refresh(store: AppStore, api: ConnectedApi): Promise<void> {
  await Promise.all([
    call(store, api, 'request_games').then((r) => r.ok && update(store, (s) => applyGamesSnapshot(s, r.value))),
    call(store, api, 'request_peers').then((r) => r.ok && update(store, (s) => applyPeersSnapshot(s, r.value))),
    call(store, api, 'request_downloads').then((r) => r.ok && update(store, (s) => applyDownloadsSnapshot(s, r.value))),
    call(store, api, 'get_settings').then((r) => r.ok && store.setState({ settings: r.value })),
    call(store, api, 'get_status').then((r) => r.ok && store.setState({ status: r.value, peerCount: r.value.peerCount })),
  ]);
}

export type CallResult<T> = { ok: true; value: T } | { ok: false };

/** Runs a command; a rejection becomes a toast (void commands resolve to null over the WebSocket, hence the wrapper). */
export async function call<K extends CommandName>(store: AppStore, api: ConnectedApi, command: K, args?: CommandArgs<K>): Promise<CallResult<CommandResult<K>>> {
  try {
    const invoke = api.invoke as (command: K, args?: CommandArgs<K>) => Promise<CommandResult<K>>;
    return { ok: true, value: await (args === undefined ? invoke(command) : invoke(command, args)) };
  } catch (error) {
    const gameId = typeof args === 'object' && args !== null && 'gameId' in args ? String(args.gameId) : null;
    update(store, (s) => pushToast(s, toErrorInfo(error), gameId));
    return { ok: false };
  }
}

/** The commands the UI gives, bound to a store and an API. */
export function createActions(store: AppStore, api: ConnectedApi, notifier?: Notifier) {
  if (notifier) store.setState({ notifications: notifier.state() });
  return {
    install: (gameId: string, mode: InstallMode) => call(store, api, 'install_game', { gameId, mode }),
    update: (gameId: string) => call(store, api, 'update_game', { gameId }),
    play: (gameId: string) => call(store, api, 'play_game', { gameId }),
    stop: (gameId: string) => call(store, api, 'stop_game', { gameId }),
    cancel: (gameId: string) => call(store, api, 'cancel_download', { gameId }),
    pause: (gameId: string) => call(store, api, 'pause_download', { gameId }),
    resume: (gameId: string) => call(store, api, 'resume_download', { gameId }),
    /** To `position` among the downloads waiting for their turn (0 = next). */
    move: (gameId: string, position: number) => call(store, api, 'move_download', { gameId, position }),
    async clearFinished(): Promise<void> {
      const { ok } = await call(store, api, 'clear_finished_downloads');
      if (ok) update(store, clearFinished);
    },
    /** Turns the browser's notifications on (asking its permission: call from a click) or off. */
    async setNotifications(on: boolean): Promise<void> {
      if (!notifier) return;
      store.setState({ notifications: on ? await notifier.enable() : notifier.disable() });
    },
    uninstall: (gameId: string) => call(store, api, 'uninstall_game', { gameId }),
    removeDownloaded: (gameId: string) => call(store, api, 'remove_downloaded_game', { gameId }),
    async pickDirectory(): Promise<string | null> {
      const picked = await call(store, api, 'pick_game_directory');
      return picked.ok ? picked.value : null;
    },
    async setGameDirectory(path: string): Promise<boolean> {
      const { ok } = await call(store, api, 'update_game_directory', { path });
      if (ok) await refresh(store, api);
      return ok;
    },
    async saveSettings(patch: Partial<Omit<Settings, 'schemaVersion'>>): Promise<boolean> {
      const saved = await call(store, api, 'set_settings', patch);
      if (saved.ok) store.setState({ settings: saved.value });
      return saved.ok;
    },
    /** The stored description, or null when refused (the toast says why). */
    async shareGame(request: ShareGameRequest): Promise<GameDescription | null> {
      const shared = await call(store, api, 'share_game', request);
      return shared.ok ? shared.value : null;
    },
    unshareGame: (gameId: string) => call(store, api, 'unshare_game', { gameId }),
    dismissToast: (id: number) => update(store, (s) => dismissToast(s, id)),
    /**
     * Re-reads the peer list (its traffic figures change without an event). A poll: a failure
     * (the host is away) toasts nothing, the connection banner already says so.
     */
    refreshPeers: () =>
      Promise.all([
        api.invoke('request_peers').then(
          (peers) => update(store, (s) => applyPeersSnapshot(s, peers)),
          () => undefined,
        ),
        // The status carries this machine's addresses and how the manual peers answer.
        api.invoke('get_status').then(
          (status) => store.setState({ status }),
          () => undefined,
        ),
      ]),
    hasNativePicker: api.hasNativePicker,
  };
}

export type Actions = ReturnType<typeof createActions>;

export function useApp<T>(store: AppStore, select: (state: AppState) => T): T {
  return useStore(store, select);
}
