import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cleanStaleNamespaces, createNetns, NETNS_NAME_PREFIX, netnsSupport } from '../../support/netns';

const support = netnsSupport();
if (!support.ok) console.warn(`[skip] netns-harness: ${support.reason}`);

const namespaces = () =>
  spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);

function output(child: ReturnType<ReturnType<typeof createNetns>['run']>): Promise<{ code: number | null; stdout: string }> {
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout })));
}

describe.skipIf(!support.ok)('netns test harness', () => {
  it('builds isolated hosts that reach each other, shapes them, and tears everything down', async () => {
    const net = createNetns({ count: 2, subnet: 9, rateLimits: { 0: { egress: '20mbit', ingress: '10mbit' } } });
    const created = [net.bridgeNs, ...net.hosts.map((host) => host.ns)];
    try {
      expect(namespaces()).toEqual(expect.arrayContaining(created));
      const [a, b] = net.hosts as [(typeof net.hosts)[0], (typeof net.hosts)[0]];
      expect([a.address, b.address]).toEqual(['10.77.9.1', '10.77.9.2']);

      // A TCP round trip from a to b proves the bridge forwards; node is the only client we have.
      const server = net.run(b.ns, process.execPath, ['-e', `require('net').createServer((s) => { s.end('pong'); process.exit(0); }).listen(7777, '${b.address}', () => console.log('up'))`]);
      const served = output(server);
      await new Promise<void>((resolve) => server.stdout?.once('data', () => resolve()));
      const client = output(net.run(a.ns, process.execPath, ['-e', `require('net').connect(7777, '${b.address}').on('data', (d) => process.stdout.write(d))`]));
      expect((await client).stdout).toBe('pong');
      expect((await served).code).toBe(0);

      // The private addresses exist only inside the namespaces, never on the host's own interfaces.
      const hostAddresses = spawnSync('ip', ['-br', 'addr'], { encoding: 'utf8' }).stdout;
      expect(hostAddresses).not.toContain('10.77.');

      const egress = spawnSync('ip', ['netns', 'exec', a.ns, 'tc', 'qdisc', 'show', 'dev', 'eth0'], { encoding: 'utf8' }).stdout;
      const ingress = spawnSync('ip', ['netns', 'exec', net.bridgeNs, 'tc', 'qdisc', 'show', 'dev', a.bridgePort], { encoding: 'utf8' }).stdout;
      expect(egress).toMatch(/tbf .*rate 20Mbit/);
      expect(ingress).toMatch(/tbf .*rate 10Mbit/);
    } finally {
      await net.teardown();
      await net.teardown();
    }
    const left = namespaces();
    for (const name of created) expect(left).not.toContain(name);
  });

  it('kills children still running at teardown', async () => {
    const net = createNetns({ count: 1 });
    const child = net.run(net.hosts[0]!.ns, process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)']);
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await net.teardown();
    expect(await exited).toBe('SIGKILL');
    expect(namespaces()).not.toContain(net.hosts[0]!.ns);
  });

  it('removes namespaces left by dead runs, and only those', () => {
    // Pid 2^22 + 1 is above Linux's pid_max limit, so it can never be alive.
    const stale = `${NETNS_NAME_PREFIX}${2 ** 22 + 1}x0a`;
    const live = `${NETNS_NAME_PREFIX}${process.ppid}x0a`;
    spawnSync('ip', ['netns', 'add', stale]);
    spawnSync('ip', ['netns', 'add', live]);
    try {
      expect(cleanStaleNamespaces()).toContain(stale);
      const left = namespaces();
      expect(left).not.toContain(stale);
      expect(left).toContain(live);
    } finally {
      spawnSync('ip', ['netns', 'del', stale]);
      spawnSync('ip', ['netns', 'del', live]);
    }
  });
});

describe('netns harness options', () => {
  it.each([
    ['a host on no network', { count: 3, networks: [[0, 1]] }, /host 2 is on no network/],
    ['a network naming a missing host', { count: 2, networks: [[0, 1, 2]] }, /outside 0\.\.1/],
    ['no networks', { count: 1, networks: [] }, /1\.\.8 networks/],
    ['too many hosts', { count: 65 }, /count must be 1\.\.64/],
  ])('refuses %s before creating anything', (_label, options, message) => {
    expect(() => createNetns(options)).toThrow(message);
  });
});
