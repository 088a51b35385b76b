/**
 * Several "hosts" on one machine: Linux network namespaces joined by a bridge that lives in its
 * own namespace, so nothing is added to (or can leak out of) the host's network. Addresses are
 * private (10.77.<subnet>.0/24) and exist only inside the namespaces.
 *
 *   ns "<prefix>a" eth0 10.77.k.1 ──veth── v0 ┐
 *   ns "<prefix>b" eth0 10.77.k.2 ──veth── v1 ├─ br0   (in ns "<prefix>br")
 *   ns "<prefix>c" eth0 10.77.k.3 ──veth── v2 ┘
 *
 * With `networks`, there is one bridge per network (br0, br1, ...; subnet k, k+1, ...) and a host
 * on several networks gets eth0, eth1, ... in the order of the networks it is on (multi-homed).
 *
 * Needs root and iproute2. Namespace names carry the creating pid, so namespaces left by a
 * crashed run can be recognised and removed (cleanStaleNamespaces) without touching live runs.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { threadId } from 'node:worker_threads';

export const NETNS_NAME_PREFIX = 'lsn';
const NAME_PATTERN = new RegExp(`^${NETNS_NAME_PREFIX}(\\d+)x`);
const IP = 'ip';
const TC = 'tc';

export interface NetnsLink {
  /** Interface inside the host's namespace: eth0, eth1, ... */
  iface: string;
  /** IPv4 address of `iface` (10.77.<subnet + network>.<host index + 1>). */
  address: string;
  /** Bridge-side end of this veth pair (in the bridge namespace). */
  bridgePort: string;
  /** Index into `networks` (0 when there is only the one bridge). */
  network: number;
}

export interface NetnsHost {
  /** Namespace name, for `run` and `ip netns exec`. */
  ns: string;
  /** Address, interface and bridge port of the host's first link (what `shape` acts on). */
  address: string;
  iface: string;
  bridgePort: string;
  /** Every link of the host, first one first. */
  links: NetnsLink[];
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
  /**
   * Which hosts (by index) share each network; default: one network with every host. Every
   * host must be on at least one network.
   */
  networks?: readonly (readonly number[])[];
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
  const probe = `${NETNS_NAME_PREFIX}${process.pid}xprobe${threadId}`;
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
const MAX_HOSTS = 64;

/** a, b, ... z for the first 26 hosts (the names tests have always used), then z26, z27, ... */
const hostSuffix = (index: number) => (index < 26 ? String.fromCharCode(97 + index) : `z${index}`);

/** Builds `count` hosts on one bridge (or `networks`). On failure, what was built is removed. */
export function createNetns(options: NetnsOptions): NetnsHarness {
  // Addresses are 10.77.k.(index + 1), bridge ports v<index>: both have room for far more hosts
  // than two cores can run peers for.
  if (options.count < 1 || options.count > MAX_HOSTS) throw new Error(`count must be 1..${MAX_HOSTS}`);
  const networks = options.networks ?? [Array.from({ length: options.count }, (_, index) => index)];
  if (networks.length < 1 || networks.length > 8) throw new Error('networks must list 1..8 networks');
  for (let index = 0; index < options.count; index++) {
    if (!networks.some((members) => members.includes(index))) throw new Error(`host ${index} is on no network`);
  }
  if (networks.some((members) => members.some((index) => !Number.isInteger(index) || index < 0 || index >= options.count))) {
    throw new Error(`networks name a host outside 0..${options.count - 1}`);
  }
  const subnetOctet = options.subnet ?? 1;
  if (!Number.isInteger(subnetOctet) || subnetOctet < 0 || subnetOctet + networks.length > 256) throw new Error('subnet + networks must stay within 10.77.0-255');
  cleanStaleNamespaces();
  // The thread id keeps names apart if vitest ever runs test files as threads of one process.
  const base = `${NETNS_NAME_PREFIX}${process.pid}x${threadId}n${harnessCount++}`;
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
    networks.forEach((_, network) => {
      const bridge = `br${network}`;
      exec(IP, ['-n', bridgeNs, 'link', 'add', bridge, 'type', 'bridge']);
      // Without an IGMP querier, snooping could stop flooding group traffic; mDNS must reach all.
      exec(IP, ['-n', bridgeNs, 'link', 'set', bridge, 'type', 'bridge', 'mcast_snooping', '0']);
      exec(IP, ['-n', bridgeNs, 'link', 'set', bridge, 'up']);
    });
    for (let index = 0; index < options.count; index++) {
      const ns = `${base}${hostSuffix(index)}`;
      exec(IP, ['netns', 'add', ns]);
      created.push(ns);
      exec(IP, ['-n', ns, 'link', 'set', 'lo', 'up']);
      const links: NetnsLink[] = [];
      networks.forEach((members, network) => {
        if (!members.includes(index)) return;
        const iface = `eth${links.length}`;
        const bridgePort = network === 0 ? `v${index}` : `v${index}n${network}`;
        const address = `10.77.${subnetOctet + network}.${index + 1}`;
        // Both ends are created inside namespaces: the host's own network never sees them.
        exec(IP, ['-n', bridgeNs, 'link', 'add', bridgePort, 'type', 'veth', 'peer', 'name', iface, 'netns', ns]);
        exec(IP, ['-n', bridgeNs, 'link', 'set', bridgePort, 'master', `br${network}`]);
        exec(IP, ['-n', bridgeNs, 'link', 'set', bridgePort, 'up']);
        exec(IP, ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', iface]);
        exec(IP, ['-n', ns, 'link', 'set', iface, 'multicast', 'on']);
        exec(IP, ['-n', ns, 'link', 'set', iface, 'up']);
        // One multicast route per namespace (a second one for the same prefix is refused); mDNS
        // sockets pick their interface explicitly, the route only serves programs that do not.
        if (links.length === 0) exec(IP, ['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', iface]);
        links.push({ iface, address, bridgePort, network });
      });
      const [first] = links as [NetnsLink];
      hosts.push({ ns, address: first.address, iface: first.iface, bridgePort: first.bridgePort, links });
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

/** SIGTERM, then SIGKILL after 3 s; resolves once the child has exited. */
export function killAndWait(child: ChildProcess): Promise<void> {
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
