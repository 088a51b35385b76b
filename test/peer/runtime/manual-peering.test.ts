import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { ownAddresses } from '../../../src/main/peer/discovery/own-addresses';
import { waitFor } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

/**
 * Manual peering without multicast (real runtimes on loopback, QUIC and the data lane): a
 * fixed port that falls back when taken and says so, this machine's own addresses, manual
 * peers that do not answer listed with the reason, and renames that reach peers while running.
 */
const IDS = ['demo-arena'];

async function holdUdpPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

describe('manual peering', () => {
  const peers = useTestPeers('manual-peering');

  it('binds another port when the asked one is taken and says which; without fallback it refuses with PORT_IN_USE', async () => {
    const held = await holdUdpPort();
    try {
      const peer = await peers.start('fallback', { catalogIds: IDS, port: held.port, portFallback: true });
      expect(peer.runtime.portTaken).toBe(held.port);
      expect(peer.runtime.port).not.toBe(held.port);
      expect(peer.runtime.port).toBeGreaterThan(0);
      expect(peer.runtime.ownAddresses()).toEqual([`127.0.0.1:${peer.runtime.port}`]);
      await expect(peers.start('strict', { catalogIds: IDS, port: held.port })).rejects.toMatchObject({ code: 'PORT_IN_USE' });
      const free = await peers.start('free', { catalogIds: IDS });
      expect(free.runtime.portTaken).toBeNull();
    } finally {
      await held.close();
    }
  });

  it('lists every network address of the machine with the port when bound to all of them', () => {
    const table = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '', cidr: null }],
      eth0: [
        { address: '192.168.1.5', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '', cidr: null },
        { address: 'fe80::1', family: 'IPv6', internal: false, netmask: 'ffff::', mac: '', cidr: null, scopeid: 2 },
      ],
      wlan0: [{ address: '10.0.0.7', family: 'IPv4', internal: false, netmask: '255.0.0.0', mac: '', cidr: null }],
    } as Parameters<typeof ownAddresses>[2];
    expect(ownAddresses('0.0.0.0', 7400, table)).toEqual(['10.0.0.7:7400', '192.168.1.5:7400']);
    expect(ownAddresses('0.0.0.0', 7400, { lo: table!.lo })).toEqual(['127.0.0.1:7400']);
    expect(ownAddresses('10.0.0.7', 7401, table)).toEqual(['10.0.0.7:7401']);
  });

  it('shows a manual peer that does not answer as unreachable with the reason, and as connected once it answers', async () => {
    const held = await holdUdpPort();
    await held.close();
    const alice = await peers.start('alice', { catalogIds: IDS });
    const bob = await peers.start('bob', { catalogIds: IDS, manualPeers: [`127.0.0.1:${held.port}`, `127.0.0.1:${alice.runtime.port}`] });
    await waitFor(() => bob.runtime.manualPeerStates().some((s) => s.state === 'unreachable'), 30_000, 'the dead address to be marked unreachable');
    const states = bob.runtime.manualPeerStates();
    const dead = states.find((s) => s.address === `127.0.0.1:${held.port}`)!;
    expect(dead.state).toBe('unreachable');
    expect(dead.reason).toMatch(/\[[A-Z_]+\]$/);
    await waitFor(() => bob.runtime.manualPeerStates().find((s) => s.address === `127.0.0.1:${alice.runtime.port}`)?.state === 'connected', 20_000, 'alice connected');
    expect(bob.runtime.manualPeerStates().find((s) => s.state === 'connected')?.peerId).toBe(alice.runtime.peerId);
    // Its own address as a manual peer is named as such.
    bob.runtime.setManualPeers([`127.0.0.1:${bob.runtime.port}`]);
    await waitFor(() => bob.runtime.manualPeerStates()[0]?.state === 'unreachable', 20_000, 'own address marked');
    expect(bob.runtime.manualPeerStates()[0]?.reason).toBe('this is the address of this launcher itself');
  });

  it('a new display name reaches a peer that added it by hand, and one that it added, while both run', async () => {
    const alice = await peers.start('alice', { catalogIds: IDS });
    const bob = await peers.start('bob', { catalogIds: IDS, manualPeers: [`127.0.0.1:${alice.runtime.port}`] });
    const nameOf = (viewer: typeof alice, peerId: string) => viewer.runtime.peers().find((r) => r.info.peerId === peerId)?.info.name;
    await waitFor(() => nameOf(bob, alice.runtime.peerId) === 'alice' && nameOf(alice, bob.runtime.peerId) === 'bob', 20_000, 'both connected');
    alice.runtime.setDisplayName('Alice at table 3');
    expect(alice.runtime.displayName).toBe('Alice at table 3');
    await waitFor(() => nameOf(bob, alice.runtime.peerId) === 'Alice at table 3', 20_000, 'bob to see alice\'s new name');
    bob.runtime.setDisplayName('Bob (organiser)');
    await waitFor(() => nameOf(alice, bob.runtime.peerId) === 'Bob (organiser)', 20_000, 'alice to see bob\'s new name');
  });
});
