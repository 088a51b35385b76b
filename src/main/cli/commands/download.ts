import { ControlSocketClient, controlSocketPath } from '../../peer/launcher/control-socket';
import { flag, parseArgs, type ParsedArgs } from '../args';
import { safeText } from '../../peer/util/safe-text';
import { renderProgress } from '../progress-bar';
import { stateDirOf } from './shared-flags';
import { LanspreadError } from '../../../shared/errors';
import { isTerminal, type Operation, type OperationKind } from '../../../shared/operation';

/**
 * `lanspread-peer download <gameId> [--no-install]`: asks the running peer to download and
 * install a game (or only download it) and draws its progress until it settles. The exit code
 * says whether it succeeded.
 */
export async function runDownload(argv: string[], command: 'download' | 'stream-install' = 'download'): Promise<number> {
  const args = parseArgs(argv, { 'state-dir': { value: true }, mode: { value: true }, ...(command === 'download' ? { 'no-install': {} } : {}) });
  const downloadOnly = flag(args, 'no-install') !== undefined;
  const gameId = args.command;
  if (!gameId) throw new LanspreadError('MALFORMED_MESSAGE', `usage: lanspread-peer ${command} <gameId> [--state-dir DIR]`);
  // stream-install is the low-disk install: a peer streams the unpacked files, no archive lands here.
  const mode = command === 'stream-install' || flag(args, 'mode') === 'streamed' ? 'streamed' : 'normal';
  const client = await ControlSocketClient.connect(controlSocketPath(stateDirOf(args)));
  const interactive = process.stdout.isTTY === true;
  let lastLine = '';
  const draw = (line: string) => {
    if (interactive) process.stdout.write(`\r${line}\x1b[K`);
    else if (line !== lastLine) process.stdout.write(`${line}\n`);
    lastLine = line;
  };
  const mine = <T extends { gameId: string }>(fn: (payload: T) => void) => (payload: T) => payload.gameId === gameId && fn(payload);
  client.on('game-download-progress', mine((p) => draw(renderProgress('download', p.bytesDone, p.totalBytes, p.bytesPerSecond, p.etaSeconds, p.activePeers, p))));
  client.on('game-install-progress', mine((p) => draw(renderProgress(mode === 'streamed' ? 'stream' : 'install', p.bytesDone, p.totalBytes, p.bytesPerSecond, p.etaSeconds, mode === 'streamed' ? p.activePeers : null))));
  client.on('game-download-finished', mine((p) => draw(`download finished: ${safeText(gameId)} ${safeText(p.version, 40)}`)));
  client.on('game-install-begin', mine((p) => p.mode === 'streamed' && draw(`streaming ${gameId} from a peer…`)));
  // The command returns once the game is queued; its operation says how it goes and ends.
  let stopFollowing: (reason: Error) => void = () => undefined;
  const ended = new Promise<Operation>((resolve, reject) => {
    stopFollowing = reject;
    // A peer that stops or dies sends no end: the wait fails instead of the process exiting 0 with nothing done.
    client.onClose(() => reject(new LanspreadError('HOST_CONNECTION_LOST', `The running peer went away before ${safeText(gameId)} ended`)));
    client.on('operation-changed', ({ operation }) => {
      if (operation.gameId !== gameId) return;
      if (isTerminal(operation.state)) resolve(operation);
      else if (operation.state === 'queued' && operation.queuePosition !== null && operation.queuePosition > 0) draw(`queued: ${operation.queuePosition} ahead of ${safeText(gameId)}`);
      else if (operation.state === 'waiting-for-peers') draw(`waiting for a peer that has ${safeText(gameId)}…`);
      else if (operation.state === 'paused') draw(`${safeText(gameId)} is paused ('lanspread-peer resume ${safeText(gameId)}' continues it)`);
    });
  });
  // Ctrl-C may come before anything awaits it: that rejection is expected, never unhandled.
  ended.catch(() => undefined);
  // Ctrl-C stops following, not the download: that belongs to the running peer, which carries
  // on. Say so, and how to stop it, instead of leaving the player to guess.
  let detached = false;
  const onInterrupt = () => {
    detached = true;
    if (interactive) process.stdout.write('\n');
    process.stdout.write(
      `Stopped following ${safeText(gameId)}: it continues in the background in the running peer.\n` +
        `  lanspread-peer games${stateDirHint(args)}    shows its progress\n` +
        `  lanspread-peer cancel ${safeText(gameId)}${stateDirHint(args)}    cancels it (what was downloaded is discarded)\n`,
    );
    client.close();
    stopFollowing(new Error('stopped following'));
  };
  process.once('SIGINT', onInterrupt);
  try {
    await queueOrFollow(client, gameId, downloadOnly ? 'download' : mode === 'streamed' ? 'stream-install' : 'install', () =>
      downloadOnly ? client.invoke('download_game', { gameId }) : client.invoke('install_game', { gameId, mode }),
    );
    const outcome = await ended;
    if (interactive) process.stdout.write('\n');
    if (outcome.state === 'failed') throw LanspreadError.fromInfo(outcome.error ?? { code: 'INTERNAL', message: 'failed' });
    if (outcome.state === 'cancelled') throw new LanspreadError('REQUEST_CANCELLED', `The ${outcome.kind} of ${gameId} was cancelled`);
    process.stdout.write(downloadOnly ? `${safeText(gameId)} is downloaded; install it with 'lanspread-peer download ${safeText(gameId)}'.\n` : `${safeText(gameId)} is installed.\n`);
    return 0;
  } catch (error) {
    if (detached) return 130;
    if (interactive) process.stdout.write('\n');
    const coded = error instanceof LanspreadError ? error : new LanspreadError('INTERNAL', String(error));
    process.stderr.write(`error [${coded.code}]: ${safeText(coded.message, 1_000)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onInterrupt);
    client.close();
  }
}

/** `lanspread-peer cancel <gameId>`: cancels a download the running peer is doing. */
export async function runCancel(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { 'state-dir': { value: true } });
  const gameId = args.command;
  if (!gameId) throw new LanspreadError('MALFORMED_MESSAGE', 'usage: lanspread-peer cancel <gameId> [--state-dir DIR]');
  const client = await ControlSocketClient.connect(controlSocketPath(stateDirOf(args)));
  try {
    await client.invoke('cancel_download', { gameId });
    process.stdout.write(`The download of ${safeText(gameId)} is cancelled.\n`);
    return 0;
  } finally {
    client.close();
  }
}

function stateDirHint(args: ParsedArgs): string {
  const dir = flag(args, 'state-dir');
  return dir === undefined ? '' : ` --state-dir ${safeText(dir, 200)}`;
}

/**
 * Queues the game; when the same request is already in the queue (asked before, or saved in the
 * queue and resumed at the peer's restart) the command follows that one to its end instead of
 * failing, so running it again is harmless. Any other refusal stands.
 */
async function queueOrFollow(client: ControlSocketClient, gameId: string, kind: OperationKind, queue: () => Promise<void>): Promise<void> {
  try {
    await queue();
  } catch (error) {
    if (!(error instanceof LanspreadError) || error.code !== 'OPERATION_IN_PROGRESS') throw error;
    const { queue: waiting } = await client.invoke('request_downloads');
    if (!waiting.some((operation) => operation.gameId === gameId && operation.kind === kind)) throw error;
  }
}
