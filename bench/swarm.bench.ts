import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateGame } from '../src/main/peer/demo/generate-game';
import { chunkSizeFor } from '../src/main/peer/library/manifest';
import { archiveDifferences, archiveHashes, downloadAtOnce, startCrowdPeer, waitUntilSeeSeed } from '../test/support/flash-crowd';
import { createNetns, netnsSupport, type NetnsHarness, type NetnsHost, type RateLimit } from '../test/support/netns';
import { busyPercent, machineCpuSample, waitUntilIdle } from '../test/support/procfs';
import type { BenchFigure } from './figures';
import { makeTorrent, runBitTorrentCrowd, type Torrent } from './support/bittorrent';
import { lastSeconds, ownPercent, type CrowdRun } from './support/crowd-run';
import { missingToolsReason } from './support/debian-tools';
import { curlDownload, startNginx } from './support/http-baseline';
import { runLanspreadCrowd, type LanspreadCrowdRun } from './support/lanspread-crowd';
import { runTlsFloorCrowd } from './support/tls-floor-crowd';
import { median } from './support/measure';
import { warmPagePool } from './support/warm-pages';

/**
 * swarm.*: a LAN party starting the same game at once. Network namespaces on one bridge, every
 * host's link shaped with tbf to the same rate both ways, 1 seed + N players, a generated game.
 * Lanspread (real `serve` processes, mDNS, control sockets) against BitTorrent (Debian aria2c +
 * opentracker) on the same bytes and namespaces in the same run; and one 1 Gbit/s link against
 * nginx + curl. Each crowd also runs the TLS floor (support/tls-floor-crowd.ts): minimal Node
 * peers moving the same bytes by a perfect plan over TLS with SHA-256, so a CPU ratio against
 * BitTorrent splits into what the runtime costs and what Lanspread adds. The rates are chosen so that two cores are not the limit: every figure says how
 * busy the machine was; when that nears 100 %, lower the rates by env var.
 *
 * Env: LANSPREAD_BENCH_SWARM_N (default 4,8,12), _MBIT (50), _ROOM_MBIT (450), _BYTES (100 MiB),
 * _SINGLE_MBIT (1000), _SINGLE_BYTES (500 MiB), _SINGLE_RUNS (3), _PARTS (flash,single),
 * _TIMEOUT_S (bound of one crowd run; default 120 s + 3 × N × one download's wire time).
 *
 * Every byte a room moves costs CPU on this one machine (TLS, hashing, writes, the kernel's
 * network stack for every namespace), so a room's links together stay within _ROOM_MBIT: a
 * room of 1 + N hosts runs at min(_MBIT, _ROOM_MBIT ÷ (N + 1)) per link, rounded down to
 * 5 Mbit/s (1 + 12 at 50 Mbit/s kept both cores 100 % busy from the third second on, so
 * it measured the machine, not the swarm). One download alone and BitTorrent run at the
 * same rate, so every ratio compares like with like.
 */
const env = (name: string) => process.env[`LANSPREAD_BENCH_SWARM_${name}`];
const CROWDS = (env('N') ?? '4,8,12').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n <= 25);
const LINK_MBIT = Number(env('MBIT') ?? 50);
const ROOM_MBIT = Number(env('ROOM_MBIT') ?? 450);
const GAME_BYTES = Number(env('BYTES') ?? 100 * 1024 * 1024);
const SINGLE_MBIT = Number(env('SINGLE_MBIT') ?? 1000);
const SINGLE_BYTES = Number(env('SINGLE_BYTES') ?? 500 * 1024 * 1024);
const SINGLE_RUNS = Number(env('SINGLE_RUNS') ?? 3);
const PARTS = new Set((env('PARTS') ?? 'flash,single').split(','));
const GAME_ID = 'demo-arena';

/** The link rate of a room of 1 seed + `n` players (see the header). */
function roomRate(n: number): number {
  return Math.max(5, Math.min(LINK_MBIT, Math.floor(ROOM_MBIT / (n + 1) / 5) * 5));
}
const MIB = 1024 * 1024;

