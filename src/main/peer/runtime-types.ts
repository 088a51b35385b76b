import type { LauncherEvents } from '../../shared/api';
import type { ActiveOperation } from './operations/operation-registry';
import type { Catalog } from '../../shared/catalog';
import type { ErrorInfo } from '../../shared/errors';
import type { GameDescription, ShareGameRequest } from '../../shared/game-description';
import type { KnownDescription } from './library/game-descriptions';
import type { Operation } from '../../shared/operation';
import type { DownloadQueue } from './runtime/download-queue';
import type { GameManifest, LocalGameState, PeerId, PeerInfo } from '../../shared/model';
import type { PeerManagerTimings } from './peers/peer-manager';
import type { PeerRecord, RemoteGame } from './peers/peer-game-db';
import type { SchedulerTuning } from './download/chunk-scheduler';
import type { StreamInstallTuning } from './runtime/stream-install-orchestrator';
import type { DataLaneServerOptions } from './transport/data-lane/lane-server';
import type { StreamInstallProvider } from './stream/stream-provider';
import type { Unpacker } from './unpack/unpacker';
import type { Logger } from './util/logger';

export interface StreamInstallReport {
  version: string;
  /** The peer whose stream was installed, and those that failed before it. */
  sender: { peerId: PeerId; name: string };
  failedSenders: Array<{ peerId: PeerId; name: string; error: ErrorInfo }>;
}

export interface PeerConfig {
  /** Launcher-owned state: identity, index, intents, journals. Never inside a game folder. */
  stateDir: string;
  /** Folder with one sub-folder per game; null until the player picks one. */
  gameDir: string | null;
  displayName: string;
  /** Defaults to the bundled resources/catalog.json. */
  catalog?: Catalog;
  /** Control-plane bind address and UDP port (0 = any free port). */
  host?: string;
  port?: number;
  /**
   * When `port` is taken, bind any free port instead of failing (the hosts' fixed default port:
   * a second launcher on the machine still starts). The runtime says so in `portTaken`.
   */
  portFallback?: boolean;
  /** `host:port` strings of peers to contact without mDNS (the player's saved list). */
  manualPeers?: string[];
  /**
   * Peers contacted for this run only, beside the saved ones (`serve --peer`, the demo's seeds):
   * setManualPeers replaces the saved list and keeps these.
   */
  sessionPeers?: string[];
  mdns?: { enabled: boolean; includeLoopback?: boolean; requeryIntervalMs?: number };
  timings?: Partial<PeerManagerTimings>;
  /** TCP port of the TLS data lane (0 = any free port). */
  dataPort?: number;
  /** Bytes per second; 0 or absent = unlimited. */
  downloadLimitBytesPerSec?: number;
  uploadLimitBytesPerSec?: number;
  /** Archive extraction; defaults to node-unrar-js in worker threads. */
  unpacker?: Unpacker;
  /** Unpacks archives for peers asking for a streamed install; defaults to node-unrar-js in a worker. */
  streamProvider?: StreamInstallProvider;
  /** Archive password per game, when a game's archives are encrypted. */
  archivePassword?: (gameId: string) => string | undefined;
  /**
   * Downloads that stopped short (a crash, a quit, every source gone) start again on their own
   * once a peer shares the game, fetching only what their journal does not hold. Default true.
   */
  resumeDownloads?: boolean;
  /** How many downloads (or streamed installs) of the queue transfer at once; default 1. */
  maxConcurrentDownloads?: number;
  /** After a queued download lost its sources, the first retry without a peer event comes this late (tests shorten it). */
  queueRetryAfterMs?: number;
  /** Scheduler knobs (tests shorten stall and grace periods). */
  downloadTuning?: Partial<SchedulerTuning>;
  /** Streamed installs this peer receives: senders' deadlines and what one stream may hold (tests shorten the waits). */
  streamTuning?: Partial<StreamInstallTuning>;
  /** What the data lane gives a peer that does not take what it asked for (tests shorten it). */
  laneTuning?: Pick<DataLaneServerOptions, 'writeStallMs' | 'minWriteRate'>;
  /** Chunk size of the manifests this peer serves (tests use small ones); by default chosen per game by its size (chunkSizeFor). */
  chunkSize?: number;
  /** Debounce of the library watcher; the fallback full scan runs every `fallbackScanMs`. */
  libraryDebounceMs?: number;
  fallbackScanMs?: number;
  logger?: Logger;
}

export type { ActiveOperation } from './operations/operation-registry';

/** Events of the runtime. Download/install events use the UI contract's names and payloads. */
export interface RuntimeEvents
  extends Pick<
    LauncherEvents,
    | 'game-download-begin'
    | 'game-download-progress'
    | 'game-download-finished'
    | 'game-download-failed'
    | 'game-download-cancelled'
    | 'game-install-begin'
    | 'game-install-progress'
    | 'game-install-finished'
    | 'game-install-failed'
    | 'game-uninstall-begin'
    | 'game-uninstall-finished'
    | 'game-uninstall-failed'
    | 'peer-disconnected'
    | 'peer-count'
  > {
  /** Local library changed (scan or watcher); carries only the games that changed. */
  'library-changed': { games: LocalGameState[] };
  /** The held slots changed (which games are busy); emitted separately from library changes. */
  'operations-changed': { active: ActiveOperation[] };
  /**
   * A game's operation changed (state, phase, progress or outcome): the one event of the
   * operation model. `figuresOnly`: only its progress figures moved.
   */
  'operation-changed': { operation: Operation; figuresOnly: boolean };
  'peer-connected': { peer: PeerInfo };
  /** Some peer's game list changed. */
  'remote-games-changed': { peerId: PeerId };
  'got-game-files': { gameId: string; manifest: GameManifest; sources: PeerId[] };
  /** A streamed install (re)starts from this peer; attempt 1 is the first sender. */
  'stream-install-sender': { gameId: string; peerId: PeerId; name: string; attempt: number };
  'runtime-error': { error: ErrorInfo };
}

