/**
 * Lanspread's side of a flash crowd: real `lanspread-peer serve` processes in the namespaces
 * (test/support/flash-crowd.ts), every download started in the same tick through the control
 * sockets once every player lists the seed's game, timed to each game-download-finished.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { archiveDifferences, downloadAtOnce, startCrowd, waitUntilSeeSeed, type CrowdPeer } from '../../test/support/flash-crowd';
import type { NetnsHarness } from '../../test/support/netns';
import { busyPercent, machineCpuSample, netDevCounters, threadCpuSeconds, treeCpuTimes, waitUntilIdle } from '../../test/support/procfs';
import { countLinkPackets, type CrowdRun } from './crowd-run';

const DISCOVERY_TIMEOUT_MS = 120_000;
const IDLE_CORES_PER_PEER = 0.03;

export interface LanspreadCrowdRun extends CrowdRun {
  /** From the last peer's start until every player listed the seed's game (mDNS). */
  discoverySeconds: number;
  /** Cores the whole room used in the last second before the start (idle pings and discovery). */
  idleCores: number;
  /** CPU seconds of the bench process itself over the run (it receives every peer's events). */
  harnessCpuSeconds: number;
  /** Of cpuSeconds, what the peers' main threads used (the rest: V8's compiler and GC threads, libuv's file I/O, the hash worker). */
  mainThreadCpuSeconds: number;
}

export interface LanspreadCrowdOptions {
  net: NetnsHarness;
  seedGameDir: string;
  gameId: string;
  expected: Map<string, string>;
  /** Scratch folder of this run (the players' games and every state dir); removed at the end. */
  dir: string;
  timeoutMs: number;
}

export async function runLanspreadCrowd(options: LanspreadCrowdOptions): Promise<LanspreadCrowdRun> {
  const { net, gameId } = options;
  const crowd = await startCrowd(net, options.dir, options.seedGameDir);
  try {
    const discoverySeconds = await waitUntilSeeSeed(crowd.downloaders, crowd.seed, gameId, DISCOVERY_TIMEOUT_MS);
    const pids = crowd.all.map((peer) => peer.cli.child.pid as number);
    // A peer that just started still indexes and hashes its games: start once that is over.
    // An idle room is not silent (every peer pings every other), so the bar grows with its size.
    const idleCores = await waitUntilIdle(pids, IDLE_CORES_PER_PEER * crowd.all.length);
    const harnessCpu0 = process.cpuUsage();
    const cpu0 = treeCpuTimes(pids);
    const mainThread = (peer: CrowdPeer) => threadCpuSeconds(peer.cli.child.pid as number);
    const main0 = new Map(crowd.all.map((peer) => [peer, mainThread(peer)]));
    const seedHost = crowd.seed.host;
    const seedTx0 = netDevCounters(seedHost.ns, seedHost.iface).tx;
    const linkPackets = countLinkPackets(crowd.downloaders.map((peer) => peer.host));
    const busy0 = machineCpuSample();
    const startedAt = performance.now();
    const outcomes = await downloadAtOnce(crowd.downloaders, gameId, options.timeoutMs);
    // Read before the peers are stopped: a process's CPU time is gone from /proc once it exits.
    const cpu1 = treeCpuTimes(pids);
    const cpuSeconds = cpu1.cpuSeconds - cpu0.cpuSeconds;
    const mainThreadCpuSeconds = crowd.all.reduce((sum, peer) => sum + mainThread(peer) - (main0.get(peer) as number), 0);
    const seedTxBytes = netDevCounters(seedHost.ns, seedHost.iface).tx - seedTx0;
    const playerPackets = linkPackets();
    const busy = busyPercent(busy0, machineCpuSample());
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const harness = process.cpuUsage(harnessCpu0);
    const seconds = outcomes.map((outcome) => outcome.seconds);
    const failures = outcomes.filter((outcome) => outcome.error !== null).map((outcome) => `${outcome.name}: ${outcome.error}`);
    for (const [index, peer] of crowd.downloaders.entries()) {
      if (seconds[index] === null) continue;
      const problems = await archiveDifferences(options.expected, path.join(peer.gameDir, gameId));
      if (problems.length === 0) continue;
      failures.push(`${peer.name}: ${problems.join(', ')}`);
      seconds[index] = null;
    }
    return { tool: 'Lanspread', seconds, failures, cpuSeconds, systemCpuSeconds: cpu1.systemSeconds - cpu0.systemSeconds, playerPackets, seedTxBytes, busyPercent: busy, wallSeconds, discoverySeconds, idleCores, harnessCpuSeconds: (harness.user + harness.system) / 1e6, mainThreadCpuSeconds };
  } finally {
    await crowd.stop();
    await rm(options.dir, { recursive: true, force: true });
  }
}
