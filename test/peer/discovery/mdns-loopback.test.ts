import { createSocket } from 'node:dgram';
import type { NetworkInterfaceInfo } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerId, PeerInfo } from '../../../src/shared/model';
import { InterfaceResponder } from '../../../src/main/peer/discovery/interface-responder';
import { MdnsDiscovery, type MdnsDiscoveryOptions } from '../../../src/main/peer/discovery/mdns-discovery';
import type { InterfaceTable } from '../../../src/main/peer/discovery/usable-interfaces';
import { silentLogger } from '../../../src/main/peer/util/logger';

/**
 * Real multicast on 127.0.0.1 only (injected interface table), on a private mDNS port so these
 * tests neither hear nor disturb other mDNS users of this machine.
 */

const LOOPBACK: InterfaceTable = {
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' } as NetworkInterfaceInfo],
};
const idOf = (hexDigit: string): PeerId => hexDigit.repeat(64);

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Probe {
  discovery: MdnsDiscovery;
  discovered: PeerInfo[];
  goodbyes: PeerId[];
}

const started: MdnsDiscovery[] = [];
const responders: InterfaceResponder[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((discovery) => discovery.stop()));
  await Promise.all(responders.splice(0).map((responder) => responder.stop()));
});

function makePeer(hexDigit: string, mdnsPort: number, extra: Partial<MdnsDiscoveryOptions> = {}): Probe {
  const discovery = new MdnsDiscovery({
    peerId: idOf(hexDigit),
    name: `peer ${hexDigit}`,
    protocolVersion: 1,
    port: 7000 + hexDigit.charCodeAt(0),
    includeLoopback: true,
    networkInterfaces: () => LOOPBACK,
    mdnsPort,
    requeryIntervalMs: 200,
    interfaceCheckIntervalMs: 100,
    logger: silentLogger,
    ...extra,
  });
  started.push(discovery);
  const probe: Probe = { discovery, discovered: [], goodbyes: [] };
  discovery.on('peer-discovered', (peer) => probe.discovered.push(peer));
  discovery.on('peer-goodbye', (peerId) => probe.goodbyes.push(peerId));
  return probe;
}

const sawPeer = (probe: Probe, peerId: PeerId) => probe.discovered.some((peer) => peer.peerId === peerId);

