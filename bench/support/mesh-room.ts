/**
 * An idle mesh: N real `lanspread-peer serve` processes, one per network namespace on one
 * bridge, each sharing one small game, found by mDNS only (no --peer). Measures how long until
 * every peer lists every other, what each costs over an idle window after that (CPU, bytes on
 * its link, RSS, UDP datagrams and control requests by kind), and how long a peer started
 * afterwards takes to be listed by all. Optionally profiles peer 0 (`node --cpu-prof`).
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateGame } from '../../src/main/peer/demo/generate-game';
import { startCrowdPeer, type CrowdPeer } from '../../test/support/flash-crowd';
import { createNetns, type NetnsHost } from '../../test/support/netns';
import { busyPercent, machineCpuSample, netDevCounters, statusMb, treeCpuSeconds } from '../../test/support/procfs';
import { readCpuProfile, summariseCpuProfile, type ProfileSummary } from './cpu-profile';
import { median } from './measure';
import type { PeerCounters } from './peer-counters';

const COUNTERS_PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peer-counters.ts');
const GAME_ID = 'demo-arena';
const POLL_MS = 250;
const PROFILE_EXIT_TIMEOUT_MS = 30_000;

export interface MeshOptions {
  peers: number;
  /** Scratch folder of this room (games, state dirs, counters, profiles); removed at the end. */
  dir: string;
  idleSeconds: number;
  /** Wait after convergence before the idle window opens (start-up hashing, first re-lists). */
  settleSeconds: number;
  /** Bound on each wait for peers to list each other. */
  timeoutMs: number;
  /** Runs peer 0 under `node --cpu-prof` and summarises the idle window of its main thread. */
  profile?: boolean;
  log: (line: string) => void;
}

export interface PerSecond {
  mdnsSent: number;
  mdnsReceived: number;
  quicSent: number;
  quicReceived: number;
  /** Control-plane requests sent, by type. */
  requests: Record<string, number>;
}

export interface MeshRun {
  peers: number;
  /** From the last peer's LANSPREAD_READY until every peer listed every other with its game. */
  convergeSeconds: number;
  /** From the first peer's start until then (start-ups are sequential). */
  convergeSinceFirstStartSeconds: number;
  /** CPU % of one core over the idle window, one per peer. */
  idleCpuPercent: number[];
  /** Bytes each peer's eth0 sent per second over the idle window. */
  txBytesPerSecond: number[];
  rssMb: number[];
  /** Per peer per second over the idle window, the median peer (null when counters were not readable). */
  rates: PerSecond | null;
  /** Machine busy % over the idle window (2 cores). */
  machineBusyPercent: number;
  idleWindowSeconds: number;
  /** Ordered pairs (observer, observed) that were no longer listed at the end of the window. */
  lostPairs: number;
  /** From the new peer's LANSPREAD_READY until all N listed it with its game; and from its spawn. */
  newPeerListedSeconds: number;
  newPeerListedSinceSpawnSeconds: number;
  /** Until the new peer listed all N. */
  newPeerListsAllSeconds: number;
  profile: ProfileSummary | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** Which of `targets` each observer lists with at least one game; the set of missing (observer, target) pairs. */
async function missingPairs(observers: CrowdPeer[], targets: CrowdPeer[]): Promise<string[]> {
  const missing: string[] = [];
  for (const observer of observers) {
    const listed = new Set((await observer.client.invoke('request_peers')).filter((peer) => peer.gameCount > 0).map((peer) => peer.peerId));
    for (const target of targets) if (target !== observer && !listed.has(target.cli.peerId)) missing.push(`${observer.name}→${target.name}`);
  }
  return missing;
}

/** Polls until no pair is missing; the seconds from `since`. Throws naming the missing pairs after `timeoutMs`. */
async function waitUntilListed(observers: CrowdPeer[], targets: CrowdPeer[], since: number, timeoutMs: number, what: string): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const missing = await missingPairs(observers, targets);
    if (missing.length === 0) return (performance.now() - since) / 1000;
    if (performance.now() > deadline) throw new Error(`${what}: after ${timeoutMs / 1000} s still not listed: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ` (+${missing.length - 20})` : ''}`);
    await sleep(POLL_MS);
  }
}

