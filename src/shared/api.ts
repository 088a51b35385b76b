import type { ErrorInfo } from './errors';
import type { GameDescription, ShareGameRequest } from './game-description';
import type { LocalAvailability, PeerId } from './model';
import type { Operation, PeerBytes, SwarmFigures } from './operation';
import type { Settings } from './settings';

/**
 * The LauncherApi contract: every command the UI can give and every event it can see.
 * The Electron preload, the WebSocket bridge of the web UI and the tests all implement or
 * consume exactly these maps, so a channel cannot exist on one side only.
 */

export type { OperationKind, OperationPhase, OperationState, PeerBytes, SwarmFigures } from './operation';
export { swarmFiguresOf } from './operation';

export type InstallMode = 'normal' | 'streamed';

/** A game's operation as the UI sees it: the runtime's model, plus where it stands in the download queue. */
export interface OperationView extends Operation {
  /** 0 = next to start; null when it is not waiting in the queue (running, paused, ended, or not a download). */
  queuePosition: number | null;
}

/** The Downloads page: the queue in order (running first), and what ended since the player last cleared the list. */
export interface DownloadsView {
  queue: OperationView[];
  finished: OperationView[];
  /** How many transfers run at once. */
  concurrency: number;
}

/** One game as the library UI shows it: catalog facts + this machine + the LAN. */
export interface GameView {
  id: string;
  title: string;
  description: string;
  genres: string[];
  maxPlayers: number;
  releaseYear: number;
  /** Real size once any peer or the local scan knows it, else the catalog hint. */
  sizeBytes: number;
  downloaded: boolean;
  installed: boolean;
  availability: LocalAvailability;
  localVersion: string | null;
  installedVersion: string | null;
  /** Newest version any reachable peer offers, or the local one. */
  latestVersion: string | null;
  /** Peers that serve the latest version (whole or, while they download it, partly). */
  sourcePeers: PeerId[];
  /** Peers of the latest version announce different bytes: only one set is downloaded, never a mix. */
  manifestConflict: boolean;
  updateAvailable: boolean;
  operation: OperationView | null;
  running: boolean;
  canPlay: boolean;
  /** Present for a game beyond the bundled catalog: who describes it (the catalog's own games have none). */
  shared?: SharedGameView;
}

/** A game shared by description rather than from the bundled catalog. */
export interface SharedGameView {
  /** Described on this machine (shared from here). */
  own: boolean;
  /** Names of the peers announcing the description shown (this machine's own is `own`). */
  sharedBy: string[];
  /** Other descriptions of the same id that other peers announce: shown side by side, never merged. */
  conflicts: Array<{ title: string; sharedBy: string[] }>;
}

export interface PeerView {
  peerId: PeerId;
  name: string;
  host: string;
  port: number;
  source: 'mdns' | 'manual';
  gameCount: number;
  /** Round-trip of the last liveness ping, in milliseconds. */
  rttMs: number | null;
  /** Bytes this machine has sent to the peer, and received from it, since the launcher started. */
  uploadedBytes: number;
  downloadedBytes: number;
}

export interface RuntimeStatus {
  peerId: PeerId | null;
  displayName: string;
  gameDir: string | null;
  running: boolean;
  peerCount: number;
  /** UDP control port this peer listens on; `portTaken`: the port asked for, when it was taken and this one bound instead. */
  controlPort?: number;
  portTaken?: number | null;
  /** `host:port` of this machine as other machines add it by hand (Settings → Manual peers, or `serve --peer`). */
  addresses?: string[];
  /** The manual peers (saved, and this run's) and whether they answer. */
  manualPeers?: ManualPeerView[];
}

/** A peer added by address: connected, still being tried, or unreachable and why. */
export interface ManualPeerView {
  address: string;
  state: 'connected' | 'trying' | 'unreachable';
  peerId: PeerId | null;
  /** Why the last attempt failed (state 'unreachable'). */
  reason: string | null;
}

/** Commands: name -> argument and result. */
export interface LauncherCommands {
  request_games: { args: void; result: GameView[] };
  request_peers: { args: void; result: PeerView[] };
  get_status: { args: void; result: RuntimeStatus };
  /**
   * Install, download and update add the game to the end of the download queue and resolve once
   * it is there (an install of archives already here starts at once); how it goes and ends
   * arrives as operation-changed events. They reject only when the request is refused.
   */
  install_game: { args: { gameId: string; mode?: InstallMode }; result: void };
  /** Fetches and verifies the archives only, to install later (pre-loading a LAN party's games). */
  download_game: { args: { gameId: string }; result: void };
  update_game: { args: { gameId: string }; result: void };
  uninstall_game: { args: { gameId: string }; result: void };
  remove_downloaded_game: { args: { gameId: string }; result: void };
  /** Ends a queued, running, paused or waiting download and discards what it fetched. */
  cancel_download: { args: { gameId: string }; result: void };
  /** Stops a download and frees its slot; the verified part and the journal stay. */
  pause_download: { args: { gameId: string }; result: void };
  /** Puts a paused download back into the queue where it was. */
  resume_download: { args: { gameId: string }; result: void };
  /** Moves a download waiting in the queue to `position` (0 = next to start). */
  move_download: { args: { gameId: string; position: number }; result: void };
  request_downloads: { args: void; result: DownloadsView };
  clear_finished_downloads: { args: void; result: void };
  play_game: { args: { gameId: string }; result: void };
  /** Ends a game this launcher started (its whole process tree); nothing happens if it is not running. */
  stop_game: { args: { gameId: string }; result: void };
  update_game_directory: { args: { path: string }; result: void };
  /** Native folder picker; returns null when cancelled or where no picker exists (browser). */
  pick_game_directory: { args: void; result: string | null };
  get_settings: { args: void; result: Settings };
  set_settings: { args: Partial<Omit<Settings, 'schemaVersion'>>; result: Settings };
  /**
   * Shares the game folder `<game folder>/<id>/` under a description (a game beyond the bundled
   * catalog); with `version`, writes it as the folder's version.ini, else the folder's own is used.
   */
  share_game: { args: ShareGameRequest; result: GameDescription };
  /** Stops sharing a game this machine described: peers no longer list it from here; its folder stays as it is. */
  unshare_game: { args: { gameId: string }; result: void };
}

