import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadOrCreateIdentity } from '../../src/main/peer/identity/identity';
import { chunkSizeFor } from '../../src/main/peer/library/manifest';
import type { NetnsHarness, NetnsHost } from '../../test/support/netns';
import { busyPercent, machineCpuSample, netDevCounters, type CpuTimes } from '../../test/support/procfs';
import { countLinkPackets, type CrowdRun } from './crowd-run';
import type { FloorPeerConfig } from './tls-floor-peer';

const PORT = 7555;
const PEER_SCRIPT = path.resolve('bench/support/tls-floor-peer.ts');

export interface FloorCrowdOptions {
  net: NetnsHarness;
  seedHost: NetnsHost;
  playerHosts: NetnsHost[];
  /** The file the seed spreads (its size is the game's). */
  file: string;
  size: number;
  /** Scratch folder of this run. */
  dir: string;
  timeoutMs: number;
}

/**
 * The swarm's CPU floor in the same namespaces: Node peers that spread the game over TLS 1.3
 * by a fixed perfect plan (tls-floor-peer.ts), hashing and writing every chunk and doing
 * nothing else. Its CPU seconds are about the least a room of Node peers can spend on these
 * bytes with the TLS and SHA-256, whatever their scheduling: what Lanspread spends
 * beyond it is ours to cut, what it spends itself against BitTorrent's is the runtime's.
 */
export async function runTlsFloorCrowd(options: FloorCrowdOptions): Promise<CrowdRun> {
  const { net, seedHost, playerHosts, dir } = options;
  await mkdir(dir, { recursive: true });
  const identity = await loadOrCreateIdentity(path.join(dir, 'identity'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  await writeFile(keyFile, identity.keyPem);
  await writeFile(certFile, identity.certPem);
  const players = playerHosts.map((host) => host.address);
  const base = { n: players.length, size: options.size, chunkBytes: chunkSizeFor(options.size), port: PORT, players, keyFile, certFile };
  const configs: Array<{ host: NetnsHost; config: FloorPeerConfig }> = [
    ...playerHosts.map((host, index) => ({ host, config: { ...base, role: 'player' as const, index, file: path.join(dir, `player-${index + 1}.bin`) } })),
    { host: seedHost, config: { ...base, role: 'seed', index: -1, file: options.file } },
  ];
  const children: ChildProcess[] = [];
  try {
    const peers = await Promise.all(
      configs.map(async ({ host, config }, order) => {
        const configFile = path.join(dir, `config-${order}.json`);
        await writeFile(configFile, JSON.stringify(config));
        const child = net.run(host.ns, process.execPath, ['--import', 'tsx', PEER_SCRIPT, configFile], { stdio: ['pipe', 'pipe', 'pipe'] });
        children.push(child);
        let output = '';
        let errors = '';
        child.stderr?.on('data', (data: Buffer) => (errors = `${errors}${data}`.slice(-2_000)));
        const ready = new Promise<void>((resolve, reject) => {
          child.stdout?.on('data', (data: Buffer) => {
            output += data.toString();
            if (output.includes('ready\n')) resolve();
          });
          child.once('exit', (code) => reject(new Error(`floor peer exited (${code}) before it was ready: ${errors.trim()}`)));
        });
        const done = new Promise<{ at: number } & CpuTimes>((resolve, reject) => {
          child.once('exit', (code) => {
            const line = /done (\{.*\})/.exec(output)?.[1];
            if (code === 0 && line) resolve({ at: performance.now(), ...(JSON.parse(line) as CpuTimes) });
            else reject(new Error(`floor peer exited (${code}): ${errors.trim()}`));
          });
        });
        done.catch(() => undefined);
        return { child, ready, done };
      }),
    );
    await Promise.all(peers.map((peer) => peer.ready));
    const seedTx0 = netDevCounters(seedHost.ns, seedHost.iface).tx;
    const linkPackets = countLinkPackets(playerHosts);
    const busy0 = machineCpuSample();
    const startedAt = performance.now();
    // Players first: they dial each other while the seed starts sending.
    for (const peer of peers) peer.child.stdin?.write('go\n');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the TLS floor crowd did not finish within ${options.timeoutMs / 1000} s`)), options.timeoutMs);
    });
    const results = await Promise.race([Promise.all(peers.map((peer) => peer.done)), timeout]).finally(() => clearTimeout(timer));
    const playerPackets = linkPackets();
    const busy = busyPercent(busy0, machineCpuSample());
    return {
      tool: 'tls-floor',
      seconds: results.slice(0, playerHosts.length).map((result) => (result.at - startedAt) / 1000),
      failures: [],
      cpuSeconds: results.reduce((sum, result) => sum + result.cpuSeconds, 0),
      systemCpuSeconds: results.reduce((sum, result) => sum + result.systemSeconds, 0),
      playerPackets,
      seedTxBytes: netDevCounters(seedHost.ns, seedHost.iface).tx - seedTx0,
      busyPercent: busy,
      wallSeconds: (Math.max(...results.map((result) => result.at)) - startedAt) / 1000,
    };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
