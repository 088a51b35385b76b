/**
 * A room of real `lanspread-peer serve` processes, one per network namespace: host 0 is the
 * seed (it shares `seedGameDir`), every other host a player with an empty game folder. They
 * find each other by mDNS as in production; the harness drives each through its control socket
 * (a file in its state directory, so the host namespace reaches every one of them).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ControlSocketClient, controlSocketPath } from '../../src/main/peer/launcher/control-socket';
import type { NetnsHarness, NetnsHost } from './netns';
import { killCliPeers, spawnCliPeer, type CliPeer, type SpawnCliOptions } from './runtime-harness';

export interface CrowdPeer {
  name: string;
  host: NetnsHost;
  gameDir: string;
  stateDir: string;
  cli: CliPeer;
  client: ControlSocketClient;
  /** Closes the control socket and kills the process. Idempotent. */
  stop(): Promise<void>;
}

export interface Crowd {
  seed: CrowdPeer;
  downloaders: CrowdPeer[];
  /** Seed first, then the downloaders. */
  all: CrowdPeer[];
  /** Closes the control sockets and kills every peer process. Idempotent. */
  stop(): Promise<void>;
}

export interface DownloadOutcome {
  name: string;
  /** From the common start to this peer's game-download-finished; null when it failed. */
  seconds: number | null;
  error: string | null;
}

/** One `lanspread-peer serve` in `host`'s namespace, with its control socket connected. */
export async function startCrowdPeer(host: NetnsHost, name: string, gameDir: string, stateDir: string, options: Omit<SpawnCliOptions, 'wrap'> & { serveArgs?: string[] } = {}): Promise<CrowdPeer> {
  await mkdir(gameDir, { recursive: true });
  const { serveArgs = [], ...spawnOptions } = options;
  const cli = await spawnCliPeer(['serve', '--game-dir', gameDir, '--state-dir', stateDir, '--name', name, '--log-level', 'warn', ...serveArgs], { ...spawnOptions, wrap: ['ip', 'netns', 'exec', host.ns] });
  let client: ControlSocketClient;
  try {
    client = await ControlSocketClient.connect(controlSocketPath(stateDir));
  } catch (error) {
    await killCliPeers([cli]);
    throw error;
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    client.close();
    await killCliPeers([cli]);
  };
  return { name, host, gameDir, stateDir, cli, client, stop };
}

/**
 * Starts the seed on host 0 and a player on every other host of `net`. Peers start one after
 * another: thirteen tsx start-ups at once on two cores can outlast the start-up timeout.
 */
export async function startCrowd(net: NetnsHarness, dir: string, seedGameDir: string): Promise<Crowd> {
  const peers: CrowdPeer[] = [];
  const stop = async () => {
    for (const peer of peers.splice(0)) await peer.stop();
  };
  try {
    for (const [index, host] of net.hosts.entries()) {
      const name = index === 0 ? 'seed' : `player-${index}`;
      peers.push(await startCrowdPeer(host, name, index === 0 ? seedGameDir : path.join(dir, name, 'games'), path.join(dir, name, 'state')));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const [seed, ...downloaders] = peers as [CrowdPeer, ...CrowdPeer[]];
  return { seed, downloaders, all: [...peers], stop };
}

/** Waits until every downloader lists `gameId` with `seed` among its sources; returns the seconds it took. */
export async function waitUntilSeeSeed(downloaders: CrowdPeer[], seed: CrowdPeer, gameId: string, timeoutMs: number): Promise<number> {
  const start = performance.now();
  const pending = new Set(downloaders);
  while (pending.size > 0) {
    for (const peer of [...pending]) {
      const games = await peer.client.invoke('request_games');
      if (games.find((game) => game.id === gameId)?.sourcePeers.includes(seed.cli.peerId)) pending.delete(peer);
    }
    if (pending.size === 0) break;
    if (performance.now() - start > timeoutMs) {
      throw new Error(`mDNS: after ${timeoutMs / 1000} s, ${[...pending].map((p) => p.name).join(', ')} still did not list ${gameId} from the seed`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return (performance.now() - start) / 1000;
}

/**
 * Sends download_game (download only, as a BitTorrent client does: no unpacking) to every
 * downloader in the same tick and waits until each has either finished its download
 * (game-download-finished) or failed (a failed download is not retried). Throws, naming who is
 * still downloading, when `timeoutMs` passes first. `onSettled` runs the moment a peer settles.
 */
export async function downloadAtOnce(downloaders: CrowdPeer[], gameId: string, timeoutMs: number, onSettled?: (peer: CrowdPeer) => void): Promise<DownloadOutcome[]> {
  const start = performance.now();
  const outcomes = new Map<CrowdPeer, DownloadOutcome>();
  const unsubscribe: (() => void)[] = [];
  let wake = () => {};
  const settle = (peer: CrowdPeer, error: string | null) => {
    if (outcomes.has(peer)) return;
    outcomes.set(peer, { name: peer.name, seconds: error === null ? (performance.now() - start) / 1000 : null, error });
    onSettled?.(peer);
    wake();
  };
  for (const peer of downloaders) {
    unsubscribe.push(peer.client.on('game-download-finished', (p) => p.gameId === gameId && settle(peer, null)));
    unsubscribe.push(peer.client.on('game-download-failed', (p) => p.gameId === gameId && settle(peer, `${p.error.code}: ${p.error.message}`)));
    void peer.cli.exited.then((code) => settle(peer, `peer process exited (${code})`));
  }
  try {
    for (const peer of downloaders) {
      // A rejection before any download event is a failed start.
      peer.client.invoke('download_game', { gameId }).catch((error: Error) => settle(peer, error.message));
    }
    const deadline = start + timeoutMs;
    while (outcomes.size < downloaders.length) {
      const left = deadline - performance.now();
      if (left <= 0) {
        const running = downloaders.filter((peer) => !outcomes.has(peer)).map((peer) => peer.name);
        throw new Error(`flash crowd hung: after ${timeoutMs / 1000} s ${running.length} of ${downloaders.length} downloads still running (${running.join(', ')})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    for (const off of unsubscribe) off();
  }
  return downloaders.map((peer) => outcomes.get(peer) as DownloadOutcome);
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** SHA-256 of every archive (`*.rar`) in a game root, by file name. */
export async function archiveHashes(gameRoot: string): Promise<Map<string, string>> {
  const names = (await readdir(gameRoot)).filter((name) => name.endsWith('.rar')).sort();
  return new Map(await Promise.all(names.map(async (name) => [name, await sha256OfFile(path.join(gameRoot, name))] as const)));
}

/** What differs between the seed's archives and a copy's (missing or other bytes); empty when identical. */
export async function archiveDifferences(expected: Map<string, string>, copyRoot: string): Promise<string[]> {
  const actual = await archiveHashes(copyRoot).catch(() => new Map<string, string>());
  const problems: string[] = [];
  for (const [name, hash] of expected) {
    if (!actual.has(name)) problems.push(`${name} missing`);
    else if (actual.get(name) !== hash) problems.push(`${name} has other bytes`);
  }
  return problems;
}
