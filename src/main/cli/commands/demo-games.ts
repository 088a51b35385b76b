import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import { demoGameBytes, demoGamesOfSeed, writeDemoGame } from '../../peer/demo/demo-library';
import { flag, parseArgs } from '../args';
import { formatBytes } from '../format';

const DEMO_GAMES_FLAGS = {
  'game-dir': { value: true },
  'seed-index': { value: true },
} as const;

/**
 * `demo-games --game-dir DIR [--seed-index N]`: writes the demo games of one demo seed peer
 * (default seed 1, which has all of them) as downloaded games. Games already there are kept,
 * so `npm start -- --demo` pays for generating them only once.
 */
export async function runDemoGames(argv: string[]): Promise<number> {
  const args = parseArgs(argv, DEMO_GAMES_FLAGS);
  const gameDirFlag = flag(args, 'game-dir');
  if (!gameDirFlag) throw new LanspreadError('GAME_DIR_NOT_SET', 'demo-games needs --game-dir DIR');
  const gameDir = path.resolve(gameDirFlag);
  const seedIndex = seedIndexOf(flag(args, 'seed-index'));
  const games = demoGamesOfSeed(seedIndex);
  await mkdir(gameDir, { recursive: true });
  for (const game of games) {
    const outcome = await writeDemoGame(gameDir, game);
    const what = outcome === 'generated' ? `generated (${formatBytes(demoGameBytes(game))})` : 'already there';
    process.stdout.write(`${game.id} ${game.version}: ${what}\n`);
  }
  return 0;
}

function seedIndexOf(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new LanspreadError('MALFORMED_MESSAGE', `--seed-index must be a whole number, not ${JSON.stringify(raw)}`);
  return value;
}
