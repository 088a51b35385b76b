import { availableParallelism } from 'node:os';
import type { NetnsHost } from '../../test/support/netns';
import { netDevCounters } from '../../test/support/procfs';

/** What one flash-crowd run of one tool measured, from the common start to the last downloader. */
export interface CrowdRun {
  tool: string;
  /** Seconds from the common start until each downloader had the verified game; null when it failed. */
  seconds: (number | null)[];
  /** Why each failed download failed. */
  failures: string[];
  /** CPU seconds (utime+stime) of every process of the tool over the run. */
  cpuSeconds: number;
  /**
   * Of cpuSeconds, the kernel's (stime): system calls, and the network stack's work that runs
   * in the process's context (on veth, much of the receiving peer's too).
   */
  systemCpuSeconds: number;
  /** Packets each player's link passed (received + sent, its namespace's eth0) over the run, mean of the players. */
  playerPackets: number;
  /** Bytes the seed's link sent over the run (its namespace's eth0). */
  seedTxBytes: number;
  /** The whole machine's busy % over the run. */
  busyPercent: number;
  /** Wall seconds of the run, from the common start until the last downloader settled. */
  wallSeconds: number;
}

/**
 * The tool's own processes' share of all cores over the run, in %. The machine's busy % also
 * holds the kernel's bridging and shaping and whatever else shares the machine.
 */
export function ownPercent(run: CrowdRun): number {
  return (100 * run.cpuSeconds) / (run.wallSeconds * availableParallelism());
}

/** The last finished downloader's time (NaN when none finished). */
export function lastSeconds(run: CrowdRun): number {
  const done = run.seconds.filter((s): s is number => s !== null);
  return done.length > 0 ? Math.max(...done) : Number.NaN;
}

/** Starts counting the packets through `hosts`' links; the function returned gives the mean received + sent per host since. */
export function countLinkPackets(hosts: readonly NetnsHost[]): () => number {
  const packets = (host: NetnsHost) => {
    const counters = netDevCounters(host.ns, host.iface);
    return counters.rxPackets + counters.txPackets;
  };
  const before = hosts.map(packets);
  return () => hosts.reduce((sum, host, index) => sum + packets(host) - (before[index] as number), 0) / Math.max(1, hosts.length);
}
