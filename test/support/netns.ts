/**
 * Several "hosts" on one machine: Linux network namespaces joined by a bridge that lives in its
 * own namespace, so nothing is added to (or can leak out of) the host's network. Addresses are
 * private (10.77.<subnet>.0/24) and exist only inside the namespaces.
 *
 *   ns "<prefix>a" eth0 10.77.k.1 ──veth── v0 ┐
 *   ns "<prefix>b" eth0 10.77.k.2 ──veth── v1 ├─ br0   (in ns "<prefix>br")
 *   ns "<prefix>c" eth0 10.77.k.3 ──veth── v2 ┘
 *
 * Needs root and iproute2. Namespace names carry the creating pid, so namespaces left by a
 * crashed run can be recognised and removed (cleanStaleNamespaces) without touching live runs.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

export const NETNS_NAME_PREFIX = 'lsn';
const NAME_PATTERN = new RegExp(`^${NETNS_NAME_PREFIX}(\\d+)x`);
const IP = 'ip';
const TC = 'tc';

export interface NetnsHost {
  /** Namespace name, for `run` and `ip netns exec`. */
  ns: string;
  /** IPv4 address of `eth0` inside the namespace. */
  address: string;
  iface: 'eth0';
  /** Bridge-side end of this host's veth pair (in the bridge namespace). */
  bridgePort: string;
}

export interface RateLimit {
  /** e.g. '20mbit'. Upload of the host (egress of its eth0). */
  egress?: string;
  /** Download of the host, shaped on the bridge-side veth (whose egress is this host's ingress). */
  ingress?: string;
  /** tbf burst, default '64kb'. */
  burst?: string;
}

export interface NetnsHarness {
  hosts: NetnsHost[];
  bridgeNs: string;
  subnet: string;
  /** Spawns `cmd args` inside the namespace; the child is killed by teardown if still running. */
  run(ns: string, cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Token-bucket rate shaping (this kernel has tbf but no netem). */
  shape(ns: string, limit: RateLimit): void;
  /** Kills children and deletes every namespace (and so every veth and the bridge). Idempotent. */
  teardown(): Promise<void>;
}

export interface NetnsOptions {
  count: number;
  /** Third octet of 10.77.<subnet>.0/24; only matters for readability, namespaces are isolated. */
  subnet?: number;
  /** Adds `tbf` shaping per host index at creation. */
  rateLimits?: Record<number, RateLimit>;
}

function exec(cmd: string, args: readonly string[]): string {
  const result = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (result.error) throw new Error(`${cmd} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  return result.stdout;
}

function tryExec(cmd: string, args: readonly string[]): boolean {
  const result = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return !result.error && result.status === 0;
}

function listNamespaces(): string[] {
  try {
    return exec(IP, ['netns', 'list'])
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter((name) => name.length > 0);
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces left behind by runs whose process no longer exists. */
export function cleanStaleNamespaces(): string[] {
  const removed: string[] = [];
  for (const name of listNamespaces()) {
    const match = NAME_PATTERN.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    if (tryExec(IP, ['netns', 'del', name])) removed.push(name);
  }
  return removed;
}

let support: { ok: true } | { ok: false; reason: string } | null = null;

/** Whether namespaces can be made here; the reason is printed by skipping tests. */
export function netnsSupport(): { ok: true } | { ok: false; reason: string } {
  if (support) return support;
  support = probeSupport();
  return support;
}

function probeSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root' };
  const version = spawnSync(IP, ['-V'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) return { ok: false, reason: '`ip` (iproute2) is not installed' };
  const probe = `${NETNS_NAME_PREFIX}${process.pid}xprobe`;
  try {
    exec(IP, ['netns', 'add', probe]);
    exec(IP, ['-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
  } catch (error) {
    return { ok: false, reason: `cannot create a network namespace with a bridge: ${(error as Error).message}` };
  } finally {
    tryExec(IP, ['netns', 'del', probe]);
  }
  return { ok: true };
}

let harnessCount = 0;

/** Builds `count` hosts on one bridge. On any failure, whatever was built is removed again. */
export function createNetns(options: NetnsOptions): NetnsHarness {
  if (options.count < 1 || options.count > 26) throw new Error('count must be 1..26');
  cleanStaleNamespaces();
  const subnetOctet = options.subnet ?? 1;
  const base = `${NETNS_NAME_PREFIX}${process.pid}x${harnessCount++}`;
  const bridgeNs = `${base}br`;
  const created: string[] = [];
  const children = new Set<ChildProcess>();
  const hosts: NetnsHost[] = [];
  let tornDown = false;

  const shape = (ns: string, limit: RateLimit): void => {
    const host = hosts.find((candidate) => candidate.ns === ns);
    if (!host) throw new Error(`unknown namespace ${ns}`);
    const tbf = (rate: string) => ['tbf', 'rate', rate, 'burst', limit.burst ?? '64kb', 'latency', '400ms'];
    if (limit.egress) exec(IP, ['netns', 'exec', ns, TC, 'qdisc', 'replace', 'dev', host.iface, 'root', ...tbf(limit.egress)]);
    if (limit.ingress) exec(IP, ['netns', 'exec', bridgeNs, TC, 'qdisc', 'replace', 'dev', host.bridgePort, 'root', ...tbf(limit.ingress)]);
  };

  const teardown = async (): Promise<void> => {
    if (tornDown) return;
    tornDown = true;
    // A process still inside a namespace keeps it alive after `ip netns del`: kill them first.
    await Promise.all([...children].map((child) => killAndWait(child)));
    for (const name of created.reverse()) tryExec(IP, ['netns', 'del', name]);
  };

  try {
    exec(IP, ['netns', 'add', bridgeNs]);
    created.push(bridgeNs);
    exec(IP, ['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    // Without an IGMP querier, snooping could stop flooding group traffic; mDNS must reach all.
    exec(IP, ['-n', bridgeNs, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    exec(IP, ['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    for (let index = 0; index < options.count; index++) {
      const ns = `${base}${String.fromCharCode(97 + index)}`;
      const bridgePort = `v${index}`;
      const address = `10.77.${subnetOctet}.${index + 1}`;
      exec(IP, ['netns', 'add', ns]);
      created.push(ns);
      // Both ends are created inside namespaces: the host's own network never sees them.
      exec(IP, ['-n', bridgeNs, 'link', 'add', bridgePort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      exec(IP, ['-n', bridgeNs, 'link', 'set', bridgePort, 'master', 'br0']);
      exec(IP, ['-n', bridgeNs, 'link', 'set', bridgePort, 'up']);
      exec(IP, ['-n', ns, 'link', 'set', 'lo', 'up']);
      exec(IP, ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      exec(IP, ['-n', ns, 'link', 'set', 'eth0', 'multicast', 'on']);
      exec(IP, ['-n', ns, 'link', 'set', 'eth0', 'up']);
      exec(IP, ['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
      hosts.push({ ns, address, iface: 'eth0', bridgePort });
    }
    for (const [index, limit] of Object.entries(options.rateLimits ?? {})) {
      const host = hosts[Number(index)];
      if (host) shape(host.ns, limit);
    }
  } catch (error) {
    for (const name of created.reverse()) tryExec(IP, ['netns', 'del', name]);
    throw error;
  }

  return {
    hosts,
    bridgeNs,
    subnet: `10.77.${subnetOctet}.0/24`,
    run(ns, cmd, args, spawnOptions = {}) {
      if (tornDown) throw new Error('netns harness already torn down');
      // `ip netns exec` execs the command, so signals sent to the child reach it directly.
      const child = spawn(IP, ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    shape,
    teardown,
  };
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
