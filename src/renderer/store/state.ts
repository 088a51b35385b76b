import type { EventName, EventPayload, GameView, OperationKind, OperationView, PeerView, RuntimeStatus } from '../../shared/api';
import { swarmFiguresOf } from '../../shared/api';
import type { ErrorInfo } from '../../shared/errors';
import type { Settings } from '../../shared/settings';

/** What the launcher reported, as the UI knows it. Changed only by applyEvent and snapshots. */
export interface LauncherState {
  /** False until the first games snapshot arrived: events before it have nothing to apply to. */
  loaded: boolean;
  games: Record<string, GameView>;
  /** Catalog order, so the grid does not reshuffle when one game changes. */
  order: string[];
  peers: Record<string, PeerView>;
  peerCount: number;
  settings: Settings | null;
  status: RuntimeStatus | null;
  toasts: Toast[];
  nextToastId: number;
  /**
   * Operations that ended ("download:<version>" etc.) since the last snapshot: a begin or
   * progress that arrives late for one of them must not bring the finished operation back.
   */
  settled: Record<string, string[]>;
}

export interface Toast {
  id: number;
  error: ErrorInfo;
  gameId: string | null;
  /** A download that failed but kept its progress and picks up again on its own. */
  resumes?: boolean;
}

export const initialLauncherState: LauncherState = {
  loaded: false,
  games: {},
  order: [],
  peers: {},
  peerCount: 0,
  settings: null,
  status: null,
  toasts: [],
  nextToastId: 1,
  settled: {},
};

export type AnyEvent = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName];

/** Replaces the game list with an authoritative snapshot; forgets settled tombstones. */
export function applyGamesSnapshot(state: LauncherState, games: GameView[]): LauncherState {
  const map: Record<string, GameView> = {};
  for (const game of games) map[game.id] = game;
  return { ...state, loaded: true, games: map, order: games.map((g) => g.id), settled: {} };
}

export function applyPeersSnapshot(state: LauncherState, peers: PeerView[]): LauncherState {
  const map: Record<string, PeerView> = {};
  for (const peer of peers) map[peer.peerId] = peer;
  return { ...state, peers: map, peerCount: Math.max(state.peerCount, peers.length) };
}

export function pushToast(state: LauncherState, error: ErrorInfo, gameId: string | null = null, resumes = false): LauncherState {
  // The same failure reported twice (duplicated event, or event + rejected command) shows once,
  // with what the event knows (that it resumes) even when the rejected command came first.
  const duplicate = state.toasts.find((t) => t.gameId === gameId && t.error.code === error.code && t.error.message === error.message);
  if (duplicate) return resumes && !duplicate.resumes ? { ...state, toasts: state.toasts.map((t) => (t === duplicate ? { ...t, resumes } : t)) } : state;
  const toast: Toast = { id: state.nextToastId, error, gameId, ...(resumes ? { resumes } : {}) };
  return { ...state, toasts: [...state.toasts, toast].slice(-5), nextToastId: state.nextToastId + 1 };
}

export function dismissToast(state: LauncherState, id: number): LauncherState {
  return { ...state, toasts: state.toasts.filter((t) => t.id !== id) };
}

/**
 * Folds one launcher event into the state. Pure, and tolerant of what a real event stream does:
 * events for games not in the list are dropped, duplicates change nothing, progress never moves
 * backwards, and a begin/progress arriving after its operation ended is ignored.
 */