describe('MdnsDiscovery on loopback', () => {
  it('hears the heartbeat of a peer over and over without any query, with the revision it serves', async () => {
    const mdnsPort = await freeUdpPort();
    // No requery after start: what keeps arriving is the heartbeat.
    const a = makePeer('a', mdnsPort, { heartbeatIntervalMs: 100, heartbeatRequeries: 0 });
    const b = makePeer('b', mdnsPort, { heartbeatIntervalMs: 100, heartbeatRequeries: 0, libraryRevision: 41 });
    const heard: { peerId: PeerId; libraryRevision?: number }[] = [];
    a.discovery.on('peer-heard', ({ peer, libraryRevision }) => heard.push({ peerId: peer.peerId, ...(libraryRevision === undefined ? {} : { libraryRevision }) }));
    await Promise.all([a.discovery.start(), b.discovery.start()]);
    await waitFor('five beats of b', () => heard.filter((beat) => beat.peerId === idOf('b')).length >= 5);
    expect(heard.every((beat) => beat.peerId === idOf('b') && beat.libraryRevision === 41)).toBe(true);
    // Heartbeats do not re-report a known, unchanged peer as discovered.
    expect(a.discovered.filter((peer) => peer.peerId === idOf('b'))).toHaveLength(1);

    b.discovery.setAdvertisement({ libraryRevision: 42 });
    await waitFor('the new revision', () => heard.some((beat) => beat.libraryRevision === 42));
  });

  it('beats less often while a LAN of peers would send more beats than its budget, and speeds up again when they leave', async () => {
    const mdnsPort = await freeUdpPort();
    // Budget 4 beats a second, base 200 ms: four peers heard slow down to 1.6 s (4 / 1.6 ≤ 4);
    // with two gone, 0.8 s fits with room to spare (2 / 0.8 ≤ 0.75 × 4), 0.4 s would not.
    const options = { heartbeatIntervalMs: 200, heartbeatBudgetPerSecond: 4, heartbeatRequeries: 0 };
    const a = makePeer('a', mdnsPort, options);
    const b = makePeer('b', mdnsPort, options);
    const c = makePeer('c', mdnsPort, options);
    const d = makePeer('d', mdnsPort, options);
    const intervalsOfA: number[] = [];
    b.discovery.on('peer-heard', ({ peer, heartbeatMs }) => peer.peerId === idOf('a') && heartbeatMs !== undefined && intervalsOfA.push(heartbeatMs));
    await Promise.all([a, b, c, d].map((peer) => peer.discovery.start()));
    await waitFor('a to announce 1.6 s beats', () => intervalsOfA.at(-1) === 1_600);
    expect(Math.max(...intervalsOfA)).toBe(1_600);

    await Promise.all([c.discovery.stop(), d.discovery.stop()]);
    await waitFor('a to speed up with c and d gone', () => intervalsOfA.at(-1) === 800, 30_000);
  });

  it('two peers find each other at the source address, ignore themselves, and hear the goodbye', async () => {
    const mdnsPort = await freeUdpPort();
    const a = makePeer('a', mdnsPort);
    const b = makePeer('b', mdnsPort, { dataPort: 9001 });
    await Promise.all([a.discovery.start(), b.discovery.start()]);
    expect(a.discovery.activeInterfaces()).toEqual(['lo/127.0.0.1']);

    await waitFor('a and b to see each other', () => sawPeer(a, idOf('b')) && sawPeer(b, idOf('a')));
    expect(a.discovered[0]).toEqual({ peerId: idOf('b'), name: 'peer b', protocolVersion: 1, host: '127.0.0.1', port: 7000 + 98, dataPort: 9001, source: 'mdns' });
    expect(b.discovered[0]).toEqual({ peerId: idOf('a'), name: 'peer a', protocolVersion: 1, host: '127.0.0.1', port: 7000 + 97, source: 'mdns' });
    expect(a.discovered.some((peer) => peer.peerId === idOf('a'))).toBe(false);

    await b.discovery.stop();
    await waitFor('a to hear b say goodbye', () => a.goodbyes.includes(idOf('b')));
    expect(a.discovery.knownPeers()).toEqual([]);
  });

  it('finds a peer that joins later by re-querying, even when that peer never announces', async () => {
    const mdnsPort = await freeUdpPort();
    const a = makePeer('a', mdnsPort);
    await a.discovery.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const quiet = makePeer('c', mdnsPort, { announceDelaysMs: [] });
    await quiet.discovery.start();
    await waitFor('a to find the quiet peer', () => sawPeer(a, idOf('c')));
  });

  it('reports changed ports once, and reports a still-answering peer again after reemitAfterMs', async () => {
    const mdnsPort = await freeUdpPort();
    let clock = 1_000;
    const a = makePeer('a', mdnsPort, { now: () => clock, reemitAfterMs: 60_000 });
    const b = makePeer('b', mdnsPort);
    await Promise.all([a.discovery.start(), b.discovery.start()]);
    await waitFor('a to see b', () => sawPeer(a, idOf('b')));

    b.discovery.setAdvertisement({ dataPort: 9555 });
    await waitFor('a to see the new data port', () => a.discovered.some((peer) => peer.dataPort === 9555));
    const count = a.discovered.length;
    // Several re-query rounds with an unchanged peer must not produce more events...
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(a.discovered.length).toBe(count);
    // ...until the re-emit period has passed.
    clock += 60_000;
    await waitFor('a to report b again', () => a.discovered.length > count);
    expect(a.discovered.at(-1)).toMatchObject({ peerId: idOf('b'), dataPort: 9555 });

    a.discovery.forget(idOf('b'));
    const afterForget = a.discovered.length;
    await waitFor('a to rediscover b after forget', () => a.discovered.length > afterForget);
  });

  it('follows interfaces as they come and go', async () => {
    const mdnsPort = await freeUdpPort();
    let table: InterfaceTable = {};
    const a = makePeer('a', mdnsPort, { networkInterfaces: () => table });
    const b = makePeer('b', mdnsPort);
    await Promise.all([a.discovery.start(), b.discovery.start()]);
    expect(a.discovery.activeInterfaces()).toEqual([]);

    table = LOOPBACK;
    await waitFor('a to join loopback', () => a.discovery.activeInterfaces().length === 1);
    await waitFor('b to find a', () => sawPeer(b, idOf('a')));

    table = {};
    await waitFor('a to leave loopback', () => a.discovery.activeInterfaces().length === 0);
    await waitFor('b to hear a leave', () => b.goodbyes.includes(idOf('a')));
  });

  it('ignores hostile advertisements and keeps working', async () => {
    const mdnsPort = await freeUdpPort();
    const a = makePeer('a', mdnsPort);
    await a.discovery.start();
    const hostile = [
      { id: 'not-an-id', pv: '1', port: '7000', name: 'x' },
      { id: idOf('d'), pv: '1', port: '99999', name: 'x' },
      { id: idOf('e'), pv: 'one', port: '7000', name: 'x' },
      { id: idOf('f'), pv: '1', port: '7000', name: 'x'.repeat(200) },
    ];
    hostile.forEach((txt, index) => {
      const responder = new InterfaceResponder({
        address: '127.0.0.1',
        mdnsPort,
        instanceName: `hostile-${index}`,
        initial: { port: 7000, txt },
        announceDelaysMs: [0, 100],
        goodbyeTimeoutMs: 500,
        onResponse: () => undefined,
        logger: silentLogger,
      });
      responders.push(responder);
    });
    await Promise.all(responders.map((responder) => responder.start()));
    // A valid peer started after the hostile ones proves their packets were processed by then.
    const b = makePeer('b', mdnsPort);
    await b.discovery.start();
    await waitFor('a to see the valid peer', () => sawPeer(a, idOf('b')));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(a.discovered.map((peer) => peer.peerId)).toEqual([idOf('b')]);
  });

  it('survives a listener that throws: the error is logged, not an uncaught exception', async () => {
    const mdnsPort = await freeUdpPort();
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (message: string) => errors.push(message) };
    const a = makePeer('a', mdnsPort, { logger });
    a.discovery.on('peer-discovered', () => {
      throw new Error('listener bug');
    });
    await a.discovery.start();
    await makePeer('b', mdnsPort).discovery.start();
    await waitFor('a to see b', () => sawPeer(a, idOf('b')));
    await waitFor('the listener error to be logged', () => errors.length > 0);
    // Still working: a peer that arrives after the failure is found too.
    await makePeer('c', mdnsPort).discovery.start();
    await waitFor('a to see c', () => sawPeer(a, idOf('c')));
  });

  it('start and stop are idempotent and stop releases every socket and timer', async () => {
    const mdnsPort = await freeUdpPort();
    const count = (kind: string) => process.getActiveResourcesInfo().filter((resource) => resource === kind).length;
    // The probe socket of freeUdpPort leaves Node's handle list one loop turn after closing.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = { udp: count('UDPWrap'), timers: count('Timeout') };
    const a = makePeer('a', mdnsPort);
    await Promise.all([a.discovery.start(), a.discovery.start()]);
    await a.discovery.start();
    expect(count('UDPWrap')).toBe(before.udp + 1);
    await Promise.all([a.discovery.stop(), a.discovery.stop()]);
    await a.discovery.stop();
    // Closed handles leave Node's list on the next turn of the event loop.
    await waitFor('sockets and timers to be released', () => count('UDPWrap') === before.udp && count('Timeout') <= before.timers, 5_000);

    // Restartable after stop.
    const b = makePeer('b', mdnsPort);
    await b.discovery.start();
    await a.discovery.start();
    await waitFor('restarted a to see b', () => sawPeer(a, idOf('b')));
  });
});
