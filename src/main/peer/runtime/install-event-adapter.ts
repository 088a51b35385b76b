import type { InstallEvent } from '../install/install-events';
import type { OperationRegistry } from '../operations/operation-registry';
import type { RuntimeEvents } from '../runtime-types';
import type { TypedEmitter } from '../util/typed-emitter';

/**
 * Turns the install service's events into the contract's `game-install-*` / `game-uninstall-*`
 * payloads; progress gains a speed and ETA measured from the operation's start, and is also the
 * game's operation progress in the registry.
 */
export function createInstallEventAdapter(events: TypedEmitter<RuntimeEvents>, operations: Pick<OperationRegistry, 'progress'>, now: () => number = Date.now): (event: InstallEvent) => void {
  const started = new Map<string, number>();
  return (event) => {
    switch (event.type) {
      case 'game-install-begin':
        started.set(event.gameId, now());
        events.emit('game-install-begin', { gameId: event.gameId, mode: event.mode });
        return;
      case 'game-install-progress': {
        const elapsedSeconds = Math.max((now() - (started.get(event.gameId) ?? now())) / 1000, 0.001);
        const bytesPerSecond = Math.round(event.bytesDone / elapsedSeconds);
        const remaining = event.bytesTotal - event.bytesDone;
        const progress = {
          gameId: event.gameId,
          bytesDone: event.bytesDone,
          totalBytes: event.bytesTotal,
          bytesPerSecond,
          etaSeconds: bytesPerSecond > 0 ? Math.ceil(remaining / bytesPerSecond) : null,
          activePeers: event.activePeers,
        };
        operations.progress(event.gameId, progress);
        events.emit('game-install-progress', progress);
        return;
      }
      case 'game-install-finished':
        started.delete(event.gameId);
        events.emit('game-install-finished', { gameId: event.gameId, version: event.version });
        return;
      case 'game-install-failed':
        started.delete(event.gameId);
        events.emit('game-install-failed', { gameId: event.gameId, error: event.error });
        return;
      case 'game-uninstall-begin':
      case 'game-uninstall-finished':
        events.emit(event.type, { gameId: event.gameId });
        return;
      case 'game-uninstall-failed':
        events.emit(event.type, { gameId: event.gameId, error: event.error });
        return;
    }
  };
}
