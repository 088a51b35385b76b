import type { GameView } from '../../../shared/api';
import { ControlSocketClient, controlSocketPath } from '../../peer/launcher/control-socket';
import { parseArgs } from '../args';
import { safeText } from '../../peer/util/safe-text';
import { formatBytes } from '../format';
import { stateDirOf } from './shared-flags';

export async function runGames(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { 'state-dir': { value: true }, json: {} });
  const client = await ControlSocketClient.connect(controlSocketPath(stateDirOf(args)));
  try {
    const games = await client.invoke('request_games');
    if (args.flags.has('json')) {
      process.stdout.write(`${JSON.stringify(games, null, 2)}\n`);
      return 0;
    }
    if (games.length === 0) process.stdout.write('No games on this machine or the LAN yet.\n');
    for (const game of games) process.stdout.write(`${describe(game)}\n`);
    return 0;
  } finally {
    client.close();
  }
}

function describe(game: GameView): string {
  const state = game.installed ? 'installed' : game.downloaded ? 'downloaded' : 'available';
  const peers = game.sourcePeers.length === 1 ? '1 peer' : `${game.sourcePeers.length} peers`;
  // A game beyond the catalog: its title and who describes it come from peers, so they go through safeText too.
  const shared = game.shared ? `  "${safeText(game.title, 100)}" shared by ${[...(game.shared.own ? ['you'] : []), ...game.shared.sharedBy].map((name) => safeText(name, 64)).join(', ') || 'a peer'}` : '';
  const conflict = game.shared && game.shared.conflicts.length > 0 ? ` (also described differently by ${game.shared.conflicts.length} other peer set${game.shared.conflicts.length === 1 ? '' : 's'})` : '';
  return `${safeText(game.id).padEnd(36)} ${safeText(game.latestVersion ?? '-', 40)}  ${formatBytes(game.sizeBytes).padStart(9)}  ${state}  on ${peers}${shared}${conflict}`;
}
