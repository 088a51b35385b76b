import type { ErrorInfo } from '../../../shared/errors';
import type { PeerId } from '../../../shared/model';
import type { Logger } from '../util/logger';

export type LoggedOperation = 'download' | 'install' | 'streamed install';

/**
 * One line on the receiving peer for every download, install or streamed install that failed or
 * was cancelled: the game, the peers it came from, the code and the message. An organiser reads
 * a seed box's log to see why installs fail; the CLI that asked is not always there. Warn, so
 * `serve` shows it at its default level. Names and messages come from peers: the logger
 * sanitises every line.
 */
export function logOperationFailure(logger: Logger, operation: LoggedOperation, gameId: string, error: ErrorInfo, senders: ReadonlyArray<{ peerId: PeerId; name: string }> = []): void {
  const ended = error.code === 'REQUEST_CANCELLED' ? 'cancelled' : 'failed';
  logger.warn(`${operation} of ${gameId} ${ended}: ${error.code}`, {
    gameId,
    senders: senders.map((sender) => `${sender.name} (${sender.peerId})`),
    code: error.code,
    message: error.message,
  });
}
