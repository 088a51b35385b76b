import type { Operation } from './operation';
import { isQueuedKind } from './operation';
import { missingCase } from './errors';

/**
 * What a desktop notification says when a download ends: the same words from the Electron main
 * process (its Notification) and from the web UI (the browser's), so one place decides which
 * ends are worth one. Only items of the download queue notify; the player's own Cancel does not.
 */
export interface Notice {
  title: string;
  body: string;
  /** A failure (shown as such), or a success. */
  failed: boolean;
}

export function completionNotice(operation: Pick<Operation, 'kind' | 'state' | 'error'>, gameTitle: string): Notice | null {
  if (!isQueuedKind(operation.kind)) return null;
  switch (operation.state) {
    case 'done':
      return { title: `${gameTitle} ${doneWord(operation.kind)}`, body: operation.kind === 'download' ? 'Its archives are verified and kept: install it when you like.' : 'Ready to play.', failed: false };
    case 'failed':
      // An older host ended a cancel as a failure with this code: still the player's own doing.
      if (operation.error?.code === 'REQUEST_CANCELLED') return null;
      return { title: `${gameTitle}: ${operation.kind === 'update' ? 'update' : 'download'} failed`, body: operation.error?.message ?? 'It stopped with an error.', failed: true };
    case 'cancelled':
    case 'queued':
    case 'running':
    case 'paused':
    case 'waiting-for-peers':
    case 'finishing':
      return null;
    default:
      return missingCase(operation.state);
  }
}

function doneWord(kind: Operation['kind']): string {
  switch (kind) {
    case 'download':
      return 'downloaded';
    case 'update':
      return 'updated';
    case 'install':
    case 'stream-install':
      return 'installed';
    case 'uninstall':
      return 'uninstalled';
    case 'remove-downloaded':
      return 'removed';
    default:
      return missingCase(kind);
  }
}