/** Asks every peer for its counters (SIGUSR2) and reads them; null for a peer whose file did not appear. */
async function readCounters(peers: CrowdPeer[], files: Map<CrowdPeer, string>): Promise<(PeerCounters | null)[]> {
  await Promise.all([...files.values()].map((file) => rm(file, { force: true })));
  for (const peer of peers) peer.cli.child.kill('SIGUSR2');
  const deadline = performance.now() + 5_000;
  const read = async (peer: CrowdPeer) => {
    for (;;) {
      const text = await readFile(files.get(peer) as string, 'utf8').catch(() => '');
      if (text) return JSON.parse(text) as PeerCounters;
      if (performance.now() > deadline) return null;
      await sleep(20);
    }
  };
  return Promise.all(peers.map(read));
}

function medianRates(before: (PeerCounters | null)[], after: (PeerCounters | null)[]): PerSecond | null {
  const rates: PerSecond[] = [];
  for (const [index, start] of before.entries()) {
    const end = after[index];
    if (!start || !end) continue;
    const seconds = (end.atUs - start.atUs) / 1e6;
    const rate = (a: number, b: number) => (b - a) / seconds;
    const types = new Set([...Object.keys(start.requests), ...Object.keys(end.requests)]);
    rates.push({
      mdnsSent: rate(start.udp.mdns.sent, end.udp.mdns.sent),
      mdnsReceived: rate(start.udp.mdns.received, end.udp.mdns.received),
      quicSent: rate(start.udp.quic.sent, end.udp.quic.sent),
      quicReceived: rate(start.udp.quic.received, end.udp.quic.received),
      requests: Object.fromEntries([...types].map((type) => [type, rate(start.requests[type] ?? 0, end.requests[type] ?? 0)])),
    });
  }
  if (rates.length === 0) return null;
  const types = new Set(rates.flatMap((rate) => Object.keys(rate.requests)));
  return {
    mdnsSent: median(rates.map((rate) => rate.mdnsSent)),
    mdnsReceived: median(rates.map((rate) => rate.mdnsReceived)),
    quicSent: median(rates.map((rate) => rate.quicSent)),
    quicReceived: median(rates.map((rate) => rate.quicReceived)),
    requests: Object.fromEntries([...types].map((type) => [type, median(rates.map((rate) => rate.requests[type] ?? 0))])),
  };
}

/**
 * The main thread's profile. Node names each thread's file CPU.<date>.<time>.<pid>.<thread>.<seq>:
 * thread 0 is the main one (tsx's loader worker writes one too, mostly idle).
 */
async function mainThreadProfile(profileDir: string, window: { fromUs: number; toUs: number }): Promise<ProfileSummary | null> {
  const files = (await readdir(profileDir).catch(() => [] as string[])).filter((name) => name.endsWith('.cpuprofile'));
  const main = files.find((name) => name.split('.')[4] === '0');
  return main ? summariseCpuProfile(await readCpuProfile(path.join(profileDir, main)), window) : null;
}

/** SIGINT (the CLI stops cleanly and V8 writes the profile), bounded; SIGKILL after that via stop(). */
async function stopForProfile(peer: CrowdPeer): Promise<void> {
  peer.cli.child.kill('SIGINT');
  await Promise.race([peer.cli.exited, sleep(PROFILE_EXIT_TIMEOUT_MS)]);
  await peer.stop();
}

