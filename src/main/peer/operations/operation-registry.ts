import { LanspreadError } from '../../../shared/errors';
import { TypedEmitter } from '../util/typed-emitter';

/**
 * One operation per game at a time: a game that is downloading cannot be installed, a game
 * being installed cannot be removed, and so on. The library monitor asks isBusy() before
 * rescanning a game root, so it never reports a half-made state as the library.
 */

export type OperationKind = 'download' | 'install' | 'update' | 'uninstall' | 'remove-downloaded' | 'stream-install';

export interface ActiveOperation {
  gameId: string;
  kind: OperationKind;
  startedAt: number;
}

export interface OperationRelease {
  readonly operation: ActiveOperation;
  /** Ends the operation; calling it again does nothing. */
  release(): void;
}

export interface OperationEvents {
  /** The set of active operations changed; `active` is the new snapshot. */
  changed: { active: ActiveOperation[] };
}

export class OperationRegistry extends TypedEmitter<OperationEvents> {
  private readonly running = new Map<string, ActiveOperation>();

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  begin(gameId: string, kind: OperationKind): OperationRelease {
    const current = this.running.get(gameId);
    if (current) {
      throw new LanspreadError('OPERATION_IN_PROGRESS', `Cannot ${kind} ${gameId}: ${current.kind} is in progress`);
    }
    const operation: ActiveOperation = { gameId, kind, startedAt: this.now() };
    this.running.set(gameId, operation);
    this.emit('changed', { active: this.active() });
    let released = false;
    return {
      operation,
      release: () => {
        if (released) return;
        released = true;
        if (this.running.get(gameId) === operation) this.running.delete(gameId);
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

  /** Runs `work` as `kind` on `gameId`, releasing however it ends. */
  async run<T>(gameId: string, kind: OperationKind, work: (operation: ActiveOperation) => Promise<T>): Promise<T> {
    const handle = this.begin(gameId, kind);
    try {
      return await work(handle.operation);
    } finally {
      handle.release();
    }
  }
}
