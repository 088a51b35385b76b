import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { netnsSupport } from '../test/support/netns';
import type { BenchFigure } from './figures';
import { formatProfileSummary } from './support/cpu-profile';
import { median } from './support/measure';
import { runMeshRoom, type MeshRun, type PerSecond } from './support/mesh-room';

/**
 * mesh.*: what an idle LAN party costs (issue #14). N `lanspread-peer serve` processes, one per
 * network namespace on one bridge, one small game each, found by mDNS only. Per N: time until
 * every peer lists every other (with its game), idle CPU % of one core per peer, bytes sent per
 * peer per second and RSS over an idle window after that, and time until a peer started
 * afterwards is listed by all.
 *
 * No baseline tool: nothing packaged does what an idle Lanspread mesh does (discovery plus a
 * live, pinged, listed connection to every peer), and avahi-daemon, which would cover the mDNS
 * part only, is not among the packages this project may use. So each figure's baseline is the
 * target of issue #14 (idle CPU ≤ 0.5 % per peer, all listed within 3 s, a new peer within 2 s),
 * and bytes and RSS per peer are compared with the smallest N of the same run (growth with N).
 *
 * Env: LANSPREAD_BENCH_MESH_N (default 2,8,16; 32 if memory allows), _IDLE_S (idle window,
 * default 60), _SETTLE_S (wait after convergence, default 15: a peer closes the connections
 * it greeted with after 3 s idle, and a new peer hashes its game once), _TIMEOUT_S (bound on each
 * convergence wait, default 60 + 4 × N), _PROFILE (neighbour counts to profile instead,
 * e.g. 1,8,16: a room of k + 1 peers whose peer 0 runs under `node --cpu-prof`; its idle
 * window's summary goes to bench/results/mesh-profile.md, and no figures).
 */
const env = (name: string) => process.env[`LANSPREAD_BENCH_MESH_${name}`];
const list = (text: string | undefined, fallback: string, min: number) =>
  (text ?? fallback)
    .split(',')
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= min && n <= 60);
const ROOMS = list(env('N'), '2,8,16', 2);
const PROFILES = list(env('PROFILE'), '', 1);
const IDLE_S = Number(env('IDLE_S') ?? 60);
const SETTLE_S = Number(env('SETTLE_S') ?? 15);
const TARGET = { idleCpuPercent: 0.5, convergeSeconds: 3, newPeerSeconds: 2 };
const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

const log = (line: string) => process.stderr.write(`[mesh] ${line}\n`);
const timeoutMs = (n: number) => Number(env('TIMEOUT_S') ?? 60 + 4 * n) * 1000;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const spread = (values: number[], digits: number) => `mean ${mean(values).toFixed(digits)}, median ${median(values).toFixed(digits)}, max ${Math.max(...values).toFixed(digits)}`;

