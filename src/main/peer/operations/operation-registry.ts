import { LanspreadError, missingCase, toLanspreadError, type ErrorInfo } from '../../../shared/errors';
import {
  initialPhase,
  isActive,
  isTerminal,
  newOperation,
  swarmFiguresOf,
  transition,
  type Operation,
  type OperationKind,
  type OperationPhase,
  type OperationProgress,
  type OperationState,
} from '../../../shared/operation';
import { TypedEmitter } from '../util/typed-emitter';

/**
 * The owner of every game's operation (shared/operation.ts): at most one per game, each change
 * published as one `operation-changed` event with the whole operation.
 *
 * It also keeps each game's slot: one piece of work at a time touches a game's folder (a game
 * that is downloading cannot be installed, a game being installed cannot be removed). The
 * library monitor asks isBusy() before rescanning a game root, so it never reports a half-made
 * state as the library. A slot taken while the game has an active operation (the download
 * queue's) works for that operation: its phase and progress go there, and the operation's owner
 * decides how it goes on. A slot taken when the game has none makes its own, which ends with
 * the slot.
 */

export type { OperationKind } from '../../../shared/operation';

export interface ActiveOperation {
  gameId: string;
  kind: OperationKind;
  startedAt: number;
}

/** How a slot's work ended, for an operation the slot made itself. */
export type SlotOutcome = { status: 'done' } | { status: 'failed'; error: ErrorInfo } | { status: 'cancelled' };

export interface OperationRelease {
  readonly operation: ActiveOperation;
  /** Ends the slot (and the operation it made, with `outcome`, default done); calling it again does nothing. */
  release(outcome?: SlotOutcome): void;
}

export interface OperationEvents {
  /** The set of held slots changed; `active` is the new snapshot. */
  changed: { active: ActiveOperation[] };
  /** `figuresOnly`: only the progress figures moved (bytes, rates, peers); kind, state and phase are as before. */
  'operation-changed': { operation: Operation; figuresOnly: boolean };
}

/** Ended operations kept for the Downloads page's finished list, newest last. */
const FINISHED_KEPT = 50;

export class OperationRegistry extends TypedEmitter<OperationEvents> {
  private readonly running = new Map<string, ActiveOperation>();
  private readonly current = new Map<string, Operation>();
  private ended: Operation[] = [];
  private seq = 0;

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  // --- slots -------------------------------------------------------------------------------

  begin(gameId: string, kind: OperationKind): OperationRelease {
    const current = this.running.get(gameId);
    if (current) {
      throw new LanspreadError('OPERATION_IN_PROGRESS', `Cannot ${kind} ${gameId}: ${current.kind} is in progress`, { details: { gameId } });
    }
    const owner = this.current.get(gameId);
    // An operation that waits (queued, paused, waiting for peers) belongs to the queue: nothing else may run for the game meanwhile.
    if (owner && !isActive(owner.state)) {
      throw new LanspreadError('OPERATION_IN_PROGRESS', `Cannot ${kind} ${gameId}: it is ${owner.state} in the download queue`, { details: { gameId } });
    }
    const operation: ActiveOperation = { gameId, kind, startedAt: this.now() };
    this.running.set(gameId, operation);
    const ownsOperation = owner === undefined;
    if (ownsOperation) this.publish(newOperation(gameId, kind, 'running', operation.startedAt), slotPhase(kind));
    else this.setPhase(gameId, slotPhase(kind));
    this.emit('changed', { active: this.active() });
    let released = false;
    return {
      operation,
      release: (outcome: SlotOutcome = { status: 'done' }) => {
        if (released) return;
        released = true;
        if (this.running.get(gameId) === operation) this.running.delete(gameId);
        if (ownsOperation) this.endOwned(gameId, outcome);
        this.emit('changed', { active: this.active() });
      },
    };
  }

  isBusy(gameId: string): boolean {
    return this.running.has(gameId);
  }

  get(gameId: string): ActiveOperation | undefined {
    const operation = this.running.get(gameId);
    return operation ? { ...operation } : undefined;
  }

  active(): ActiveOperation[] {
    return [...this.running.values()].map((operation) => ({ ...operation }));
  }

  /** Runs `work` as `kind` on `gameId`, releasing however it ends (a cancel ends its own operation as cancelled, not failed). */
  async run<T>(gameId: string, kind: OperationKind, work: (operation: ActiveOperation) => Promise<T>): Promise<T> {
    const handle = this.begin(gameId, kind);
    try {
      const result = await work(handle.operation);
      handle.release({ status: 'done' });
      return result;
    } catch (error) {
      handle.release(slotOutcomeOf(error));
      throw error;
    }
  }

