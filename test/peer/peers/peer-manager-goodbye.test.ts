import { afterEach, describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import { PeerGameDB } from '../../../src/main/peer/peers/peer-game-db';
import { PeerManager } from '../../../src/main/peer/peers/peer-manager';
import type { PeerTransport } from '../../../src/main/peer/peers/peer-transport';
import { PROTOCOL_VERSION, type Request, type Response } from '../../../src/main/peer/protocol/messages';
import { silentLogger } from '../../../src/main/peer/util/logger';

const OTHER = 'b'.repeat(64);

/** A control plane where the other peer answers Hello, ListGames and (while `alive`) Ping. */
function transport(state: { alive: boolean }): PeerTransport {
  return {
    async request(_target, request: Request): Promise<Response> {
      if (request.type === 'Hello') return { type: 'Hello', protocolVersion: PROTOCOL_VERSION, peerId: OTHER, name: 'other', port: 2 };
      if (request.type === 'ListGames') return { type: 'Games', games: [] };
      if (request.type === 'Ping' && state.alive) return { type: 'Pong', libraryRevision: 0 };
      throw new LanspreadError('REQUEST_TIMEOUT', 'no answer');
    },
    probe: () => Promise.reject(new Error('not used')),
    closePeer: () => Promise.resolve(),
    onConnectionLost: () => () => undefined,
  };
}

describe('PeerManager and mDNS', () => {
  const managers: PeerManager[] = [];
  afterEach(async () => {
    for (const manager of managers.splice(0)) await manager.stop();
  });

  async function connected(state: { alive: boolean }): Promise<{ manager: PeerManager; db: PeerGameDB; gone: string[] }> {
    const db = new PeerGameDB();
    const manager = new PeerManager({ db, transport: transport(state), ownHello: () => ({ protocolVersion: PROTOCOL_VERSION, peerId: 'a'.repeat(64), name: 'me', port: 1 }), logger: silentLogger, timings: { pingIntervalMs: 60_000 } });
    managers.push(manager);
    const gone: string[] = [];
    manager.on('peer-disconnected', ({ peerId }) => gone.push(peerId));
    manager.start();
    await manager.addCandidate({ peerId: OTHER, host: '10.0.0.2', port: 2, source: 'mdns' });
    expect(db.has(OTHER)).toBe(true);
    return { manager, db, gone };
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('ignores a goodbye (anyone on the LAN can send one) from a peer that still answers a pinned Ping', async () => {
    const { manager, db, gone } = await connected({ alive: true });
    manager.goodbye(OTHER);
    await settle();
    expect(db.has(OTHER)).toBe(true);
    expect(gone).toEqual([]);
  });

  it('shows a peer as found by mDNS when its own Hello arrived before its announcement', async () => {
    const db = new PeerGameDB();
    const manager = new PeerManager({ db, transport: transport({ alive: true }), ownHello: () => ({ protocolVersion: PROTOCOL_VERSION, peerId: 'a'.repeat(64), name: 'me', port: 1 }), logger: silentLogger, timings: { pingIntervalMs: 60_000 } });
    managers.push(manager);
    manager.start();
    // The incoming Hello and the announcement race: both orders end as 'mdns'.
    const hello = manager.addCandidate({ peerId: OTHER, host: '10.0.0.2', port: 2, source: 'manual' });
    const announced = manager.addCandidate({ peerId: OTHER, host: '10.0.0.2', port: 2, source: 'mdns' });
    await Promise.all([hello, announced]);
    expect(db.get(OTHER)?.info.source).toBe('mdns');
    await manager.addCandidate({ peerId: OTHER, host: '10.0.0.2', port: 2, source: 'manual' });
    expect(db.get(OTHER)?.info.source).toBe('mdns');
  });

  it('drops a peer that said goodbye and no longer answers', async () => {
    const state = { alive: true };
    const { manager, db, gone } = await connected(state);
    state.alive = false;
    manager.goodbye(OTHER);
    await settle();
    expect(db.has(OTHER)).toBe(false);
    expect(gone).toEqual([OTHER]);
  });
});