/** Both directions of every host at `mbit`; tbf burst of at least 4 ms of tokens and 64 KiB (TESTING.md). */
function shapedRoom(hosts: number, mbit: number): NetnsHarness {
  const burstKb = Math.ceil(Math.max(64 * 1024, (mbit * 1e6 * 0.004) / 8) / 1024);
  const link: RateLimit = { egress: `${mbit}mbit`, ingress: `${mbit}mbit`, burst: `${burstKb}kb` };
  return createNetns({ count: hosts, rateLimits: Object.fromEntries(Array.from({ length: hosts }, (_, index) => [index, link])) });
}

const log = (line: string) => process.stderr.write(`[swarm] ${line}\n`);
const pct = (value: number) => `${value.toFixed(0)} %`;
const secs = (value: number) => `${value.toFixed(1)} s`;

interface Game {
  dir: string;
  root: string;
  bytes: number;
  expected: Map<string, string>;
}

async function makeGame(dir: string, bytes: number, seed: number): Promise<Game> {
  const generated = await generateGame({ gameDir: dir, gameId: GAME_ID, version: '1.0', files: [{ path: 'data/game.bin', size: bytes }], seed });
  const sizes = await Promise.all(generated.archives.map((archive) => stat(archive).then((s) => s.size)));
  return { dir, root: generated.root, bytes: sizes.reduce((a, b) => a + b, 0), expected: await archiveHashes(generated.root) };
}