export async function runMeshRoom(options: MeshOptions): Promise<MeshRun> {
  const { peers: n, dir, log } = options;
  // One host more than the room: the peer that joins after the idle window.
  const net = createNetns({ count: n + 1 });
  const started: CrowdPeer[] = [];
  const counterFiles = new Map<CrowdPeer, string>();
  const profileDir = path.join(dir, 'profile');
  const start = async (index: number, host: NetnsHost) => {
    const name = `peer-${index}`;
    const gameDir = path.join(dir, name, 'games');
    await generateGame({ gameDir, gameId: GAME_ID, version: '1.0', files: [{ path: 'data/game.bin', size: 256 * 1024 }], seed: 7 });
    const countersFile = path.join(dir, name, 'counters.json');
    const profiled = options.profile === true && index === 0;
    const nodeArgs = ['--import', 'tsx', '--import', COUNTERS_PRELOAD, ...(profiled ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
    const peer = await startCrowdPeer(host, name, gameDir, path.join(dir, name, 'state'), { nodeArgs, env: { LANSPREAD_PEER_COUNTERS_FILE: countersFile } });
    started.push(peer);
    counterFiles.set(peer, countersFile);
    return peer;
  };
  try {
    const firstStart = performance.now();
    for (const [index, host] of net.hosts.slice(0, n).entries()) await start(index, host);
    const room = [...started];
    const lastReady = performance.now();
    log(`N=${n}: ${n} peers started in ${((lastReady - firstStart) / 1000).toFixed(1)} s (one after another); waiting until every peer lists every other`);
    const convergeSeconds = await waitUntilListed(room, room, lastReady, options.timeoutMs, `N=${n} converge`);
    const convergeSinceFirstStartSeconds = (performance.now() - firstStart) / 1000;
    log(`N=${n}: converged ${convergeSeconds.toFixed(1)} s after the last start; settling ${options.settleSeconds} s, then an idle window of ${options.idleSeconds} s`);
    await sleep(options.settleSeconds * 1000);

    const pids = room.map((peer) => peer.cli.child.pid as number);
    const counters0 = await readCounters(room, counterFiles);
    const cpu0 = pids.map((pid) => treeCpuSeconds(pid));
    const tx0 = room.map((peer) => netDevCounters(peer.host.ns, peer.host.iface).tx);
    const busy0 = machineCpuSample();
    const windowStart = performance.now();
    const fromUs = nowUs();
    await sleep(options.idleSeconds * 1000);
    const toUs = nowUs();
    const cpu1 = pids.map((pid) => treeCpuSeconds(pid));
    const tx1 = room.map((peer) => netDevCounters(peer.host.ns, peer.host.iface).tx);
    const window = (performance.now() - windowStart) / 1000;
    const busy = busyPercent(busy0, machineCpuSample());
    const counters1 = await readCounters(room, counterFiles);
    const rssMb = pids.map((pid) => statusMb(pid, 'VmRSS'));
    const lostPairs = (await missingPairs(room, room)).length;

    let profile: ProfileSummary | null = null;
    if (options.profile) {
      await stopForProfile(room[0] as CrowdPeer);
      profile = await mainThreadProfile(profileDir, { fromUs, toUs });
      room.shift();
    }

    const spawnedAt = performance.now();
    const newcomer = await start(n, net.hosts[n] as NetnsHost);
    const readyAt = performance.now();
    const newPeerListedSeconds = await waitUntilListed(room, [newcomer], readyAt, options.timeoutMs, `N=${n} new peer listed by all`);
    const newPeerListedSinceSpawnSeconds = (performance.now() - spawnedAt) / 1000;
    const newPeerListsAllSeconds = await waitUntilListed([newcomer], room, readyAt, options.timeoutMs, `N=${n} new peer lists all`);
    return {
      peers: n,
      convergeSeconds,
      convergeSinceFirstStartSeconds,
      idleCpuPercent: cpu1.map((end, index) => (100 * (end - (cpu0[index] as number))) / window),
      txBytesPerSecond: tx1.map((end, index) => (end - (tx0[index] as number)) / window),
      rssMb,
      rates: medianRates(counters0, counters1),
      machineBusyPercent: busy,
      idleWindowSeconds: window,
      lostPairs,
      newPeerListedSeconds,
      newPeerListedSinceSpawnSeconds,
      newPeerListsAllSeconds,
      profile,
    };
  } finally {
    for (const peer of started) await peer.stop();
    await net.teardown();
    await rm(dir, { recursive: true, force: true });
  }
}
