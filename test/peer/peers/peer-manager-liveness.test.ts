import { afterEach, describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import type { PeerInfo } from '../../../src/shared/model';
import { PeerGameDB } from '../../../src/main/peer/peers/peer-game-db';
import { PeerManager } from '../../../src/main/peer/peers/peer-manager';
import type { PeerTransport } from '../../../src/main/peer/peers/peer-transport';
import { PROTOCOL_VERSION, type Request, type Response } from '../../../src/main/peer/protocol/messages';
import { silentLogger } from '../../../src/main/peer/util/logger';

/**
 * Liveness without chatter (#14): a peer we hear on mDNS is never pinged, is re-listed only
 * when its revision changes, and is greeted again when it comes back with new ports. The
 * control plane here is a stand-in that counts requests; the real one is covered by the
 * runtime and netns suites.
 */

const OTHER = 'b'.repeat(64);

interface Remote {
  alive: boolean;
  answersHello: boolean;
  dataPort: number;
  revision: number;
  sent: Request['type'][];
}

function transport(remote: Remote): PeerTransport {
  return {
    async request(_target, request: Request): Promise<Response> {
      remote.sent.push(request.type);
      if (!remote.alive) throw new LanspreadError('REQUEST_TIMEOUT', 'no answer');
      if (request.type === 'Hello') {
        if (!remote.answersHello) throw new LanspreadError('PEER_UNREACHABLE', 'refused');
        return { type: 'Hello', protocolVersion: PROTOCOL_VERSION, peerId: OTHER, name: 'other', port: 2, dataPort: remote.dataPort, libraryRevision: remote.revision };
      }
      if (request.type === 'ListGames') return { type: 'Games', games: [] };
      if (request.type === 'Ping') return { type: 'Pong', libraryRevision: remote.revision };
      throw new LanspreadError('UNKNOWN_MESSAGE_TYPE', request.type);
    },
    probe: () => Promise.reject(new Error('not used')),
    closePeer: () => Promise.resolve(),
    onConnectionLost: () => () => undefined,
  };
}

const timings = { pingIntervalMs: 300, pingTimeoutMs: 200, pruneAfterMs: 600, manualRetryMs: 60_000, requestTimeoutMs: 1_000, swarmRelistMs: 600 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (remote: Remote, type: Request['type']) => remote.sent.filter((sent) => sent === type).length;

describe('PeerManager liveness from mDNS heartbeats', () => {
  const managers: PeerManager[] = [];
  afterEach(async () => {
    for (const manager of managers.splice(0)) await manager.stop();
  });

  function manager(remote: Remote, downloading?: () => boolean): { manager: PeerManager; db: PeerGameDB; gone: string[] } {
    const db = new PeerGameDB();
    const made = new PeerManager({
      db,
      transport: transport(remote),
      ownHello: () => ({ protocolVersion: PROTOCOL_VERSION, peerId: 'a'.repeat(64), name: 'me', port: 1 }),
      logger: silentLogger,
      timings,
      ...(downloading ? { downloading } : {}),
    });
    managers.push(made);
    const gone: string[] = [];
    made.on('peer-disconnected', ({ peerId }) => gone.push(peerId));
    made.start();
    return { manager: made, db, gone };
  }

  const peer = (remote: Remote, host = '10.0.0.2'): PeerInfo => ({ peerId: OTHER, name: 'other', protocolVersion: PROTOCOL_VERSION, host, port: 2, dataPort: remote.dataPort, source: 'mdns' });

  /** Heartbeats every 50 ms for `ms`, as MdnsDiscovery reports them. */
  async function beat(made: PeerManager, remote: Remote, ms: number, host?: string): Promise<void> {
    for (const until = Date.now() + ms; Date.now() < until; ) {
      made.heard(peer(remote, host), { libraryRevision: remote.revision });
      await sleep(50);
    }
  }

  it('never pings a peer it keeps hearing, and lists it once per revision', async () => {
    const remote: Remote = { alive: true, answersHello: true, dataPort: 7001, revision: 10, sent: [] };
    const { manager: made, db } = manager(remote);
    await beat(made, remote, 1_200);
    expect(db.has(OTHER)).toBe(true);
    expect(count(remote, 'Hello')).toBe(1);
    expect(count(remote, 'ListGames')).toBe(1);
    expect(count(remote, 'Ping')).toBe(0);

    // A running download hears of the new revision at once (it asks the peer over the data lane), the listing follows.
    const revisions: string[] = [];
    made.on('peer-revision-changed', ({ peerId }) => revisions.push(peerId));
    remote.revision = 11;
    await beat(made, remote, 400);
    expect(revisions).toEqual([OTHER]);
    expect(count(remote, 'ListGames')).toBe(2);
    expect(count(remote, 'Ping')).toBe(0);
  });

  it('hears a change only of the swarm at once and re-lists it later (with the changes meanwhile); a catalog change at once', async () => {
    const remote: Remote = { alive: true, answersHello: true, dataPort: 7001, revision: 10, sent: [] };
    const { manager: made, db } = manager(remote);
    let catalogRevision = 5;
    const beatFor = async (ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until; ) {
        made.heard(peer(remote), { libraryRevision: remote.revision, catalogRevision, swarming: remote.revision > 10 });
        await sleep(50);
      }
    };
    await beatFor(300);
    expect(count(remote, 'ListGames')).toBe(1);
    const revisions: string[] = [];
    made.on('peer-revision-changed', ({ peerId }) => revisions.push(peerId));

    // It started sharing a download: downloads hear of it now; nobody re-lists it yet.
    remote.revision = 11;
    await beatFor(200);
    expect(revisions).toEqual([OTHER]);
    expect(db.get(OTHER)?.swarming).toBe(true);
    expect(count(remote, 'ListGames')).toBe(1);
    // Its download finished: news again, and the one later listing covers both.
    remote.revision = 12;
    await beatFor(100);
    expect(revisions).toEqual([OTHER, OTHER]);
    expect(count(remote, 'ListGames')).toBe(1);
    await beatFor(1_000);
    expect(count(remote, 'ListGames')).toBe(2);

    // The organiser added a game: listed at once.
    remote.revision = 13;
    catalogRevision = 6;
    await beatFor(100);
    expect(count(remote, 'ListGames')).toBe(3);
    await beatFor(1_000);
    expect(count(remote, 'ListGames')).toBe(3);
    expect(count(remote, 'Ping')).toBe(0);
  });

  it('re-lists for a change only of the swarm once no download runs here any more', async () => {
    const remote: Remote = { alive: true, answersHello: true, dataPort: 7001, revision: 10, sent: [] };
    let downloading = true;
    const { manager: made } = manager(remote, () => downloading);
    const beatFor = async (ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until; ) {
        made.heard(peer(remote), { libraryRevision: remote.revision, catalogRevision: 5, swarming: true });
        await sleep(50);
      }
    };
    await beatFor(300);
    expect(count(remote, 'ListGames')).toBe(1);
    remote.revision = 11;
    // Well past the 0.6-0.9 s it would wait otherwise.
    await beatFor(1_600);
    expect(count(remote, 'ListGames')).toBe(1);
    downloading = false;
    await beatFor(800);
    expect(count(remote, 'ListGames')).toBe(2);
  });

  it('pings a peer that falls silent and prunes it when the ping fails too', async () => {
    const remote: Remote = { alive: true, answersHello: true, dataPort: 7001, revision: 1, sent: [] };
    const { manager: made, db, gone } = manager(remote);
    await beat(made, remote, 200);
    expect(db.has(OTHER)).toBe(true);
    remote.alive = false;
    await sleep(1_500);
    expect(count(remote, 'Ping')).toBeGreaterThan(0);
    expect(db.has(OTHER)).toBe(false);
    expect(gone).toEqual([OTHER]);
  });

  it('keeps a silent peer that still answers its ping (a lost heartbeat is not a death)', async () => {
    const remote: Remote = { alive: true, answersHello: true, dataPort: 7001, revision: 1, sent: [] };
    const { manager: made, db, gone } = manager(remote);
    await beat(made, remote, 200);
    await sleep(1_500);
    expect(count(remote, 'Ping')).toBeGreaterThan(0);
    expect(db.has(OTHER)).toBe(true);
    expect(gone).toEqual([]);
  });

  it('waits two of the announced heartbeat intervals before pinging a peer of a large LAN', async () => {
    const remote: Remote = { alive: true, answersHello: true, dataPort: 7001, revision: 1, sent: [] };
    const { manager: made, db } = manager(remote);
    for (let i = 0; i < 4; i++) {
      made.heard(peer(remote), { libraryRevision: remote.revision, heartbeatMs: 1_000 });
      await sleep(50);
    }
    expect(db.has(OTHER)).toBe(true);
    // Silent for 1.5 s: beyond the 300 ms ping interval, within 2.2 × its 1 s beat.
    await sleep(1_500);
    expect(count(remote, 'Ping')).toBe(0);
    await sleep(1_500);
    expect(count(remote, 'Ping')).toBeGreaterThan(0);
  });

  it('greets a peer again when its heartbeat carries a new data port', async () => {
    const remote: Remote = { alive: true, answersHello: true, dataPort: 7001, revision: 1, sent: [] };
    const { manager: made, db } = manager(remote);
    await beat(made, remote, 200);
    expect(db.get(OTHER)?.info.dataPort).toBe(7001);
    remote.dataPort = 7555;
    await beat(made, remote, 300);
    expect(count(remote, 'Hello')).toBe(2);
    expect(db.get(OTHER)?.info.dataPort).toBe(7555);
  });

  it('does not take a heartbeat from another address as proof that the greeted one works', async () => {
    const remote: Remote = { alive: true, answersHello: true, dataPort: 7001, revision: 1, sent: [] };
    const { manager: made, db } = manager(remote);
    await beat(made, remote, 200);
    await beat(made, remote, 1_000, '10.0.0.99');
    expect(db.get(OTHER)?.info.host).toBe('10.0.0.2');
    expect(count(remote, 'Ping')).toBeGreaterThan(0);
  });

  it('backs off greeting a peer that beats but refuses Hello', async () => {
    const remote: Remote = { alive: true, answersHello: false, dataPort: 7001, revision: 1, sent: [] };
    const { manager: made, db } = manager(remote);
    await beat(made, remote, 1_000);
    expect(db.has(OTHER)).toBe(false);
    // 20 heartbeats in a second: the first greeting, and at most one retry after its 1 s backoff.
    expect(count(remote, 'Hello')).toBeLessThanOrEqual(2);
  });
});