export type CommandName = keyof LauncherCommands;
export type CommandArgs<K extends CommandName> = LauncherCommands[K]['args'];
export type CommandResult<K extends CommandName> = LauncherCommands[K]['result'];

/** Events: name -> payload. */
export interface LauncherEvents {
  'games-list-updated': { games: GameView[] };
  /** The one event of a game's operation: every change of its state, phase, progress or outcome. */
  'operation-changed': { operation: OperationView };
  /** The queue's order or the finished list changed (coalesced). */
  'downloads-updated': { downloads: DownloadsView };
  'game-download-begin': { gameId: string; version: string; totalBytes: number };
  'game-download-progress': { gameId: string; bytesDone: number; totalBytes: number; bytesPerSecond: number; diskBytesPerSecond?: number; etaSeconds: number | null; activePeers: number; peerBytes?: PeerBytes[] } & SwarmFigures;
  'game-download-finished': { gameId: string; version: string };
  /** `resumes`: the verified part was kept, and the download picks up from there (on its own once a peer has the game). */
  'game-download-failed': { gameId: string; error: ErrorInfo; resumes?: boolean };
  'game-download-cancelled': { gameId: string };
  'game-install-begin': { gameId: string; mode: InstallMode };
  'game-install-progress': { gameId: string; bytesDone: number; totalBytes: number; bytesPerSecond: number; etaSeconds: number | null; activePeers: number };
  'game-install-finished': { gameId: string; version: string | null };
  'game-install-failed': { gameId: string; error: ErrorInfo };
  'game-uninstall-begin': { gameId: string };
  'game-uninstall-finished': { gameId: string };
  'game-uninstall-failed': { gameId: string; error: ErrorInfo };
  'game-running-changed': { gameId: string; running: boolean };
  'peer-connected': { peer: PeerView };
  'peer-disconnected': { peerId: PeerId };
  'peer-count': { count: number };
  'runtime-error': { error: ErrorInfo };
  'settings-changed': { settings: Settings };
}

export type EventName = keyof LauncherEvents;
export type EventPayload<E extends EventName> = LauncherEvents[E];

// Keyed records so that adding a command or event without listing it here fails to compile.
const EVENT_KEYS: Record<EventName, true> = {
  'games-list-updated': true,
  'operation-changed': true,
  'downloads-updated': true,
  'game-download-begin': true,
  'game-download-progress': true,
  'game-download-finished': true,
  'game-download-failed': true,
  'game-download-cancelled': true,
  'game-install-begin': true,
  'game-install-progress': true,
  'game-install-finished': true,
  'game-install-failed': true,
  'game-uninstall-begin': true,
  'game-uninstall-finished': true,
  'game-uninstall-failed': true,
  'game-running-changed': true,
  'peer-connected': true,
  'peer-disconnected': true,
  'peer-count': true,
  'runtime-error': true,
  'settings-changed': true,
};

const COMMAND_KEYS: Record<CommandName, true> = {
  request_games: true,
  request_peers: true,
  get_status: true,
  install_game: true,
  download_game: true,
  update_game: true,
  uninstall_game: true,
  remove_downloaded_game: true,
  cancel_download: true,
  pause_download: true,
  resume_download: true,
  move_download: true,
  request_downloads: true,
  clear_finished_downloads: true,
  play_game: true,
  stop_game: true,
  update_game_directory: true,
  pick_game_directory: true,
  get_settings: true,
  set_settings: true,
  share_game: true,
  unshare_game: true,
};

export const EVENT_NAMES = Object.keys(EVENT_KEYS) as EventName[];
export const COMMAND_NAMES = Object.keys(COMMAND_KEYS) as CommandName[];

export function isCommandName(value: unknown): value is CommandName {
  return typeof value === 'string' && Object.hasOwn(COMMAND_KEYS, value);
}

/** What every face (preload, WebSocket client) gives the renderer. Rejections carry ErrorInfo. */
export interface LauncherApi {
  invoke<K extends CommandName>(command: K, ...args: CommandArgs<K> extends void ? [] : [CommandArgs<K>]): Promise<CommandResult<K>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/**
 * The main-side face of the contract: what the Electron IPC handlers and the WebSocket bridge
 * call. One implementation sits over the peer runtime; the faces only forward.
 */
export interface LauncherBackend {
  handle<K extends CommandName>(command: K, args: CommandArgs<K>): Promise<CommandResult<K>>;
  subscribe(listener: <E extends EventName>(event: E, payload: EventPayload<E>) => void): () => void;
}
