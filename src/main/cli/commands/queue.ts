import type { OperationView } from '../../../shared/api';
import { LanspreadError } from '../../../shared/errors';
import { ControlSocketClient, controlSocketPath } from '../../peer/launcher/control-socket';
import { safeText } from '../../peer/util/safe-text';
import { parseArgs } from '../args';
import { formatBytes } from '../format';
import { stateDirOf } from './shared-flags';

/**
 * `lanspread-peer queue [list]`, `queue move <gameId> <position>`, `pause <gameId>`,
 * `resume <gameId>`: the download queue of a running 'serve'.
 */
export async function runQueue(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { 'state-dir': { value: true }, json: {} });
  const action = args.command ?? 'list';
  const client = await ControlSocketClient.connect(controlSocketPath(stateDirOf(args)));
  try {
    switch (action) {
      case 'list': {
        const downloads = await client.invoke('request_downloads');
        if (args.flags.has('json')) {
          process.stdout.write(`${JSON.stringify(downloads, null, 2)}\n`);
          return 0;
        }
        if (downloads.queue.length === 0) process.stdout.write('The download queue is empty.\n');
        for (const operation of downloads.queue) process.stdout.write(`${describe(operation)}\n`);
        return 0;
      }
      case 'move': {
        const [gameId, rawPosition] = args.positionals;
        const position = Number(rawPosition);
        if (!gameId || rawPosition === undefined || !Number.isSafeInteger(position) || position < 0) {
          throw new LanspreadError('MALFORMED_MESSAGE', 'usage: lanspread-peer queue move <gameId> <position> (0 = next to start)');
        }
        await client.invoke('move_download', { gameId, position });
        process.stdout.write(`${safeText(gameId)} moved to position ${position}.\n`);
        return 0;
      }
      default:
        throw new LanspreadError('MALFORMED_MESSAGE', `Unknown queue action '${safeText(action, 40)}' (list, move)`);
    }
  } finally {
    client.close();
  }
}

export async function runPauseResume(argv: string[], command: 'pause' | 'resume'): Promise<number> {
  const args = parseArgs(argv, { 'state-dir': { value: true } });
  const gameId = args.command;
  if (!gameId) throw new LanspreadError('MALFORMED_MESSAGE', `usage: lanspread-peer ${command} <gameId> [--state-dir DIR]`);
  const client = await ControlSocketClient.connect(controlSocketPath(stateDirOf(args)));
  try {
    await client.invoke(command === 'pause' ? 'pause_download' : 'resume_download', { gameId });
    process.stdout.write(command === 'pause' ? `${safeText(gameId)} is paused; what was downloaded is kept.\n` : `${safeText(gameId)} is back in the queue.\n`);
    return 0;
  } finally {
    client.close();
  }
}

function describe(operation: OperationView): string {
  const place = operation.queuePosition === null ? '-' : String(operation.queuePosition);
  const done = operation.totalBytes > 0 ? `${formatBytes(operation.bytesDone)} / ${formatBytes(operation.totalBytes)}` : '';
  return `${place.padStart(3)}  ${safeText(operation.gameId).padEnd(36)} ${operation.kind.padEnd(15)} ${operation.state.padEnd(18)} ${done}`;
}