export async function runMeshBench(): Promise<BenchFigure[]> {
  const support = netnsSupport();
  if (!support.ok) {
    log(`skipped: ${support.reason}`);
    return [];
  }
  log('no baseline tool for an idle mesh: nothing packaged keeps a pinged, listed connection to every peer, and avahi-daemon (mDNS only) is not an allowed package; figures are compared with the targets of issue #14 and with the smallest N of this run');
  log('2 cores: at N = 16 and 32 the peers together may saturate the machine; every figure reports machine busy % over its idle window');
  const dir = await mkdtemp(path.join(tmpdir(), 'lanspread-mesh-bench-'));
  try {
    if (PROFILES.length > 0) {
      await profiles(dir);
      return [];
    }
    const runs: MeshRun[] = [];
    for (const n of ROOMS) {
      const run = await runMeshRoom({ peers: n, dir: path.join(dir, `n${n}`), idleSeconds: IDLE_S, settleSeconds: SETTLE_S, timeoutMs: timeoutMs(n), log });
      log(`N=${n}: ${describe(run)}`);
      runs.push(run);
    }
    return runs.flatMap((run) => figures(run, runs[0] as MeshRun));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function rateText(rates: PerSecond | null): string {
  if (!rates) return 'packet counters unreadable';
  const requests = Object.entries(rates.requests)
    .filter(([, rate]) => rate > 0)
    .map(([type, rate]) => `${type} ${rate.toFixed(2)}`)
    .join(', ');
  return `per peer per s (median peer): QUIC datagrams sent ${rates.quicSent.toFixed(1)} / received ${rates.quicReceived.toFixed(1)}, mDNS sent ${rates.mdnsSent.toFixed(2)} / received ${rates.mdnsReceived.toFixed(2)}, requests sent: ${requests || 'none'}`;
}

function describe(run: MeshRun): string {
  return (
    `converged ${run.convergeSeconds.toFixed(1)} s after the last start (${run.convergeSinceFirstStartSeconds.toFixed(1)} s after the first); ` +
    `idle ${run.idleWindowSeconds.toFixed(0)} s: CPU % of a core per peer ${spread(run.idleCpuPercent, 2)}; sent B/s per peer ${spread(run.txBytesPerSecond, 0)}; RSS MB ${spread(run.rssMb, 0)}; ` +
    `machine busy ${run.machineBusyPercent.toFixed(0)} %; pairs lost during the window ${run.lostPairs}; ${rateText(run.rates)}; ` +
    `new peer listed by all ${run.newPeerListedSeconds.toFixed(1)} s after its ready line (${run.newPeerListedSinceSpawnSeconds.toFixed(1)} s after spawn), it listed all ${run.newPeerListsAllSeconds.toFixed(1)} s after`
  );
}

function figures(run: MeshRun, smallest: MeshRun): BenchFigure[] {
  const n = run.peers;
  const busy = `machine busy ${run.machineBusyPercent.toFixed(0)} % over the ${run.idleWindowSeconds.toFixed(0)} s idle window (2 cores${run.machineBusyPercent > 80 ? ': saturated, figures are limited by the machine' : ''})`;
  const where = `${n} serve processes in netns on one bridge, mDNS only, one small game each`;
  const noBaseline = 'no baseline tool for an idle mesh (see mesh.bench.ts)';
  const cpu = mean(run.idleCpuPercent);
  const tx = mean(run.txBytesPerSecond);
  const rss = mean(run.rssMb);
  const smallTx = mean(smallest.txBytesPerSecond);
  const smallRss = mean(smallest.rssMb);
  return [
    {
      id: `mesh.n${n}.converge`,
      value: run.convergeSeconds,
      unit: 's',
      baseline: TARGET.convergeSeconds,
      ratio: run.convergeSeconds / TARGET.convergeSeconds,
      note: `${where}; from the last peer's ready line until every peer lists every other with its game (request_peers; ${run.convergeSinceFirstStartSeconds.toFixed(1)} s from the first peer's start, start-ups one after another), ÷ the issue #14 target of ${TARGET.convergeSeconds} s; ${noBaseline}`,
    },
    {
      id: `mesh.n${n}.idle_cpu`,
      value: cpu,
      unit: '% of a core',
      baseline: TARGET.idleCpuPercent,
      ratio: cpu / TARGET.idleCpuPercent,
      note: `${where}; utime+stime per peer over the idle window (/proc/PID/stat), mean (${spread(run.idleCpuPercent, 2)}) ÷ the issue #14 target of ${TARGET.idleCpuPercent} %; ${run.lostPairs} of ${n * (n - 1)} (observer, peer) pairs no longer listed at the end of the window; ${busy}; ${noBaseline}`,
    },
    {
      id: `mesh.n${n}.idle_tx`,
      value: tx,
      unit: 'B/s',
      baseline: smallTx,
      ratio: tx / smallTx,
      note: `${where}; bytes each peer's eth0 sent per second over the idle window (/proc/net/dev in its netns), mean (${spread(run.txBytesPerSecond, 0)}) ÷ the same at N = ${smallest.peers}; ${rateText(run.rates)}; ${busy}`,
    },
    {
      id: `mesh.n${n}.rss`,
      value: rss,
      unit: 'MB',
      baseline: smallRss,
      ratio: rss / smallRss,
      note: `${where}; VmRSS per peer at the end of the idle window, mean (${spread(run.rssMb, 0)}) ÷ the same at N = ${smallest.peers}`,
    },
    {
      id: `mesh.n${n}.new_peer_listed`,
      value: run.newPeerListedSeconds,
      unit: 's',
      baseline: TARGET.newPeerSeconds,
      ratio: run.newPeerListedSeconds / TARGET.newPeerSeconds,
      note: `${where}; a peer started after the idle window: from its ready line until all ${n} list it with its game (${run.newPeerListedSinceSpawnSeconds.toFixed(1)} s from its spawn; it listed all ${run.newPeerListsAllSeconds.toFixed(1)} s after its ready line), ÷ the issue #14 target of ${TARGET.newPeerSeconds} s`,
    },
  ];
}

/** Rooms of k + 1 peers with peer 0 profiled; the summaries go to bench/results/mesh-profile.md. */
async function profiles(dir: string): Promise<void> {
  const sections: string[] = [`# Idle peer CPU profile (npm run bench mesh, LANSPREAD_BENCH_MESH_PROFILE=${PROFILES.join(',')})`, ''];
  for (const neighbours of PROFILES) {
    const n = neighbours + 1;
    const run = await runMeshRoom({ peers: n, dir: path.join(dir, `profile-${neighbours}`), idleSeconds: IDLE_S, settleSeconds: SETTLE_S, timeoutMs: timeoutMs(n), profile: true, log });
    log(`profile, ${neighbours} neighbours: ${describe(run)}`);
    const summary = run.profile ? formatProfileSummary(run.profile) : 'no profile written';
    log(`profile, ${neighbours} neighbours, peer 0's main thread over the idle window:\n${summary}`);
    sections.push(
      `## ${neighbours} neighbours`,
      '',
      `Peer 0 of ${n} (under --cpu-prof, so its own CPU is a little higher). Room: ${describe(run)}.`,
      '',
      summary,
      '',
    );
  }
  await writeFile(path.join(resultsDir, 'mesh-profile.md'), `${sections.join('\n')}\n`);
}
