import type { DownloadsView, EventName, EventPayload, GameView, OperationView, PeerView, RuntimeStatus } from '../../shared/api';
import type { ErrorInfo } from '../../shared/errors';
import { isQueuedKind, isTerminal } from '../../shared/operation';
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
  /** The Downloads page: the queue in order and the finished list (null until first read). */
  downloads: DownloadsView | null;
  /**
   * Per game, the sequence number of the newest operation change applied (the runtime numbers
   * them in order): an older copy that arrives late is ignored. A snapshot starts them afresh,
   * since it is newer than anything before it (and a restarted host counts from 0 again).
   */
  operationSeq: Record<string, number>;
  toasts: Toast[];
  nextToastId: number;
}

export interface Toast {
  id: number;
  error: ErrorInfo;
  gameId: string | null;
  /** A download that failed but kept its progress and picks up again on its own. */
  resumes?: boolean;
  /** Not an error: an operation that finished (the completion notice). */
  done?: { kind: OperationView['kind'] };
}

export const initialLauncherState: LauncherState = {
  loaded: false,
  games: {},
  order: [],
  peers: {},
  peerCount: 0,
  settings: null,
  status: null,
  downloads: null,
  operationSeq: {},
  toasts: [],
  nextToastId: 1,
};

export type AnyEvent = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName];

/** Replaces the game list with an authoritative snapshot. */
export function applyGamesSnapshot(state: LauncherState, games: GameView[]): LauncherState {
  const map: Record<string, GameView> = {};
  const operationSeq: Record<string, number> = {};
  for (const game of games) {
    map[game.id] = game;
    if (game.operation) operationSeq[game.id] = game.operation.seq;
  }
  return { ...state, loaded: true, games: map, order: games.map((g) => g.id), operationSeq };
}

export function applyDownloadsSnapshot(state: LauncherState, downloads: DownloadsView): LauncherState {
  return { ...state, downloads };
}

/** The finished list was cleared (by this player or another face): it is empty until something ends. */
export function clearFinished(state: LauncherState): LauncherState {
  return state.downloads ? { ...state, downloads: { ...state.downloads, finished: [] } } : state;
}

export function applyPeersSnapshot(state: LauncherState, peers: PeerView[]): LauncherState {
  const map: Record<string, PeerView> = {};
  for (const peer of peers) map[peer.peerId] = peer;
  return { ...state, peers: map, peerCount: Math.max(state.peerCount, peers.length) };
}

/** A finished operation's notice (not an error). */
export function pushDoneToast(state: LauncherState, operation: OperationView): LauncherState {
  const toast: Toast = { id: state.nextToastId, error: { code: 'INTERNAL', message: '' }, gameId: operation.gameId, done: { kind: operation.kind } };
  return { ...state, toasts: [...state.toasts, toast].slice(-5), nextToastId: state.nextToastId + 1 };
}

export function pushToast(state: LauncherState, error: ErrorInfo, gameId: string | null = null, resumes = false): LauncherState {
  // The same failure reported twice (duplicated event, or event + rejected command) shows once,
  // with what the event knows (that it resumes) even when the rejected command came first.
  const duplicate = state.toasts.find((t) => !t.done && t.gameId === gameId && t.error.code === error.code && t.error.message === error.message);
  if (duplicate) return resumes && !duplicate.resumes ? { ...state, toasts: state.toasts.map((t) => (t === duplicate ? { ...t, resumes } : t)) } : state;
  const toast: Toast = { id: state.nextToastId, error, gameId, ...(resumes ? { resumes } : {}) };
  return { ...state, toasts: [...state.toasts, toast].slice(-5), nextToastId: state.nextToastId + 1 };
}

export function dismissToast(state: LauncherState, id: number): LauncherState {
  return { ...state, toasts: state.toasts.filter((t) => t.id !== id) };
}

/**
 * Folds one launcher event into the state. Pure, and tolerant of what a real event stream does:
 * events for games not in the list are dropped, and a copy of an operation older than the one
 * shown (by the runtime's sequence number) changes nothing. The operation itself is the
 * runtime's: this only applies it.
 */
export function applyEvent(state: LauncherState, input: AnyEvent): LauncherState {
  switch (input.event) {
    case 'games-list-updated':
      return applyGamesSnapshot(state, input.payload.games);
    case 'downloads-updated':
      return applyDownloadsSnapshot(state, input.payload.downloads);
    case 'operation-changed':
      return applyOperation(state, input.payload.operation);
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
      // Transfer details (game-download-progress, ...) are for tools; the operation carries what the UI shows.
      // A newer host may also send events this UI does not know yet. Neither changes anything.
      return state;
  }
}

/** One operation change: the game shows it (or, once it ended, none), an end may toast, and the Downloads page follows. */
export function applyOperation(state: LauncherState, operation: OperationView): LauncherState {
  const game = state.games[operation.gameId];
  if (!game) return state;
  if ((state.operationSeq[game.id] ?? -1) >= operation.seq) return state;
  const ended = isTerminal(operation.state);
  let next = updateGame(state, game.id, (g) => ({ ...g, operation: ended ? null : operation }));
  next = { ...next, operationSeq: { ...next.operationSeq, [game.id]: operation.seq } };
  next = withDownloadsEntry(next, operation);
  if (operation.state === 'failed' && operation.error) next = withToast(next, operation.error, operation.gameId);
  if (operation.state === 'done') next = pushDoneToast(next, operation);
  return next;
}

/** Keeps the Downloads page's copy of the operation current between its snapshots. */
function withDownloadsEntry(state: LauncherState, operation: OperationView): LauncherState {
  const downloads = state.downloads;
  if (!downloads) return state;
  const queued = downloads.queue.some((entry) => entry.gameId === operation.gameId);
  if (isTerminal(operation.state)) {
    if (!isQueuedKind(operation.kind)) return state;
    if (!queued && downloads.finished.some((entry) => entry.seq === operation.seq)) return state;
    return {
      ...state,
      downloads: { ...downloads, queue: downloads.queue.filter((entry) => entry.gameId !== operation.gameId), finished: [...downloads.finished, operation] },
    };
  }
  if (!queued) return state;
  return { ...state, downloads: { ...downloads, queue: downloads.queue.map((entry) => (entry.gameId === operation.gameId && entry.seq < operation.seq ? operation : entry)) } };
}

function updateGame(state: LauncherState, gameId: string, change: (game: GameView) => GameView): LauncherState {
  const game = state.games[gameId];
  if (!game) return state;
  const next = change(game);
  return next === game ? state : { ...state, games: { ...state.games, [gameId]: next } };
}

function withToast(state: LauncherState, error: ErrorInfo, gameId: string): LauncherState {
  // The player pressed Cancel: no error to show (the operation ends cancelled; an older host ended it failed with this code).
  if (error.code === 'REQUEST_CANCELLED') return state;
  return state.games[gameId] ? pushToast(state, error, gameId) : state;
}
