import { toLanspreadError } from '../../shared/errors';
import { safeText } from '../peer/util/safe-text';
import { runDemoGames } from './commands/demo-games';
import { runCancel, runDownload } from './commands/download';
import { runGames } from './commands/games';
import { runPeers } from './commands/peers';
import { runPauseResume, runQueue } from './commands/queue';
import { runServe } from './commands/serve';
import { runShare } from './commands/share';
import { USAGE } from './usage';

const FORCED_EXIT_AFTER_MS = 2_000;

/** `lanspread-peer <command>`: the headless face of the peer runtime. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'peers':
      return runPeers(rest);
    case 'games':
      return runGames(rest);
    case 'download':
      return runDownload(rest);
    case 'stream-install':
      return runDownload(rest, 'stream-install');
    case 'cancel':
      return runCancel(rest);
    case 'share':
      return runShare(rest);
    case 'queue':
      return runQueue(rest);
    case 'pause':
      return runPauseResume(rest, 'pause');
    case 'resume':
      return runPauseResume(rest, 'resume');
    case 'demo-games':
      return runDemoGames(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`Unknown command '${safeText(command)}'.\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const coded = toLanspreadError(error);
    process.stderr.write(`error [${coded.code}]: ${safeText(coded.message, 1_000)}\n`);
    process.exitCode = 1;
    // A failed command ends the process even if some library left a handle open.
    setTimeout(() => process.exit(1), FORCED_EXIT_AFTER_MS).unref();
  },
);