export function applyEvent(state: LauncherState, input: AnyEvent): LauncherState {
  switch (input.event) {
    case 'games-list-updated':
      return applyGamesSnapshot(state, input.payload.games);
    case 'game-download-begin': {
      const { gameId, version, totalBytes } = input.payload;
      if (isSettled(state, gameId, `download:${version}`)) return state;
      return startOperation(state, gameId, 'download', totalBytes);
    }
    case 'game-install-begin': {
      const { gameId, mode } = input.payload;
      if (isSettled(state, gameId, `install:${mode}`)) return state;
      return startOperation(state, gameId, mode === 'streamed' ? 'stream-install' : 'install', 0);
    }
    case 'game-download-progress':
    case 'game-install-progress':
      return progress(state, input.payload);
    case 'game-download-finished': {
      const { gameId, version } = input.payload;
      return endOperation(state, gameId, `download:${version}`, (g) => ({ ...g, downloaded: true, localVersion: version }));
    }
    case 'game-download-failed':
      return withToast(endOperation(state, input.payload.gameId, null, (g) => g), input.payload.error, input.payload.gameId, input.payload.resumes === true);
    case 'game-download-cancelled':
      return endOperation(state, input.payload.gameId, null, (g) => g);
    case 'game-install-finished': {
      const { gameId, version } = input.payload;
      const kind = state.games[gameId]?.operation?.kind === 'stream-install' ? 'streamed' : 'normal';
      return endOperation(state, gameId, `install:${kind}`, (g) => ({ ...g, installed: true, installedVersion: version ?? g.installedVersion }));
    }
    case 'game-install-failed':
      return withToast(endOperation(state, input.payload.gameId, null, (g) => g), input.payload.error, input.payload.gameId);
    case 'game-uninstall-begin': {
      const game = state.games[input.payload.gameId];
      if (!game || !game.installed) return state;
      return startOperation(state, game.id, 'uninstall', 0);
    }
    case 'game-uninstall-finished': {
      const { gameId } = input.payload;
      const next = endOperation(state, gameId, null, (g) => ({ ...g, installed: false, installedVersion: null, running: false, canPlay: false }));
      // After an uninstall the same install may legitimately run again.
      if (!next.settled[gameId]) return next;
      const settled = { ...next.settled };
      delete settled[gameId];
      return { ...next, settled };
    }
    case 'game-uninstall-failed':
      return withToast(endOperation(state, input.payload.gameId, null, (g) => g), input.payload.error, input.payload.gameId);
    case 'game-running-changed': {
      const { gameId, running } = input.payload;
      return updateGame(state, gameId, (g) => (g.running === running ? g : { ...g, running }));
    }
    case 'peer-connected': {
      const { peer } = input.payload;
      const had = Object.hasOwn(state.peers, peer.peerId);
      const peers = { ...state.peers, [peer.peerId]: peer };
      return { ...state, peers, peerCount: had ? state.peerCount : Math.max(state.peerCount, Object.keys(peers).length) };
    }
    case 'peer-disconnected': {
      const { peerId } = input.payload;
      if (!Object.hasOwn(state.peers, peerId)) return state;
      const peers = { ...state.peers };
      delete peers[peerId];
      return { ...state, peers, peerCount: Math.min(state.peerCount, Object.keys(peers).length) };
    }
    case 'peer-count':
      return input.payload.count === state.peerCount ? state : { ...state, peerCount: Math.max(0, input.payload.count) };
    case 'runtime-error':
      return pushToast(state, input.payload.error, null);
    case 'settings-changed':
      return { ...state, settings: input.payload.settings };
    default:
      // A newer host may send events this UI does not know yet; they change nothing.
      return state;
  }
}

function updateGame(state: LauncherState, gameId: string, change: (game: GameView) => GameView): LauncherState {
  const game = state.games[gameId];
  if (!game) return state;
  const next = change(game);
  return next === game ? state : { ...state, games: { ...state.games, [gameId]: next } };
}

function isSettled(state: LauncherState, gameId: string, key: string): boolean {
  return state.settled[gameId]?.includes(key) ?? false;
}

function startOperation(state: LauncherState, gameId: string, kind: OperationKind, totalBytes: number): LauncherState {
  return updateGame(state, gameId, (game) => {
    // A duplicated begin keeps the progress already made.
    if (game.operation?.kind === kind) return game;
    const operation: OperationView = { kind, phase: 'transfer', bytesDone: 0, totalBytes, bytesPerSecond: 0, etaSeconds: null, activePeers: 0 };
    return { ...game, operation };
  });
}

function progress(state: LauncherState, update: EventPayload<'game-download-progress'>): LauncherState {
  return updateGame(state, update.gameId, (game) => {
    const current = game.operation;
    // No running operation: this is a late report for one that already ended.
    if (!current) return game;
    if (update.bytesDone < current.bytesDone && update.totalBytes === current.totalBytes) return game;
    return {
      ...game,
      operation: {
        ...current,
        bytesDone: update.bytesDone,
        totalBytes: update.totalBytes,
        bytesPerSecond: update.bytesPerSecond,
        etaSeconds: update.etaSeconds,
        activePeers: update.activePeers,
        ...swarmFiguresOf(update),
      },
    };
  });
}

function endOperation(state: LauncherState, gameId: string, settledKey: string | null, change: (game: GameView) => GameView): LauncherState {
  if (!state.games[gameId]) return state;
  const next = updateGame(state, gameId, (game) => {
    const changed = change(game);
    return game.operation === null && sameGame(changed, game) ? game : { ...changed, operation: null };
  });
  if (!settledKey || isSettled(next, gameId, settledKey)) return next;
  return { ...next, settled: { ...next.settled, [gameId]: [...(next.settled[gameId] ?? []), settledKey] } };
}

function withToast(state: LauncherState, error: ErrorInfo, gameId: string, resumes = false): LauncherState {
  // The player pressed Cancel (a streamed install ends as a failure with this code): no error to show.
  if (error.code === 'REQUEST_CANCELLED') return state;
  return state.games[gameId] ? pushToast(state, error, gameId, resumes) : state;
}

function sameGame(a: GameView, b: GameView): boolean {
  return a.downloaded === b.downloaded && a.installed === b.installed && a.localVersion === b.localVersion && a.installedVersion === b.installedVersion && a.running === b.running && a.canPlay === b.canPlay;
}
