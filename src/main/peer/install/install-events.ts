import type { InstallMode } from '../../../shared/api';
import type { ErrorInfo } from '../../../shared/errors';

/**
 * What the install service reports; the runtime fans these out under the same names
 * (`game-install-*`, `game-uninstall-*`) to the UI and the CLI.
 */
export type InstallEvent =
  | { type: 'game-install-begin'; gameId: string; operation: 'install' | 'update'; mode: InstallMode; version: string | null }
  /** `activePeers`: peers sending right now (a streamed install's sender); 0 when extracting locally. */
  | { type: 'game-install-progress'; gameId: string; bytesDone: number; bytesTotal: number; activePeers: number }
  | { type: 'game-install-finished'; gameId: string; operation: 'install' | 'update'; version: string | null; skippedLinks: string[] }
  | { type: 'game-install-failed'; gameId: string; operation: 'install' | 'update'; error: ErrorInfo }
  | { type: 'game-uninstall-begin'; gameId: string }
  | { type: 'game-uninstall-finished'; gameId: string }
  | { type: 'game-uninstall-failed'; gameId: string; error: ErrorInfo };

export type InstallEventType = InstallEvent['type'];

/** Event map for TypedEmitter: each event name to its payload. */
export type InstallEventMap = { [K in InstallEventType]: Extract<InstallEvent, { type: K }> };

export type InstallEventListener = (event: InstallEvent) => void;