  // --- operations --------------------------------------------------------------------------

  /** Starts a game's operation in `state` (the download queue's). Refused while the game has one. */
  open(gameId: string, kind: OperationKind, state: 'queued' | 'running' | 'paused' | 'waiting-for-peers'): Operation {
    const existing = this.current.get(gameId);
    if (existing) {
      throw new LanspreadError('OPERATION_IN_PROGRESS', `${gameId} already has a ${existing.kind} that is ${existing.state}`, { details: { gameId } });
    }
    return this.publish(newOperation(gameId, kind, state, this.now()));
  }

  /** The game's operation moves to `to` (see shared/operation.ts for which steps exist). */
  move(gameId: string, to: OperationState, error: ErrorInfo | null = null): Operation {
    const operation = this.current.get(gameId);
    if (!operation) throw new LanspreadError('INTERNAL', `${gameId} has no operation to move to ${to}`);
    return this.publish(transition(operation, to, this.now(), error));
  }

  /** New figures of a working operation; ignored when the game has none (a late report). */
  progress(gameId: string, progress: OperationProgress): void {
    const operation = this.current.get(gameId);
    if (!operation || !isActive(operation.state)) return;
    this.publish(
      {
        ...operation,
        bytesDone: progress.bytesDone,
        totalBytes: progress.totalBytes,
        bytesPerSecond: progress.bytesPerSecond,
        etaSeconds: progress.etaSeconds,
        activePeers: progress.activePeers,
        ...(operation.phase === 'transfer' ? { transferredBytes: progress.bytesDone } : {}),
        ...(progress.diskBytesPerSecond === undefined ? {} : { diskBytesPerSecond: progress.diskBytesPerSecond }),
        ...(progress.peerBytes === undefined ? {} : { peerBytes: progress.peerBytes.map((entry) => ({ peerId: entry.peerId, bytes: entry.bytes })) }),
        ...swarmFiguresOf(progress),
      },
      operation.phase,
      true,
    );
  }

  setPhase(gameId: string, phase: OperationPhase): void {
    const operation = this.current.get(gameId);
    if (!operation || operation.phase === phase) return;
    // A new phase counts its own bytes (and has no network, disk or per-peer figures of the transfer's).
    const { diskBytesPerSecond: _disk, peerBytes: _peers, ...rest } = operation;
    this.publish({ ...rest, phase, bytesDone: 0, totalBytes: 0, bytesPerSecond: 0, etaSeconds: null });
  }

  /** The game's operation that has not ended, if any. */
  operation(gameId: string): Operation | undefined {
    return this.current.get(gameId);
  }

  operations(): Operation[] {
    return [...this.current.values()];
  }

  /** Operations that ended since the list was last cleared, oldest first. */
  finished(): Operation[] {
    return [...this.ended];
  }

  clearFinished(): void {
    this.ended = [];
  }

  private endOwned(gameId: string, outcome: SlotOutcome): void {
    if (!this.current.has(gameId)) return;
    switch (outcome.status) {
      case 'done':
        this.move(gameId, 'done');
        return;
      case 'failed':
        this.move(gameId, 'failed', outcome.error);
        return;
      case 'cancelled':
        this.move(gameId, 'cancelled');
        return;
      default:
        missingCase(outcome);
    }
  }

  private publish(operation: Operation, phase: OperationPhase = operation.phase, figuresOnly = false): Operation {
    this.seq += 1;
    const next: Operation = { ...operation, phase, seq: this.seq };
    if (isTerminal(next.state)) {
      this.current.delete(next.gameId);
      this.ended = [...this.ended, next].slice(-FINISHED_KEPT);
    } else {
      this.current.set(next.gameId, next);
    }
    this.emit('operation-changed', { operation: next, figuresOnly });
    return next;
  }
}

/**
 * What a slot's work does to the game: moves bytes, unpacks, or removes. As the operation's
 * first phase, except an update: its transfer runs in the queue, and its slot unpacks.
 */
function slotPhase(kind: OperationKind): OperationPhase {
  return kind === 'update' ? 'unpack' : initialPhase(kind);
}

/** The player's cancel is an outcome of its own, not a failure. */
export function slotOutcomeOf(error: unknown): SlotOutcome {
  const coded = toLanspreadError(error);
  return coded.code === 'REQUEST_CANCELLED' ? { status: 'cancelled' } : { status: 'failed', error: coded.toInfo() };
}
