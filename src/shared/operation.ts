import { LanspreadError, missingCase, type ErrorInfo } from './errors';

/**
 * The one model of what is happening to a game. The runtime's operation registry owns every
 * operation and publishes each change as one `operation-changed` event; the launcher backend
 * passes that on, and the renderer and the CLI only apply it. Plain data only.
 */

/** What the player asked for (an update stays an update while its new archives download). */
export type OperationKind = 'download' | 'install' | 'update' | 'uninstall' | 'remove-downloaded' | 'stream-install';

export const OPERATION_STATES = ['queued', 'running', 'paused', 'waiting-for-peers', 'finishing', 'done', 'failed', 'cancelled'] as const;

/**
 * queued: in the download queue, waiting for a slot. running: transferring (or, for the short
 * local operations, working). paused: stopped by the player; the verified part is kept.
 * waiting-for-peers: no peer shares the game now; it starts on its own when one does.
 * finishing: the transfer is over (its slot is free), the game is being unpacked or committed.
 * done / failed / cancelled: how it ended.
 */
export type OperationState = (typeof OPERATION_STATES)[number];

/** 'transfer' while bytes arrive, 'unpack' while extracting, 'finishing' for removals and commits. */
export type OperationPhase = 'transfer' | 'unpack' | 'finishing';

/** A download's swarm, where it has one. */
export interface SwarmFigures {
  /** Usable peers holding the whole game, and peers downloading it too (they serve what they have). */
  fullSources?: number;
  partialSources?: number;
  /** Bytes of this game this machine has sent to other peers. */
  uploadedBytes?: number;
}

/** Bytes one peer sent for this transfer since it (re)started. */
export interface PeerBytes {
  peerId: string;
  bytes: number;
}

export interface OperationProgress extends SwarmFigures {
  bytesDone: number;
  totalBytes: number;
  /** Network rate: bytes received per second. */
  bytesPerSecond: number;
  /** Disk rate: bytes written and verified per second, where the transfer reports it. */
  diskBytesPerSecond?: number;
  etaSeconds: number | null;
  activePeers: number;
  /** What each source sent, where the transfer reports it (a download from a swarm). */
  peerBytes?: PeerBytes[];
}

export interface Operation extends OperationProgress {
  gameId: string;
  kind: OperationKind;
  state: OperationState;
  phase: OperationPhase;
  /** Why it failed (state failed), or why it waits (state waiting-for-peers); null otherwise. */
  error: ErrorInfo | null;
  /** Epoch milliseconds: when it was asked for, and when it ended (null while not ended). */
  createdAt: number;
  endedAt: number | null;
  /** Epoch milliseconds of its first start (null while it never ran): with endedAt, the time it took. */
  startedAt: number | null;
  /** Bytes its transfer phase reached (kept when unpacking starts counting its own): with the time taken, the average rate. */
  transferredBytes: number;
  /** Changes of one registry in order: a consumer can tell a stale copy from a newer one. */
  seq: number;
}

/** Which states may follow which. A Record, so a new state fails to compile until it is listed. */
const NEXT: Record<OperationState, readonly OperationState[]> = {
  queued: ['running', 'finishing', 'paused', 'waiting-for-peers', 'failed', 'cancelled'],
  // running -> queued: the runtime stopped mid-transfer; the next start picks it up again.
  running: ['queued', 'paused', 'waiting-for-peers', 'finishing', 'done', 'failed', 'cancelled'],
  paused: ['queued', 'cancelled'],
  'waiting-for-peers': ['queued', 'paused', 'failed', 'cancelled'],
  finishing: ['done', 'failed', 'cancelled'],
  done: [],
  failed: [],
  cancelled: [],
};

export function canTransition(from: OperationState, to: OperationState): boolean {
  return NEXT[from].includes(to);
}

export function isTerminal(state: OperationState): boolean {
  switch (state) {
    case 'done':
    case 'failed':
    case 'cancelled':
      return true;
    case 'queued':
    case 'running':
    case 'paused':
    case 'waiting-for-peers':
    case 'finishing':
      return false;
    default:
      return missingCase(state);
  }
}

