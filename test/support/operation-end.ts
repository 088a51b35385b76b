import { LanspreadError } from '../../src/shared/errors';
import { isTerminal, type Operation } from '../../src/shared/operation';
import type { ControlSocketClient } from '../../src/main/peer/launcher/control-socket';

/**
 * Install, update and download resolve once the game is queued; this waits for the operation's
 * end as a player would: resolves with it when done, rejects with its coded error when it
 * failed (REQUEST_CANCELLED when cancelled), and with the command's refusal at once.
 */
export async function invokeToEnd(client: ControlSocketClient, command: 'install_game' | 'update_game' | 'download_game', args: { gameId: string; mode?: 'normal' | 'streamed' }): Promise<Operation> {
  let off = () => {};
  const ended = new Promise<Operation>((resolve, reject) => {
    off = client.on('operation-changed', ({ operation }) => {
      if (operation.gameId !== args.gameId || !isTerminal(operation.state)) return;
      if (operation.state === 'done') resolve(operation);
      else if (operation.state === 'failed') reject(LanspreadError.fromInfo(operation.error ?? { code: 'INTERNAL', message: 'failed without an error' }));
      else reject(new LanspreadError('REQUEST_CANCELLED', `The ${operation.kind} of ${operation.gameId} was cancelled`));
    });
  });
  try {
    await client.invoke(command, args as never);
    return await ended;
  } finally {
    off();
  }
}
