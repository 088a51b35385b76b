import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../support/sha256';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../../../src/shared/errors';
import { waitFor } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

const IDS = ['demo-arena', 'demo-racer', 'demo-tanks', 'not-shared'];

describe('two runtimes on loopback', () => {
  const peers = useTestPeers('two-peers');

  it('list each other\'s games over QUIC after one side is given the other\'s address', async () => {
    const alice = await peers.start('alice', { catalogIds: IDS, games: [{ id: 'demo-arena', version: '1.0' }] });
    const bob = await peers.start('bob', { catalogIds: IDS, games: [{ id: 'demo-racer', version: '2.1' }], manualPeers: [`127.0.0.1:${alice.runtime.port}`] });

    await waitFor(() => bob.runtime.remoteGames().has('demo-arena'), 20_000, 'bob sees alice');
    // Alice learns bob from his Hello: no address configured on her side.
    await waitFor(() => alice.runtime.remoteGames().has('demo-racer'), 20_000, 'alice sees bob');

    expect(bob.runtime.remoteGames().get('demo-arena')).toMatchObject({ latestVersion: '1.0', sources: [alice.runtime.peerId] });
    expect(alice.runtime.remoteGames().get('demo-racer')).toMatchObject({ latestVersion: '2.1', sources: [bob.runtime.peerId] });
    expect(alice.runtime.getPeerCount()).toBe(1);
    expect(bob.runtime.peers()[0]?.info).toMatchObject({ peerId: alice.runtime.peerId, name: 'alice', source: 'manual' });
  });

  it('serves a manifest whose chunk CRCs match the files on disk', async () => {
    const alice = await peers.start('alice', { catalogIds: IDS, games: [{ id: 'demo-arena', version: '1.0' }] });
    const bob = await peers.start('bob', { catalogIds: IDS, manualPeers: [`127.0.0.1:${alice.runtime.port}`] });
    await waitFor(() => bob.runtime.remoteGames().has('demo-arena'), 20_000, 'bob sees alice');

    const { manifest, sources } = await bob.runtime.getGame('demo-arena');
    expect(sources).toEqual([alice.runtime.peerId]);
    expect(manifest.version).toBe('1.0');
    expect(manifest.files.map((f) => f.path).sort()).toEqual(['demo-arena.rar', 'version.ini']);
    for (const file of manifest.files) {
      const bytes = await readFile(path.join(alice.gameDir, 'demo-arena', file.path));
      expect(file.size).toBe(bytes.byteLength);
      const expected: string[] = [];
      for (let offset = 0; offset < bytes.byteLength; offset += manifest.chunkSize) {
        expected.push(sha256Hex(bytes.subarray(offset, offset + manifest.chunkSize)));
      }
      expect(file.chunkHashes).toEqual(expected);
    }
  });

  it('announces only downloaded catalog games and updates peers when the library changes', async () => {
    const alice = await peers.start('alice', {
      catalogIds: ['demo-arena', 'demo-racer'],
      games: [{ id: 'demo-arena', version: '1.0' }, { id: 'demo-tanks', version: '1.0' }],
    });
    const bob = await peers.start('bob', { catalogIds: IDS, manualPeers: [`127.0.0.1:${alice.runtime.port}`] });
    await waitFor(() => bob.runtime.remoteGames().has('demo-arena'), 20_000, 'bob sees alice');
    // demo-tanks is on alice's disk but not in her catalog: never announced.
    expect(bob.runtime.remoteGames().has('demo-tanks')).toBe(false);
    await expect(bob.runtime.getGame('demo-tanks')).rejects.toMatchObject({ code: 'NO_SOURCE' });

    // A new downloaded game appears on alice's disk; bob sees it through the ping's library revision.
    const { seedGames } = await import('../../support/runtime-harness');
    await seedGames(alice.gameDir, [{ id: 'demo-racer', version: '3' }]);
    await waitFor(() => bob.runtime.remoteGames().get('demo-racer')?.latestVersion === '3', 20_000, 'bob sees the new game');
  });

  it('refuses a peer whose certificate does not match the pinned id', async () => {
    const alice = await peers.start('alice', { catalogIds: IDS, games: [{ id: 'demo-arena', version: '1.0' }] });
    const bob = await peers.start('bob', { catalogIds: IDS });
    const { QuicPeerClient } = await import('../../../src/main/peer/transport/peer-client');
    const { loadOrCreateIdentity } = await import('../../../src/main/peer/identity/identity');
    const identity = await loadOrCreateIdentity(path.join(peers.dir, 'mallory'));
    const client = new QuicPeerClient({ identity, connectTimeoutMs: 3_000, idleTimeoutMs: 3_000, keepAliveIntervalMs: 500, requestTimeoutMs: 5_000 });
    try {
      const error = await client.request({ host: '127.0.0.1', port: alice.runtime.port, peerId: bob.runtime.peerId }, { type: 'ListGames' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LanspreadError);
      expect((error as LanspreadError).code).toBe('PEER_FINGERPRINT_MISMATCH');
      const ok = await client.request({ host: '127.0.0.1', port: alice.runtime.port, peerId: alice.runtime.peerId }, { type: 'ListGames' });
      expect(ok).toMatchObject({ type: 'Games', games: [{ id: 'demo-arena', version: '1.0' }] });
    } finally {
      await client.stop();
    }
  });
});