/** Whether the operation is doing work now (as opposed to waiting for a slot, a peer or the player). */
export function isActive(state: OperationState): boolean {
  switch (state) {
    case 'running':
    case 'finishing':
      return true;
    case 'queued':
    case 'paused':
    case 'waiting-for-peers':
    case 'done':
    case 'failed':
    case 'cancelled':
      return false;
    default:
      return missingCase(state);
  }
}

/**
 * The operation in its next state. An error goes with failed and waiting-for-peers only, and
 * ending stamps endedAt. An illegal step is a bug in the runtime: it throws INTERNAL.
 */
export function transition(operation: Operation, to: OperationState, at: number, error: ErrorInfo | null = null): Operation {
  if (!canTransition(operation.state, to)) {
    throw new LanspreadError('INTERNAL', `Operation ${operation.kind} of ${operation.gameId} cannot go from ${operation.state} to ${to}`);
  }
  const keepsError = to === 'failed' || to === 'waiting-for-peers';
  const moving = to === 'running' || to === 'finishing';
  return {
    ...operation,
    state: to,
    error: keepsError ? error : null,
    endedAt: isTerminal(to) ? at : null,
    startedAt: operation.startedAt ?? (moving ? at : null),
    // Nothing moves while it waits: no stale rate, ETA or sources.
    ...(moving
      ? {}
      : {
          bytesPerSecond: 0,
          etaSeconds: null,
          activePeers: 0,
          ...(operation.diskBytesPerSecond === undefined ? {} : { diskBytesPerSecond: 0 }),
          ...(operation.fullSources === undefined ? {} : { fullSources: 0, partialSources: 0 }),
        }),
  };
}

/** A fresh operation, before anything ran. */
export function newOperation(gameId: string, kind: OperationKind, state: 'queued' | 'running' | 'paused' | 'waiting-for-peers' | 'finishing', at: number): Operation {
  return {
    gameId,
    kind,
    state,
    phase: initialPhase(kind),
    error: null,
    createdAt: at,
    endedAt: null,
    startedAt: state === 'running' || state === 'finishing' ? at : null,
    transferredBytes: 0,
    seq: 0,
    bytesDone: 0,
    totalBytes: 0,
    bytesPerSecond: 0,
    etaSeconds: null,
    activePeers: 0,
  };
}

export function initialPhase(kind: OperationKind): OperationPhase {
  switch (kind) {
    case 'download':
    case 'update':
    case 'stream-install':
      return 'transfer';
    case 'install':
      return 'unpack';
    case 'uninstall':
    case 'remove-downloaded':
      return 'finishing';
    default:
      return missingCase(kind);
  }
}

/** Kinds that move bytes over the network first: these go through the download queue. */
export function isQueuedKind(kind: OperationKind): boolean {
  switch (kind) {
    case 'download':
    case 'install':
    case 'update':
    case 'stream-install':
      return true;
    case 'uninstall':
    case 'remove-downloaded':
      return false;
    default:
      return missingCase(kind);
  }
}

/**
 * How long an ended operation took from its first start, and its average transfer rate over
 * that time (null where it never ran or moved no bytes). Paused and waiting time counts: it is
 * the time the player waited.
 */
export function finishedFigures(operation: Pick<Operation, 'startedAt' | 'endedAt' | 'transferredBytes'>): { tookMs: number | null; averageBytesPerSecond: number | null } {
  const { startedAt, endedAt, transferredBytes } = operation;
  if (startedAt === null || endedAt === null) return { tookMs: null, averageBytesPerSecond: null };
  const tookMs = Math.max(0, endedAt - startedAt);
  return { tookMs, averageBytesPerSecond: transferredBytes > 0 && tookMs > 0 ? Math.round((transferredBytes * 1000) / tookMs) : null };
}

/** The swarm figures present in `from` (a progress event, an operation). */
export function swarmFiguresOf(from: SwarmFigures): SwarmFigures {
  const out: SwarmFigures = {};
  if (from.fullSources !== undefined) out.fullSources = from.fullSources;
  if (from.partialSources !== undefined) out.partialSources = from.partialSources;
  if (from.uploadedBytes !== undefined) out.uploadedBytes = from.uploadedBytes;
  return out;
}
