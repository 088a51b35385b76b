import type { Platform } from '../../../shared/catalog';
import { LanspreadError } from '../../../shared/errors';
import type { GameDescription } from '../../../shared/game-description';
import { ControlSocketClient, controlSocketPath } from '../../peer/launcher/control-socket';
import { safeText } from '../../peer/util/safe-text';
import { flag, flagList, parseArgs } from '../args';
import { stateDirOf } from './shared-flags';

const PLATFORMS: readonly Platform[] = ['win32', 'linux', 'darwin'];

/**
 * `lanspread-peer share <id> --title T --launch linux=bin/run.sh ...`: shares the game folder
 * `<game folder>/<id>/` of the running peer under a description, so every peer lists it with its
 * title and can install it like a catalog game. The running peer checks everything (the same
 * check as for a description arriving from a peer); this only turns flags into a description.
 */
export async function runShare(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    'state-dir': { value: true },
    json: {},
    title: { value: true },
    description: { value: true },
    genre: { value: true, repeat: true },
    'max-players': { value: true },
    version: { value: true },
    launch: { value: true, repeat: true },
    arg: { value: true, repeat: true },
    cwd: { value: true, repeat: true },
    stop: {},
  });
  const id = args.command;
  if (!id || args.positionals.length > 0) throw usage();
  if (args.flags.has('stop')) {
    const extra = [...args.flags.keys()].filter((name) => !['stop', 'state-dir', 'json'].includes(name));
    if (extra.length > 0) throw usage(`--stop takes no description (--${extra[0]})`);
    return stopSharing(id, stateDirOf(args));
  }
  const title = flag(args, 'title');
  if (title === undefined) throw usage('--title is required');
  const maxPlayers = flag(args, 'max-players');
  const description: GameDescription = {
    id,
    title,
    description: flag(args, 'description') ?? '',
    genres: flagList(args, 'genre'),
    maxPlayers: maxPlayers === undefined ? 1 : Number(maxPlayers),
    launch: {},
  };
  for (const [platform, executable] of perPlatform(flagList(args, 'launch'), 'launch')) description.launch[platform] = { executable, args: [] };
  for (const [platform, arg] of perPlatform(flagList(args, 'arg'), 'arg')) launchOf(description, platform, 'arg').args.push(arg);
  for (const [platform, cwd] of perPlatform(flagList(args, 'cwd'), 'cwd')) launchOf(description, platform, 'cwd').cwd = cwd;
  const version = flag(args, 'version');
  const client = await ControlSocketClient.connect(controlSocketPath(stateDirOf(args)));
  try {
    const shared = await client.invoke('share_game', { description, ...(version === undefined ? {} : { version }) });
    if (args.flags.has('json')) process.stdout.write(`${JSON.stringify(shared, null, 2)}\n`);
    else process.stdout.write(`Sharing ${safeText(shared.id)} (${safeText(shared.title)}); peers list it with this description from their next look at this peer.\n`);
    return 0;
  } finally {
    client.close();
  }
}

async function stopSharing(gameId: string, stateDir: string): Promise<number> {
  const client = await ControlSocketClient.connect(controlSocketPath(stateDir));
  try {
    await client.invoke('unshare_game', { gameId });
    process.stdout.write(`No longer sharing ${safeText(gameId)}; its folder is left as it is.\n`);
    return 0;
  } finally {
    client.close();
  }
}

/** `platform=value` pairs, in order. */
function perPlatform(values: string[], option: string): Array<[Platform, string]> {
  return values.map((value) => {
    const at = value.indexOf('=');
    const platform = value.slice(0, at) as Platform;
    if (at < 0 || !PLATFORMS.includes(platform)) throw usage(`--${option} takes PLATFORM=VALUE with PLATFORM one of ${PLATFORMS.join(', ')}, not ${JSON.stringify(safeText(value, 80))}`);
    return [platform, value.slice(at + 1)];
  });
}

function launchOf(description: GameDescription, platform: Platform, option: string) {
  const launch = description.launch[platform];
  if (!launch) throw usage(`--${option} ${platform}=… needs --launch ${platform}=PATH first`);
  return launch;
}

function usage(why?: string): LanspreadError {
  const line = 'usage: lanspread-peer share <id> --title TITLE --launch PLATFORM=PATH [--version V] [--description TEXT] [--genre G]... [--max-players N] [--arg PLATFORM=ARG]... [--cwd PLATFORM=DIR] [--state-dir DIR]\n       lanspread-peer share <id> --stop [--state-dir DIR]';
  return new LanspreadError('MALFORMED_MESSAGE', why ? `${why}\n${line}` : line);
}
