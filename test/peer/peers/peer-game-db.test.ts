import { describe, expect, it } from 'vitest';
import { PeerGameDB } from '../../../src/main/peer/peers/peer-game-db';
import type { PeerInfo } from '../../../src/shared/model';

const peer = (peerId: string): PeerInfo => ({ peerId, name: peerId, protocolVersion: 1, host: '127.0.0.1', port: 1000, source: 'manual' });
const game = (id: string, version: string, sizeBytes = 10) => ({ id, version, sizeBytes, fileCount: 1 });

describe('PeerGameDB', () => {
  it('aggregates games over peers and keeps only latest-version peers as sources', () => {
    const db = new PeerGameDB();
    for (const id of ['a', 'b', 'c']) db.upsertPeer(peer(id), 0);
    db.setGames('a', [game('quake', '1.9', 5), game('doom', '1')], 1);
    db.setGames('b', [game('quake', '1.10', 7)], 1);
    db.setGames('c', [game('quake', '1.10', 7)], 1);
    const quake = db.remoteGames().get('quake');
    expect(quake?.latestVersion).toBe('1.10');
    expect(quake?.sizeBytes).toBe(7);
    expect(quake?.sources.sort()).toEqual(['b', 'c']);
    expect(quake?.holders.sort()).toEqual(['a', 'b', 'c']);
    expect(db.latestVersion('quake')).toBe('1.10');
    expect(db.sourcesFor('quake', '1.10').map((r) => r.info.peerId).sort()).toEqual(['b', 'c']);
    expect(db.latestVersion('missing')).toBeNull();
  });

  it('drops a cached manifest when the peer stops offering that version, and forgets removed peers', () => {
    const db = new PeerGameDB();
    db.upsertPeer(peer('a'), 0);
    db.setGames('a', [game('quake', '1')], 1);
    db.setManifest('a', { gameId: 'quake', version: '1', chunkSize: 4, files: [] });
    expect(db.manifestFrom('a', 'quake')).toBeDefined();
    expect(db.setGames('a', [game('quake', '2')], 2)).toBe(true);
    expect(db.manifestFrom('a', 'quake')).toBeUndefined();
    expect(db.setGames('a', [game('quake', '2')], 3)).toBe(false);
    expect(db.removePeer('a')).toBe(true);
    expect(db.remoteGames().size).toBe(0);
    expect(db.setGames('a', [game('quake', '2')], 4)).toBe(false);
  });
});
