import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { generateGame } from '../src/main/peer/demo/generate-game';
import { ControlSocketClient, controlSocketPath } from '../src/main/peer/launcher/control-socket';
import { createNetns, netnsSupport, type NetnsHarness } from '../test/support/netns';
import type { BenchFigure } from './figures';

/**
 * download.netns.*: three seeds on three hosts (network namespaces on one bridge), each host's
 * upload shaped to 100 Mbit/s with tbf, and a downloader on a fourth host that finds them by
 * mDNS. The figure is the transfer rate against the 300 Mbit/s the three links can give.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LINK_MBIT = 100;
const SEEDS = 3;
const GAME_BYTES = Number(process.env.LANSPREAD_BENCH_NETNS_BYTES ?? 200 * 1024 * 1024);

function startPeer(net: NetnsHarness, ns: string, gameDir: string, stateDir: string, name: string): Promise<void> {
  const child = net.run(ns, process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), 'serve', '--game-dir', gameDir, '--state-dir', stateDir, '--name', name, '--log-level', 'warn'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => line.startsWith('LANSPREAD_READY') && resolve());
  });
}

export async function runDownloadNetnsBench(): Promise<BenchFigure[]> {
  const support = netnsSupport();
  if (!support.ok) {
    process.stderr.write(`download-netns skipped: ${support.reason}\n`);
    return [];
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'lanspread-netns-bench-'));
  const rateLimits = Object.fromEntries(Array.from({ length: SEEDS }, (_, i) => [i, { egress: `${LINK_MBIT}mbit`, burst: '256kb' }]));
  const net = createNetns({ count: SEEDS + 1, rateLimits });
  try {
    const seedGames = path.join(dir, 'seed-games');
    await generateGame({ gameDir: seedGames, gameId: 'demo-arena', version: '1.0', files: [{ path: 'data/game.bin', size: GAME_BYTES }], seed: 5 });
    const archive = path.join(seedGames, 'demo-arena', 'demo-arena.rar');
    const archiveBytes = (await stat(archive)).size;
    // The seeds share one read-only game folder; each has its own identity and state.
    await Promise.all(net.hosts.slice(0, SEEDS).map((host, i) => startPeer(net, host.ns, seedGames, path.join(dir, `seed${i}-state`), `seed-${i}`)));
    const playerHost = net.hosts[SEEDS]!;
    const playerState = path.join(dir, 'player-state');
    const playerGames = path.join(dir, 'player-games');
    await import('node:fs/promises').then((fs) => fs.mkdir(playerGames, { recursive: true }));
    await startPeer(net, playerHost.ns, playerGames, playerState, 'player');

    const client = await ControlSocketClient.connect(controlSocketPath(playerState));
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const games = await client.invoke('request_games');
        if (games.find((g) => g.id === 'demo-arena')?.sourcePeers.length === SEEDS) break;
        if (Date.now() > deadline) throw new Error('the player did not find all seeds by mDNS');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      let begin = 0;
      let end = 0;
      client.on('game-download-begin', () => (begin = performance.now()));
      client.on('game-download-finished', () => (end = performance.now()));
      await client.invoke('install_game', { gameId: 'demo-arena' });
      const got = crc32(await readFile(path.join(playerGames, 'demo-arena', 'demo-arena.rar'))) >>> 0;
      if (got !== (crc32(await readFile(archive)) >>> 0)) throw new Error('downloaded archive differs from the seeds');
      const mbit = (archiveBytes * 8) / 1e6 / ((end - begin) / 1000);
      const links = LINK_MBIT * SEEDS;
      return [
        {
          id: 'download.netns.3x100mbit.vs_links',
          value: mbit,
          unit: 'Mbit/s',
          baseline: links,
          ratio: mbit / links,
          note: `${(archiveBytes / 2 ** 20).toFixed(0)} MiB from ${SEEDS} seeds in network namespaces, each upload shaped to ${LINK_MBIT} Mbit/s (tbf), found by mDNS; begin to finished incl. whole-file check`,
        },
      ];
    } finally {
      client.close();
    }
  } finally {
    await net.teardown();
    await rm(dir, { recursive: true, force: true });
  }
}