export async function runSwarmBench(): Promise<BenchFigure[]> {
  const support = netnsSupport();
  if (!support.ok) {
    log(`skipped: ${support.reason}`);
    return [];
  }
  const rates = CROWDS.map((n) => `N=${n} ${roomRate(n)}`).join(', ');
  log(`rates chosen so two cores are not the limit (Mbit/s per link in the crowd: ${rates}, at most ${ROOM_MBIT} Mbit/s per room; ${SINGLE_MBIT} Mbit/s single link); each figure reports machine busy %: near 100 %, lower LANSPREAD_BENCH_SWARM_ROOM_MBIT / _SINGLE_MBIT`);
  const dir = await mkdtemp(path.join(tmpdir(), 'lanspread-swarm-bench-'));
  try {
    const figures: BenchFigure[] = [];
    if (PARTS.has('flash')) figures.push(...(await flashCrowds(dir)));
    if (PARTS.has('single')) figures.push(...(await singleLink(dir)));
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface RoomResult {
  lanspread: LanspreadCrowdRun;
  bittorrent: CrowdRun | null;
  /** The TLS floor (support/tls-floor-crowd.ts), in crowds of more than one player. */
  floor: CrowdRun | null;
}

/** A file of `bytes` random bytes: what the TLS floor spreads (its content does not matter, its size does). */
async function makeFloorFile(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'w');
  try {
    for (let at = 0; at < bytes; at += 16 * MIB) await handle.write(randomBytes(Math.min(16 * MIB, bytes - at)), 0, Math.min(16 * MIB, bytes - at), at);
  } finally {
    await handle.close();
  }
  return file;
}

async function flashCrowds(dir: string): Promise<BenchFigure[]> {
  const game = await makeGame(path.join(dir, 'crowd-seed-games'), GAME_BYTES, 21);
  const btMissing = missingToolsReason(['aria2c', 'opentracker', 'mktorrent', 'curl']);
  if (btMissing) log(`BitTorrent baseline skipped: ${btMissing}`);
  // Every room puts the seed on 10.77.1.1, so one torrent serves all of them.
  const torrent = btMissing ? null : await makeTorrent(game.root, '10.77.1.1', path.join(dir, 'torrent'));
  log(`game ${(game.bytes / MIB).toFixed(1)} MiB`);

  const floorFile = await makeFloorFile(path.join(dir, 'floor-game.bin'), game.bytes);
  // One download alone at every rate a crowd runs at: the crowd's yardstick.
  const solos = new Map<number, RoomResult>();
  const figures: BenchFigure[] = [];
  for (const mbit of new Set(CROWDS.map(roomRate))) {
    const solo = await room(1, mbit, game, torrent, floorFile, dir);
    solos.set(mbit, solo);
    figures.push(runFigure(1, mbit, solo, solo, game, mbit === LINK_MBIT ? '' : `_${mbit}mbit`));
  }
  for (const n of CROWDS.filter((count) => count > 1)) {
    const mbit = roomRate(n);
    figures.push(...crowdFigures(n, mbit, await room(n, mbit, game, torrent, floorFile, dir), solos.get(mbit) as RoomResult, game));
  }
  return figures;
}

/** One topology of 1 seed + `n` players at `mbit` per link: Lanspread, then BitTorrent, then (a crowd) the TLS floor on the same namespaces. */
async function room(n: number, mbit: number, game: Game, torrent: Torrent | null, floorFile: string, dir: string): Promise<RoomResult> {
  const wireSeconds = (game.bytes * 8) / (mbit * 1e6);
  const timeoutMs = Number(env('TIMEOUT_S') ?? 120 + 3 * n * wireSeconds) * 1000;
  const net = shapedRoom(n + 1, mbit);
  try {
    const [seedHost, ...players] = net.hosts as [NetnsHost, ...NetnsHost[]];
    log(`N=${n}: Lanspread at ${mbit} Mbit/s per link, one download ${secs(wireSeconds)} on the wire (bound ${secs(timeoutMs / 1000)})`);
    // Every run writes into pages the machine has used before (support/warm-pages.ts).
    const runWrites = (n + 1) * game.bytes;
    await warmPagePool(dir, runWrites);
    const lanspread = await runLanspreadCrowd({ net, seedGameDir: game.dir, gameId: GAME_ID, expected: game.expected, dir: path.join(dir, `lanspread-n${n}`), timeoutMs });
    log(`N=${n}: Lanspread ${describe(lanspread)}, mDNS took ${secs(lanspread.discoverySeconds)}, room idle at ${lanspread.idleCores.toFixed(2)} cores before the start, bench process ${secs(lanspread.harnessCpuSeconds)} CPU, the peers' main threads ${secs(lanspread.mainThreadCpuSeconds)} of the ${secs(lanspread.cpuSeconds)}`);
    let bittorrent: CrowdRun | null = null;
    if (torrent) {
      await warmPagePool(dir, runWrites);
      bittorrent = await runBitTorrentCrowd({ net, seedHost, downloaderHosts: players, torrent, gameRoot: game.root, expected: game.expected, dir: path.join(dir, `bittorrent-n${n}`), timeoutMs });
      log(`N=${n}: BitTorrent ${describe(bittorrent)}`);
    }
    let floor: CrowdRun | null = null;
    if (n > 1) {
      await warmPagePool(dir, runWrites);
      floor = await runTlsFloorCrowd({ net, seedHost, playerHosts: players, file: floorFile, size: game.bytes, dir: path.join(dir, `floor-n${n}`), timeoutMs });
      log(`N=${n}: TLS floor ${describe(floor)}`);
    }
    return { lanspread, bittorrent, floor };
  } finally {
    await net.teardown();
  }
}

function describe(run: CrowdRun): string {
  const times = run.seconds.map((s) => (s === null ? 'failed' : s.toFixed(1))).join(' ');
  const warn = run.busyPercent > 90 ? ' (near CPU-bound: lower LANSPREAD_BENCH_SWARM_MBIT, or stop what else runs here)' : '';
  return `last ${secs(lastSeconds(run))} [${times}], ${run.failures.length} failed${run.failures.length ? ` (${run.failures.join('; ')})` : ''}, CPU ${secs(run.cpuSeconds)} (kernel ${secs(run.systemCpuSeconds)}), ${(run.playerPackets / 1000).toFixed(1)}k packets per player, seed sent ${(run.seedTxBytes / MIB).toFixed(0)} MiB, machine busy ${pct(run.busyPercent)}${warn}, of which its own processes ${pct(ownPercent(run))}`;
}

function busyNote(result: RoomResult): string {
  const busy = (run: CrowdRun) => `${pct(run.busyPercent)} (own processes ${pct(ownPercent(run))})`;
  const bt = result.bittorrent ? `, BitTorrent run ${busy(result.bittorrent)}` : '';
  return `machine busy ${busy(result.lanspread)} over the Lanspread run${bt} (2 cores; rates chosen so they are not the limit)`;
}

function runFigure(n: number, mbit: number, result: RoomResult, solo: RoomResult, game: Game, suffix = ''): BenchFigure {
  const wireSeconds = (game.bytes * 8) / (mbit * 1e6);
  const last = lastSeconds(result.lanspread);
  const alone = lastSeconds(solo.lanspread);
  const bt = result.bittorrent ? lastSeconds(result.bittorrent) : Number.NaN;
  const btAlone = solo.bittorrent ? lastSeconds(solo.bittorrent) : Number.NaN;
  return {
    id: `swarm.flash_crowd.n${n}${suffix}.vs_link`,
    value: last,
    unit: 's',
    baseline: wireSeconds,
    ratio: last / wireSeconds,
    note:
      `1 seed + ${n} players in netns, every link ${mbit} Mbit/s both ways (tbf), ${(game.bytes / MIB).toFixed(0)} MiB, all started at once after mDNS; ` +
      `time of the last player to game-download-finished ÷ size at link rate` +
      (result.lanspread.failures.length > 0 ? ` (the last of the ${n - result.lanspread.failures.length} that finished: ${result.lanspread.failures.length} failed)` : '') +
      `; last ÷ one download alone ${(last / alone).toFixed(2)}` +
      (result.bittorrent ? ` (BitTorrent: ${(bt / btAlone).toFixed(2)}, ${(bt / wireSeconds).toFixed(2)} × link)` : '') +
      `; ${busyNote(result)}`,
  };
}

function crowdFigures(n: number, mbit: number, result: RoomResult, solo: RoomResult, game: Game): BenchFigure[] {
  const { lanspread, bittorrent } = result;
  const last = lastSeconds(lanspread);
  const alone = lastSeconds(solo.lanspread);
  const busy = busyNote(result);
  const figures: BenchFigure[] = [
    runFigure(n, mbit, result, solo, game),
    {
      id: `swarm.flash_crowd.n${n}.vs_one_download`,
      value: last,
      unit: 's',
      baseline: alone,
      ratio: last / alone,
      note: `the last of ${n} players ÷ one player alone at the same ${mbit} Mbit/s per link, same bytes (Lanspread both); ${busy}`,
    },
    {
      id: `swarm.flash_crowd.n${n}.seed_upload`,
      value: lanspread.seedTxBytes / MIB,
      unit: 'MiB',
      baseline: game.bytes / MIB,
      ratio: lanspread.seedTxBytes / game.bytes,
      note: `bytes the seed's eth0 sent over the run ÷ game size` + (bittorrent ? ` (BitTorrent seed: ${(bittorrent.seedTxBytes / game.bytes).toFixed(2)})` : '') + `; ${busy}`,
    },
    {
      id: `swarm.flash_crowd.n${n}.failed`,
      value: lanspread.failures.length,
      unit: 'downloads',
      baseline: n,
      ratio: lanspread.failures.length / n,
      note: `failed downloads (not retried by the bench) of ${n}` + (lanspread.failures.length ? `: ${lanspread.failures.join('; ')}` : '') + (bittorrent ? `; BitTorrent failed ${bittorrent.failures.length}` : '') + `; ${busy}`,
    },
  ];
  const floor = result.floor;
  if (floor) {
    figures.push({
      id: `swarm.flash_crowd.n${n}.cpu_vs_floor`,
      value: lanspread.cpuSeconds,
      unit: 'CPU s',
      baseline: floor.cpuSeconds,
      ratio: lanspread.cpuSeconds / floor.cpuSeconds,
      note: `Lanspread's CPU seconds ÷ the TLS floor's: Node peers spreading the same bytes over TLS 1.3 in the same namespaces by a fixed perfect plan (the seed sends each chunk once, each player passes its share to all others), SHA-256 and a write per chunk of Lanspread's size (${chunkSizeFor(game.bytes) / 1024} KiB), nothing else (last player ${secs(lastSeconds(floor))}, seed sent ${(floor.seedTxBytes / MIB).toFixed(0)} MiB); ${busy}`,
    });
    if (bittorrent) {
      figures.push({
        id: `swarm.flash_crowd.n${n}.floor_cpu_vs_bittorrent`,
        value: floor.cpuSeconds,
        unit: 'CPU s',
        baseline: bittorrent.cpuSeconds,
        ratio: floor.cpuSeconds / bittorrent.cpuSeconds,
        note: `the TLS floor's CPU seconds ÷ BitTorrent's: the least a room of Node peers with TLS 1.3 and SHA-256 spends on these bytes against aria2c (C++, no encryption); machine busy ${pct(floor.busyPercent)} over the floor run`,
      });
    }
  }
  if (!bittorrent) return figures;
  const bt = lastSeconds(bittorrent);
  figures.push(
    {
      id: `swarm.flash_crowd.n${n}.vs_bittorrent`,
      value: last,
      unit: 's',
      baseline: bt,
      ratio: last / bt,
      note: `the last player, Lanspread ÷ BitTorrent (aria2c + opentracker, private torrent, 256 KiB pieces, DHT/LPD/PEX off, players seed until all finished) on the same bytes and namespaces; ${busy}`,
    },
    {
      id: `swarm.flash_crowd.n${n}.cpu_vs_bittorrent`,
      value: lanspread.cpuSeconds,
      unit: 'CPU s',
      baseline: bittorrent.cpuSeconds,
      ratio: lanspread.cpuSeconds / bittorrent.cpuSeconds,
      note: `utime+stime of all ${n + 1} peer processes over the run (/proc/PID/stat); both download only (no unpacking) and both after the same warming of pages (as many bytes as a run writes are written and deleted before it: this VM's first touch of a page costs 10×, and a page free for a few seconds is cold again, machine.fresh_pages); Lanspread's main threads used ${secs(lanspread.mainThreadCpuSeconds)} of it (the rest: V8's compiler and GC threads, file I/O, the hash worker); the idle room used ${lanspread.idleCores.toFixed(2)} cores just before the start; BitTorrent's: every aria2c and opentracker; of each, the kernel's (stime): Lanspread ${secs(lanspread.systemCpuSeconds)}, BitTorrent ${secs(bittorrent.systemCpuSeconds)}` + (result.floor ? `, the TLS floor ${secs(result.floor.systemCpuSeconds)} of its ${secs(result.floor.cpuSeconds)}` : '') + `; ${busy}`,
    },
    {
      id: `swarm.flash_crowd.n${n}.packets_vs_bittorrent`,
      value: lanspread.playerPackets,
      unit: 'packets',
      baseline: bittorrent.playerPackets,
      ratio: lanspread.playerPackets / bittorrent.playerPackets,
      note: `packets through each player's link over the run (received + sent, /proc/net/dev of its namespace; an offloaded segment counts once, whatever its size), mean of the players, Lanspread ÷ BitTorrent` + (result.floor ? ` (the TLS floor: ${(result.floor.playerPackets / 1000).toFixed(1)}k)` : '') + `: each packet costs kernel time on this machine, charged to whichever peer process its path runs in; ${busy}`,
    },
  );
  return figures;
}

/**
 * One seed, one player, one fast link: Lanspread's time to last byte against nginx + curl
 * fetching the same archive across the same namespaces, alternating which goes first.
 */
async function singleLink(dir: string): Promise<BenchFigure[]> {
  const httpMissing = missingToolsReason(['nginx', 'curl']);
  if (httpMissing) {
    log(`single link skipped (its baseline needs nginx and curl): ${httpMissing}`);
    return [];
  }
  const game = await makeGame(path.join(dir, 'single-seed-games'), SINGLE_BYTES, 22);
  const archives = [...game.expected.keys()];
  const net = shapedRoom(2, SINGLE_MBIT);
  const [seedHost, playerHost] = net.hosts as [NetnsHost, NetnsHost];
  const lanspread: number[] = [];
  const curl: number[] = [];
  const busy: { lanspread: number[]; curl: number[] } = { lanspread: [], curl: [] };
  const timeoutMs = Number(env('TIMEOUT_S') ?? 120 + (3 * game.bytes * 8) / (SINGLE_MBIT * 1e6)) * 1000;
  const seed = await startCrowdPeer(seedHost, 'seed', game.dir, path.join(dir, 'single-seed-state'));
  const nginx = await startNginx(net, seedHost.ns, seedHost.address, game.dir, path.join(dir, 'nginx'));
  try {
    const runLanspread = async (round: number) => {
      const playerDir = path.join(dir, `single-player-${round}`);
      const player = await startCrowdPeer(playerHost, 'player', path.join(playerDir, 'games'), path.join(playerDir, 'state'));
      try {
        await waitUntilSeeSeed([player], seed, GAME_ID, 120_000);
        await waitUntilIdle([seed, player].map((peer) => peer.cli.child.pid as number), 0.1);
        const before = machineCpuSample();
        const [outcome] = await downloadAtOnce([player], GAME_ID, timeoutMs);
        busy.lanspread.push(busyPercent(before, machineCpuSample()));
        if (!outcome || outcome.seconds === null) throw new Error(`single-link download failed: ${outcome?.error}`);
        const problems = await archiveDifferences(game.expected, path.join(player.gameDir, GAME_ID));
        if (problems.length > 0) throw new Error(`single-link download has wrong bytes: ${problems.join(', ')}`);
        lanspread.push(outcome.seconds);
      } finally {
        await player.stop();
        await rm(playerDir, { recursive: true, force: true });
      }
    };
    const runCurl = async () => {
      const target = path.join(dir, 'curl', archives[0] as string);
      await rm(path.dirname(target), { recursive: true, force: true });
      await mkdir(path.dirname(target), { recursive: true });
      const before = machineCpuSample();
      curl.push(await curlDownload(playerHost.ns, nginx.url(path.join(GAME_ID, archives[0] as string)), target));
      busy.curl.push(busyPercent(before, machineCpuSample()));
      const problems = await archiveDifferences(new Map([[archives[0] as string, game.expected.get(archives[0] as string) as string]]), path.dirname(target));
      if (problems.length > 0) throw new Error(`curl fetched wrong bytes: ${problems.join(', ')}`);
      await rm(target, { force: true });
    };
    for (let round = 0; round < SINGLE_RUNS; round++) {
      if (round % 2 === 0) {
        await runLanspread(round);
        await runCurl();
      } else {
        await runCurl();
        await runLanspread(round);
      }
      log(`single link round ${round + 1}: Lanspread ${secs(lanspread.at(-1) as number)} (busy ${pct(busy.lanspread.at(-1) as number)}), curl ${secs(curl.at(-1) as number)} (busy ${pct(busy.curl.at(-1) as number)})`);
    }
  } finally {
    await nginx.stop();
    await seed.stop();
    await net.teardown();
  }
  const mbit = (seconds: number) => (game.bytes * 8) / 1e6 / seconds;
  const ours = mbit(median(lanspread));
  const theirs = mbit(median(curl));
  return [
    {
      id: 'swarm.single_1gbit.vs_curl',
      value: ours,
      unit: 'Mbit/s',
      baseline: theirs,
      ratio: ours / theirs,
      note:
        `1 seed, 1 player, one ${SINGLE_MBIT} Mbit/s link both ways (tbf), ${(game.bytes / MIB).toFixed(0)} MiB archive, median of ${SINGLE_RUNS}, order alternating: ` +
        `Lanspread download_game to game-download-finished (${(ours / SINGLE_MBIT).toFixed(2)} of the wire) vs nginx-light + curl of the same file (${(theirs / SINGLE_MBIT).toFixed(2)} of the wire, no fsync); ` +
        `machine busy ${pct(median(busy.lanspread))} (Lanspread) / ${pct(median(busy.curl))} (curl)`,
    },
  ];
}
