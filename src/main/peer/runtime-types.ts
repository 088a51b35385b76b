import type { InstallMode, LauncherEvents, OperationKind } from '../../shared/api';
import type { Catalog } from '../../shared/catalog';
import type { ErrorInfo } from '../../shared/errors';
import type { GameManifest, LocalGameState, PeerId, PeerInfo } from '../../shared/model';
import type { PeerManagerTimings } from './peers/peer-manager';
import type { PeerRecord, RemoteGame } from './peers/peer-game-db';
import type { Logger } from './util/logger';

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
  /** `host:port` strings of peers to contact without mDNS. */
  manualPeers?: string[];
  mdns?: { enabled: boolean; includeLoopback?: boolean; requeryIntervalMs?: number };
  timings?: Partial<PeerManagerTimings>;
  /** Chunk size of the manifests this peer serves (tests use small ones). */
  chunkSize?: number;
  /** Debounce of the library watcher; the fallback full scan runs every `fallbackScanMs`. */
  libraryDebounceMs?: number;
  fallbackScanMs?: number;
  logger?: Logger;
}

export interface ActiveOperation {
  gameId: string;
  kind: OperationKind;
}

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
  /** Operation snapshot: emitted separately from library changes. */
  'operations-changed': { active: ActiveOperation[] };
  'peer-connected': { peer: PeerInfo };
  /** Some peer's game list changed. */
  'remote-games-changed': { peerId: PeerId };
  'got-game-files': { gameId: string; manifest: GameManifest; sources: PeerId[] };
  'runtime-error': { error: ErrorInfo };
}

export interface PeerRuntime {
  readonly peerId: PeerId;
  readonly displayName: string;
  /** QUIC control-plane port actually bound. */
  readonly port: number;
  on<E extends keyof RuntimeEvents & string>(event: E, listener: (payload: RuntimeEvents[E]) => void): () => void;
  onAny(listener: <E extends keyof RuntimeEvents & string>(event: E, payload: RuntimeEvents[E]) => void): () => void;

  gameDir(): string | null;
  catalog(): Catalog;
  /** Local library snapshot (every catalog game with a folder in the game directory). */
  localGames(): LocalGameState[];
  /** Games on the LAN, aggregated over live peers. */
  remoteGames(): Map<string, RemoteGame>;
  peers(): PeerRecord[];
  getPeerCount(): number;
  activeOperations(): ActiveOperation[];

  /** Fetches the manifest of the latest version from its sources (emits got-game-files). */
  getGame(gameId: string): Promise<{ manifest: GameManifest; sources: PeerId[] }>;
  /** Like getGame but always asks peers, ignoring local archives (for updates). */
  fetchLatestFromPeers(gameId: string): Promise<{ manifest: GameManifest; sources: PeerId[] }>;
  setGameDir(dir: string | null): Promise<void>;
  setManualPeers(addresses: string[]): void;
  /** Rescans the whole library now (also runs on a timer). */
  rescan(): Promise<void>;

  /** Later issues: download, install, uninstall, remove, cancel, stream install. */
  install?(gameId: string, mode: InstallMode): Promise<void>;

  stop(): Promise<void>;
}
