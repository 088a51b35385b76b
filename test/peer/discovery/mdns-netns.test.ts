import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerInfo } from '../../../src/shared/model';
import { createNetns, netnsSupport, type NetnsHarness, type NetnsHost } from '../../support/netns';

/**
 * Three hosts (network namespaces on one bridge), one discovery process each, real multicast
 * on the standard mDNS port, no loopback: what a LAN party looks like to MdnsDiscovery.
 */

interface PeerEvent {
  event: string;
  peer?: PeerInfo;
  peerId?: string;
  interfaces?: string[];
}

interface PeerProcess {
  id: string;
  address: string;
  port: number;
  dataPort: number;
  child: ChildProcess;
  events: PeerEvent[];
  stderr: string[];
}

async function waitFor(what: string, condition: () => boolean, describeState: () => string, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${describeState()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts discovery-peer.ts inside `host` and collects its JSON lines. */
function startPeer(net: NetnsHarness, host: NetnsHost, index: number): PeerProcess {
  const id = 'abcdef'.charAt(index).repeat(64);
  const port = 7100 + index;
  const dataPort = 7200 + index;
  const args = ['--import', 'tsx', 'test/support/discovery-peer.ts', '--id', id, '--name', `host-${index}`, '--port', String(port), '--dport', String(dataPort), '--requery-ms', '500'];
  const child = net.run(host.ns, process.execPath, args, { cwd: process.cwd() });
  const peer: PeerProcess = { id, address: host.address, port, dataPort, child, events: [], stderr: [] };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      peer.events.push(JSON.parse(line) as PeerEvent);
    } catch {
      peer.stderr.push(`stdout: ${line}\n`);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => peer.stderr.push(chunk.toString()));
  return peer;
}

const describeState = (peers: PeerProcess[]) => () =>
  peers.map((peer) => `${peer.id.slice(0, 4)}: ${JSON.stringify(peer.events)} ${peer.stderr.join('').slice(-2000)}`).join('\n');
const saw = (observer: PeerProcess, target: PeerProcess) => observer.events.some((line) => line.event === 'peer-discovered' && line.peer?.peerId === target.id);
const hostsSeen = (observer: PeerProcess, target: PeerProcess) =>
  observer.events.filter((line) => line.event === 'peer-discovered' && line.peer?.peerId === target.id).map((line) => line.peer?.host);
const isReady = (peer: PeerProcess) => peer.events.some((line) => line.event === 'ready');

const support = netnsSupport();
if (!support.ok) console.warn(`[skip] mdns-netns: ${support.reason}`);

describe.skipIf(!support.ok)('MdnsDiscovery between network namespaces', () => {
  let net: NetnsHarness | null = null;
  const peers: PeerProcess[] = [];
  const state = describeState(peers);

  beforeAll(() => {
    net = createNetns({ count: 3 });
    net.hosts.forEach((host, index) => peers.push(startPeer(net!, host, index)));
  });

  afterAll(async () => {
    await net?.teardown();
  });

  it('each peer finds the other two at their namespace address, then hears a stopped peer leave', async () => {
    expect(net!.hosts.map((host) => host.address)).toEqual(['10.77.1.1', '10.77.1.2', '10.77.1.3']);
    await waitFor('every peer to be ready', () => peers.every(isReady), state);
    for (const peer of peers) {
      // Real multicast only: the harness gives each namespace eth0 and lo, and lo is left out.
      expect(peer.events.find((line) => line.event === 'ready')?.interfaces).toEqual([`eth0/${peer.address}`]);
    }

    await waitFor('every peer to see the other two', () => peers.every((observer) => peers.every((target) => target === observer || saw(observer, target))), state);
    for (const observer of peers) {
      const seen = observer.events.filter((line) => line.event === 'peer-discovered').map((line) => line.peer);
      expect(seen.some((peer) => peer?.peerId === observer.id)).toBe(false);
      for (const target of peers.filter((candidate) => candidate !== observer)) {
        expect(seen.find((peer) => peer?.peerId === target.id)).toEqual({
          peerId: target.id,
          name: `host-${peers.indexOf(target)}`,
          protocolVersion: 1,
          host: target.address,
          port: target.port,
          dataPort: target.dataPort,
          source: 'mdns',
        });
      }
    }

    const [first, second, leaving] = peers as [PeerProcess, PeerProcess, PeerProcess];
    const exited = new Promise<number | null>((resolve) => leaving.child.once('exit', (code) => resolve(code)));
    leaving.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(leaving.events.at(-1)?.event).toBe('stopped');
    const heardGoodbye = (peer: PeerProcess) => peer.events.some((line) => line.event === 'peer-goodbye' && line.peerId === leaving.id);
    await waitFor('the others to hear the goodbye', () => heardGoodbye(first) && heardGoodbye(second), state);
    // The two that stayed did not say goodbye to each other.
    expect(first.events.some((line) => line.event === 'peer-goodbye' && line.peerId === second.id)).toBe(false);
    expect(second.events.some((line) => line.event === 'peer-goodbye' && line.peerId === first.id)).toBe(false);
  });
});

describe.skipIf(!support.ok)('MdnsDiscovery on a multi-homed host', () => {
  let net: NetnsHarness | null = null;
  const peers: PeerProcess[] = [];
  const state = describeState(peers);

  beforeAll(() => {
    // a and c are on different networks that only b (eth0 on the first, eth1 on the second) joins.
    net = createNetns({ count: 3, subnet: 3, networks: [[0, 1], [1, 2]] });
    net.hosts.forEach((host, index) => peers.push(startPeer(net!, host, index)));
  });

  afterAll(async () => {
    await net?.teardown();
  });

  it('runs on both interfaces and reports each peer at the address of the network it is on', async () => {
    const [a, b, c] = peers as [PeerProcess, PeerProcess, PeerProcess];
    expect(net!.hosts.map((host) => host.links.map((link) => `${link.iface}/${link.address}`))).toEqual([
      ['eth0/10.77.3.1'],
      ['eth0/10.77.3.2', 'eth1/10.77.4.2'],
      ['eth0/10.77.4.3'],
    ]);
    await waitFor('every peer to be ready', () => peers.every(isReady), state);
    expect(b.events.find((line) => line.event === 'ready')?.interfaces).toEqual(['eth0/10.77.3.2', 'eth1/10.77.4.2']);

    await waitFor('b to see a and c, and both to see b', () => saw(b, a) && saw(b, c) && saw(a, b) && saw(c, b), state);
    // b's answers carry A records for both of its addresses; each side must use the one it can reach.
    expect(hostsSeen(a, b)).toEqual(['10.77.3.2']);
    expect(hostsSeen(c, b)).toEqual(['10.77.4.2']);
    expect(hostsSeen(b, a)).toEqual(['10.77.3.1']);
    expect(hostsSeen(b, c)).toEqual(['10.77.4.3']);
    // b answers queries but relays nothing: a and c cannot reach each other, so must not be told.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(saw(a, c)).toBe(false);
    expect(saw(c, a)).toBe(false);
  });
});
