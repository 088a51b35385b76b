/**
 * The BitTorrent baseline of a flash crowd, on the same bytes and namespaces as Lanspread's run:
 * Debian's opentracker in the seed's namespace (its build only tracks whitelisted info hashes),
 * a private torrent of the game folder made by mktorrent with 256 KiB pieces, aria2c seeding on
 * the seed host and downloading on every other host. DHT, local peer discovery and peer
 * exchange are off, so peers find each other only through the local tracker. Every downloader
 * keeps seeding until the last one has finished, as a crowd of players would.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { archiveDifferences } from '../../test/support/flash-crowd';
import { killAndWait, type NetnsHarness, type NetnsHost } from '../../test/support/netns';
import { busyPercent, machineCpuSample, netDevCounters, treeCpuTimes } from '../../test/support/procfs';
import { countLinkPackets, type CrowdRun } from './crowd-run';

const TRACKER_PORT = 6969;
const ARIA2_COMMON = [
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--enable-peer-exchange=false',
  // 0.0: seed without a ratio limit, until the bench stops it.
  '--seed-ratio=0.0',
  '--summary-interval=0',
  '--console-log-level=warn',
  '--disable-ipv6=true',
  // The download writes each piece at its offset as Lanspread does, no zero-filling first.
  '--file-allocation=none',
];

export interface Torrent {
  file: string;
  infoHash: string;
  trackerAddress: string;
}

/** A private torrent (256 KiB pieces) of `gameRoot`, announcing to a tracker at `trackerAddress`. */
export async function makeTorrent(gameRoot: string, trackerAddress: string, dir: string): Promise<Torrent> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${path.basename(gameRoot)}.torrent`);
  await rm(file, { force: true });
  run('mktorrent', ['-p', '-l', '18', '-a', `http://${trackerAddress}:${TRACKER_PORT}/announce`, '-o', file, gameRoot]);
  const infoHash = /Info Hash: ([0-9a-f]{40})/.exec(run('aria2c', ['-S', file]))?.[1];
  if (!infoHash) throw new Error(`aria2c -S ${file} printed no info hash`);
  return { file, infoHash, trackerAddress };
}

export interface BitTorrentCrowdOptions {
  net: NetnsHarness;
  seedHost: NetnsHost;
  downloaderHosts: NetnsHost[];
  torrent: Torrent;
  /** The game folder the torrent was made of (the seed's copy). */
  gameRoot: string;
  /** SHA-256 of each archive of the game, to check every download. */
  expected: Map<string, string>;
  /** Scratch folder of this run; removed at the end. */
  dir: string;
  timeoutMs: number;
}