/** What each source delivered in a finished download (also tells which peers were dropped, and which failed and were tried again). */
export interface DownloadReport {
  version: string;
  sources: { peerId: PeerId; name: string; partial: boolean; bytes: number; badChunks: number; droppedFor: ErrorInfo | null; lastError: ErrorInfo | null }[];
}

export type DownloadQueueApi = Pick<DownloadQueue, 'add' | 'has' | 'list' | 'positionOf' | 'move' | 'pause' | 'resume' | 'cancel' | 'getConcurrency' | 'setConcurrency' | 'settled'>;

export interface PeerRuntime {
  readonly peerId: PeerId;
  readonly displayName: string;
  /** Changes the name peers see: mDNS peers read it with the next revision, the others are told at once. */
  setDisplayName(name: string): void;
  /** QUIC control-plane port actually bound. */
  readonly port: number;
  /** The port asked for when it was taken and another was bound instead (config.portFallback); else null. */
  readonly portTaken: number | null;
  on<E extends keyof RuntimeEvents & string>(event: E, listener: (payload: RuntimeEvents[E]) => void): () => void;
  onAny(listener: <E extends keyof RuntimeEvents & string>(event: E, payload: RuntimeEvents[E]) => void): () => void;

  gameDir(): string | null;
  catalog(): Catalog;
  /** The bundled catalog plus the games described on this machine (shared from here or adopted), as entries: what Play can start. */
  gameCatalog(): Catalog;
  /** Games beyond the catalog this machine knows: described here (`own`) or adopted from the peers it downloaded them from. */
  descriptions(): ReadonlyMap<string, KnownDescription>;
  /** The catalog has it, this machine describes it, or a peer does: it can be shown and installed. */
  isKnownGame(gameId: string): boolean;
  /** Shares `<gameDir>/<id>/` under a description (LauncherCommands.share_game). */
  shareGame(request: ShareGameRequest): Promise<GameDescription>;
  /** Stops sharing a game described here (LauncherCommands.unshare_game). */
  unshareGame(gameId: string): Promise<void>;
  /** Local library snapshot (every catalog game with a folder in the game directory). */
  localGames(): LocalGameState[];
  /** Games on the LAN, aggregated over live peers. */
  remoteGames(): Map<string, RemoteGame>;
  peers(): PeerRecord[];
  getPeerCount(): number;
  activeOperations(): ActiveOperation[];
  /** Every game's operation that has not ended, and those that ended since the list was cleared. */
  operations(): Operation[];
  finishedOperations(): Operation[];
  clearFinishedOperations(): void;
  /** The download queue: Install, Update, Download and Streamed install wait here for their turn. */
  readonly queue: DownloadQueueApi;
  /** Reports an error that belongs to no operation (the host's process guard) as a runtime-error event. */
  reportError(error: ErrorInfo): void;

  /** Fetches the manifest of the latest version from its sources (emits got-game-files). */
  getGame(gameId: string): Promise<{ manifest: GameManifest; sources: PeerId[] }>;
  /** Like getGame but always asks peers, ignoring local archives (for updates). */
  fetchLatestFromPeers(gameId: string): Promise<{ manifest: GameManifest; sources: PeerId[] }>;
  setGameDir(dir: string | null): Promise<void>;
  /** The manual peers (saved and this session's): connected, being tried, or unreachable and why. */
  manualPeerStates(): { address: string; state: 'connected' | 'trying' | 'unreachable'; peerId: PeerId | null; reason: string | null }[];
  /** `host:port` strings other machines can add to reach this peer. */
  ownAddresses(): string[];
    /** Replaces the saved manual peers; the session's peers (config.sessionPeers) stay. */
  setManualPeers(addresses: string[]): void;
  /** Rescans the whole library now (also runs on a timer). */
  rescan(): Promise<void>;

  /**
   * Downloads the latest version from every peer that has it, then installs it (or updates
   * local/) unless `install` is false. Resolves when all of it is done; progress is in events.
   */
  download(gameId: string, options?: { install?: boolean }): Promise<DownloadReport>;
  /**
   * Low-disk install: a peer that shares the latest version unpacks its archives and streams the
   * files straight into local/ (through .local.installing/, verified). No archive and no
   * version.ini land here, so the game is installed but not shared. If the sender fails, the
   * next peer with the same version is tried (up to 3). Update when local/ exists.
   */
  streamInstall(gameId: string): Promise<StreamInstallReport>;
  /** Cancels a running download (its payload is discarded) or streamed install; false when none runs. */
  cancelDownload(gameId: string): boolean;
  /** Unpacks the downloaded archives into local/ (install, or update when local/ exists). */
  installDownloaded(gameId: string): Promise<void>;
  uninstall(gameId: string): Promise<void>;
  removeDownloaded(gameId: string): Promise<void>;
  /** Live caps in bytes per second; 0 = unlimited. */
  setBandwidthLimits(limits: { downloadBytesPerSec?: number; uploadBytesPerSec?: number }): void;
  /** Chunk bytes this peer has served since it started. */
  uploadedBytes(): number;
  /** Bytes this peer sent to and received from one peer since it started. */
  transfersWith(peerId: PeerId): { uploaded: number; downloaded: number };

  stop(): Promise<void>;
}