export async function runBitTorrentCrowd(options: BitTorrentCrowdOptions): Promise<CrowdRun> {
  const { net, seedHost, downloaderHosts, torrent, dir } = options;
  const children: ChildProcess[] = [];
  const logs = new Map<ChildProcess, string>();
  const start = (ns: string, cmd: string, args: string[]) => {
    const child = net.run(ns, cmd, args);
    children.push(child);
    logs.set(child, '');
    const keep = (data: Buffer) => logs.set(child, `${logs.get(child)}${data}`.slice(-4_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return child;
  };
  try {
    // opentracker chroots into its folder and drops to nobody: the whitelist must be world-readable there.
    const trackerDir = path.join(dir, 'tracker');
    await mkdir(trackerDir, { recursive: true });
    await chmod(trackerDir, 0o755);
    await writeFile(path.join(trackerDir, 'whitelist'), `${torrent.infoHash}\n`, { mode: 0o644 });
    const address = torrent.trackerAddress;
    const tracker = start(seedHost.ns, 'opentracker', ['-i', address, '-p', String(TRACKER_PORT), '-P', String(TRACKER_PORT), '-d', trackerDir, '-w', '/whitelist', '-A', address]);
    const seed = start(seedHost.ns, 'aria2c', [...ARIA2_COMMON, '--check-integrity=true', `--dir=${path.dirname(options.gameRoot)}`, torrent.file]);
    await waitForTrackerSeeds(seedHost.ns, address, 1, 60_000, () => [tracker, seed].map((child) => logs.get(child)).join('\n'));

    const hosts = await Promise.all(
      downloaderHosts.map(async (host, index) => {
        const hostDir = path.join(dir, `player-${index + 1}`);
        await mkdir(path.join(hostDir, 'dl'), { recursive: true });
        const hook = path.join(hostDir, 'done.sh');
        // aria2c runs this once the last piece is verified, before it goes on seeding.
        await writeFile(hook, `#!/bin/sh\ndate +%s%N > '${path.join(hostDir, 'done')}'\n`, { mode: 0o755 });
        return { host, hostDir, hook };
      }),
    );
    const pidsOf = (processes: ChildProcess[]) => processes.map((child) => child.pid as number);
    const seedCpu0 = treeCpuTimes(pidsOf([seed, tracker]));
    const seedTx0 = netDevCounters(seedHost.ns, seedHost.iface).tx;
    const linkPackets = countLinkPackets(downloaderHosts);
    const busy0 = machineCpuSample();
    const startedAt = Date.now();
    const downloaders = hosts.map(({ host, hostDir, hook }) => start(host.ns, 'aria2c', [...ARIA2_COMMON, `--dir=${path.join(hostDir, 'dl')}`, `--on-bt-download-complete=${hook}`, torrent.file]));

    const seconds: (number | null)[] = hosts.map(() => null);
    const failures: string[] = [];
    const settled = new Set<number>();
    const deadline = startedAt + options.timeoutMs;
    while (settled.size < hosts.length) {
      hosts.forEach(({ hostDir }, index) => {
        if (settled.has(index)) return;
        const done = readDoneStamp(path.join(hostDir, 'done'));
        const child = downloaders[index] as ChildProcess;
        if (done !== null) {
          seconds[index] = (done - startedAt) / 1000;
          settled.add(index);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          failures.push(`player-${index + 1}: aria2c exited (${child.exitCode ?? child.signalCode}): ${logs.get(child)?.trim().split('\n').pop()}`);
          settled.add(index);
        }
      });
      if (settled.size === hosts.length) break;
      if (Date.now() > deadline) {
        throw new Error(`BitTorrent flash crowd hung: after ${options.timeoutMs / 1000} s ${hosts.length - settled.size} of ${hosts.length} aria2c downloads unfinished`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Read before anything exits: a process's CPU time is gone from /proc once it is reaped.
    const cpu = treeCpuTimes(pidsOf(children));
    const cpuSeconds = cpu.cpuSeconds - seedCpu0.cpuSeconds;
    const systemCpuSeconds = cpu.systemSeconds - seedCpu0.systemSeconds;
    const seedTxBytes = netDevCounters(seedHost.ns, seedHost.iface).tx - seedTx0;
    const playerPackets = linkPackets();
    const busy = busyPercent(busy0, machineCpuSample());
    const wallSeconds = (Date.now() - startedAt) / 1000;
    for (const [index, { hostDir }] of hosts.entries()) {
      if (seconds[index] === null) continue;
      const problems = await archiveDifferences(options.expected, path.join(hostDir, 'dl', path.basename(options.gameRoot)));
      if (problems.length === 0) continue;
      failures.push(`player-${index + 1}: ${problems.join(', ')}`);
      seconds[index] = null;
    }
    return { tool: 'BitTorrent (aria2c + opentracker)', seconds, failures, cpuSeconds, systemCpuSeconds, playerPackets, seedTxBytes, busyPercent: busy, wallSeconds };
  } finally {
    await Promise.all(children.map((child) => killAndWait(child)));
    await rm(dir, { recursive: true, force: true });
  }
}

function readDoneStamp(file: string): number | null {
  try {
    const nanoseconds = readFileSync(file, 'utf8').trim();
    return nanoseconds.length > 0 ? Number(BigInt(nanoseconds) / 1_000_000n) : null;
  } catch {
    return null;
  }
}

/** Polls opentracker's stats page (answered only to its admin address, the seed's) until `seeds` seeds are announced. */
async function waitForTrackerSeeds(ns: string, address: string, seeds: number, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = spawnSync('ip', ['netns', 'exec', ns, 'curl', '-s', '--max-time', '2', `http://${address}:${TRACKER_PORT}/stats?mode=peer`], { encoding: 'utf8' });
    // mode=peer answers "<peers>\n<seeds>\nopentracker serving <n> torrents\n...".
    if (Number(stats.stdout?.split('\n')[1]) >= seeds) return;
    if (Date.now() > deadline) throw new Error(`the BitTorrent seed never announced to opentracker within ${timeoutMs / 1000} s:\n${logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function run(cmd: string, args: string[]): string {
  const result = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.error?.message}`);
  return result.stdout;
}
