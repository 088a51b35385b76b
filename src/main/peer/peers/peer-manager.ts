import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { PeerId, PeerInfo } from '../../../shared/model';
import type { HelloBody, Response } from '../protocol/messages';
import { PROTOCOL_VERSION } from '../protocol/messages';
import type { ServedBeat } from '../discovery/txt-record';
import type { Logger } from '../util/logger';
import { TypedEmitter } from '../util/typed-emitter';
import type { PeerGameDB, PeerRecord } from './peer-game-db';
import type { PeerTarget, PeerTransport } from './peer-transport';

export interface PeerManagerTimings {
  /**
   * A peer we have not heard from for this long (no mDNS heartbeat from its address, no
   * answered ping) is pinged. Peers on mDNS beat every 2.5 s, so only two lost beats, a dead
   * peer or a manual peer beyond mDNS cost a ping.
   */
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** A peer not heard from for this long, that does not answer a ping either, is pruned. */
  pruneAfterMs: number;
  /** How often unreachable manual peers are tried again. */
  manualRetryMs: number;
  requestTimeoutMs: number;
  /**
   * A peer whose announced change is only the swarm's (it started or finished downloading
   * something) is re-listed this long after (jittered up to half as much again), with every
   * further change meanwhile, and not while a download runs here: downloads of that game ask it
   * over the data lane at once, and a crowd needs no QUIC connection for it while it downloads.
   */
  swarmRelistMs: number;
}

export const DEFAULT_PEER_TIMINGS: PeerManagerTimings = {
  // A peer that dies is pruned 7.5–8.5 s after its last beat (silent 5.5 s, a ping that fails within 2 s).
  pingIntervalMs: 5_500,
  pingTimeoutMs: 2_000,
  pruneAfterMs: 7_500,
  manualRetryMs: 5_000,
  requestTimeoutMs: 10_000,
  swarmRelistMs: 30_000,
};

export interface PeerManagerEvents {
  'peer-connected': { peer: PeerInfo };
  'peer-disconnected': { peerId: PeerId; reason: string };
  'peer-count': { count: number };
  'peer-games-changed': { peerId: PeerId };
  /**
   * A peer announced a new revision of what it serves; its new game list follows
   * (peer-games-changed) once listed, at once or, for a change only of the swarm, later.
   */
  'peer-revision-changed': { peerId: PeerId };
}

export interface PeerManagerDeps {
  db: PeerGameDB;
  transport: PeerTransport;
  ownHello: () => HelloBody;
  logger: Logger;
  timings?: Partial<PeerManagerTimings>;
  now?: () => number;
  /**
   * A download runs here: re-listings for changes only of the swarm wait until none does (its
   * sources come over the data lane), so a crowd's QUIC re-listings never compete with it.
   */
  downloading?: () => boolean;
}

/** A greeting that failed is not tried again at once: a peer that beats but never answers costs one dial per backoff. */
const GREET_RETRY_MS = 1_000;
const GREET_RETRY_MAX_MS = 60_000;
const MAX_GREET_FAILURES = 1_024;

/**
 * Turns discovery hints (mDNS, manual addresses, incoming Hellos) into live peers: greets them,
 * fetches their game lists, and prunes the ones that stop answering. Only a successful Hello
 * (over a connection pinned to the peer's certificate) adds a peer. What keeps it is hearing
 * from it: its mDNS heartbeat from the address we greeted, or else an answered ping; a peer
 * is re-listed only when the revision it announces changes. An idle LAN therefore costs one
 * multicast packet per peer and interval and no connection at all (the client closes idle ones).
 */
export class PeerManager extends TypedEmitter<PeerManagerEvents> {
  private readonly timings: PeerManagerTimings;
  private readonly now: () => number;
  private readonly connecting = new Map<string, Promise<void>>();
  private readonly pinging = new Set<PeerId>();
  /** Peers mDNS has announced: they show as found by mDNS whichever way they were greeted. */
  private readonly seenOnMdns = new Set<PeerId>();
  /** The heartbeat interval each peer announces (a large LAN beats less often); absent: the default. */
  private readonly heartbeats = new Map<PeerId, number>();
  /** Peers to re-list later for a change only of the swarm: when. */
  private readonly laterRelists = new Map<PeerId, number>();
  /** Greetings that failed, by target: when they may be tried again. */
  private readonly greetFailures = new Map<string, { retryAt: number; delayMs: number }>();
  private manualAddresses: { host: string; port: number }[] = [];
  /** Why each manual address did not answer the last time it was tried (until it does). */
  private readonly manualFailures = new Map<string, string>();
  private tickTimer: NodeJS.Timeout | null = null;
  private manualTimer: NodeJS.Timeout | null = null;
  private unsubscribeLost: (() => void) | null = null;
  private running = false;

  constructor(private readonly deps: PeerManagerDeps) {
    super();
    this.timings = { ...DEFAULT_PEER_TIMINGS, ...deps.timings };
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribeLost = this.deps.transport.onConnectionLost((peerId) => void this.pingPeer(peerId));
    // One coalesced timer checks every peer's silence; it never keeps the process alive on its own.
    this.tickTimer = setInterval(() => {
      this.pingSilent();
      this.relistDue();
    }, Math.min(1_000, Math.max(50, this.timings.pingIntervalMs / 4)));
    this.tickTimer.unref();
    this.manualTimer = setInterval(() => this.connectManualPeers(), this.timings.manualRetryMs);
    this.manualTimer.unref();
    this.connectManualPeers();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.manualTimer) clearInterval(this.manualTimer);
    this.tickTimer = this.manualTimer = null;
    this.unsubscribeLost?.();
    this.unsubscribeLost = null;
    this.seenOnMdns.clear();
    this.heartbeats.clear();
    this.laterRelists.clear();
    this.greetFailures.clear();
    await Promise.allSettled([...this.connecting.values()]);
  }

  /** Each manual address: connected (to which peer), still being tried, or unreachable with the last reason. */
  manualPeerStates(): { address: string; state: 'connected' | 'trying' | 'unreachable'; peerId: PeerId | null; reason: string | null }[] {
    return this.manualAddresses.map((address) => {
      const shown = addressText(address);
      const record = this.deps.db.list().find((r) => r.info.host === address.host && r.info.port === address.port);
      if (record) return { address: shown, state: 'connected', peerId: record.info.peerId, reason: null };
      const reason = this.manualFailures.get(shown);
      return reason === undefined ? { address: shown, state: 'trying', peerId: null, reason: null } : { address: shown, state: 'unreachable', peerId: null, reason };
    });
  }

  setManualPeers(addresses: { host: string; port: number }[]): void {
    this.manualAddresses = addresses;
    const kept = new Set(addresses.map(addressText));
    for (const shown of [...this.manualFailures.keys()]) if (!kept.has(shown)) this.manualFailures.delete(shown);
    if (this.running) this.connectManualPeers();
  }

  /** A peer was announced (mDNS) or introduced itself (incoming Hello). */
  async addCandidate(candidate: Omit<PeerInfo, 'name' | 'protocolVersion'> & Partial<Pick<PeerInfo, 'name' | 'protocolVersion'>>): Promise<void> {
    if (!this.running || candidate.peerId === this.deps.ownHello().peerId) return;
    // A peer can introduce itself (its Hello) before its announcement arrives here, or while
    // we are still greeting it: an mDNS sighting at any point means it was found on the LAN.
    if (candidate.source === 'mdns') this.seenOnMdns.add(candidate.peerId);
    const known = this.deps.db.get(candidate.peerId);
    // Another address of a peer we still hear at its known one (multi-homed) changes nothing;
    // a new control port (a restart), or a new address while the known one is silent, does.
    const moved = known !== undefined && (known.info.port !== candidate.port || (known.info.host !== candidate.host && this.now() - known.lastSeenMs >= this.timings.pingIntervalMs));
    if (known && !moved && (candidate.dataPort === undefined || candidate.dataPort === known.info.dataPort)) {
      if (candidate.source === 'mdns') known.info = { ...known.info, source: 'mdns' };
      return;
    }
    const target = { host: candidate.host, port: candidate.port, peerId: candidate.peerId };
    const key = `${candidate.peerId}@${candidate.host}:${candidate.port}`;
    if ((this.greetFailures.get(key)?.retryAt ?? 0) > this.now()) return;
    await this.once_(key, async () => {
      // A peer at a new address or with new ports restarted or moved: its old connection is history.
      if (known) await this.deps.transport.closePeer(candidate.peerId).catch(() => undefined);
      await this.greet(target, candidate.source, key);
    });
  }

  /**
   * A peer's mDNS announcement or heartbeat arrived. From the address we greeted it at, that is
   * proof of life enough to skip pinging it, and a new revision makes us re-list it (later, when
   * only the swarm changed). From a new address or with new ports it is greeted again (it
   * restarted or moved).
   */
  heard(peer: PeerInfo, beat: ServedBeat & { heartbeatMs?: number } = {}): void {
    const { libraryRevision, catalogRevision, heartbeatMs } = beat;
    if (!this.running || peer.peerId === this.deps.ownHello().peerId) return;
    const record = this.deps.db.get(peer.peerId);
    if (!record || record.info.port !== peer.port || (peer.dataPort !== undefined && record.info.dataPort !== peer.dataPort)) {
      void this.addCandidate(peer);
      return;
    }
    // Heard from another of its addresses: not proof the one we use still works (a DHCP move
    // leaves it dead, and pings then prune it so the next beat greets the new one).
    if (record.info.host !== peer.host) return;
    if (heartbeatMs === undefined) this.heartbeats.delete(peer.peerId);
    else this.heartbeats.set(peer.peerId, heartbeatMs);
    this.seenOnMdns.add(peer.peerId);
    if (record.info.source !== 'mdns') record.info = { ...record.info, source: 'mdns' };
    this.deps.db.markSeen(peer.peerId, this.now(), null);
    if (beat.swarming !== undefined) record.swarming = beat.swarming;
    const known = record.catalogRevision;
    if (catalogRevision !== undefined) record.catalogRevision = catalogRevision;
    if (libraryRevision === undefined || libraryRevision === record.libraryRevision) return;
    // Only the swarm changed: whoever downloads that game asks the peer now (over the data lane).
    // A listing that failed (-1) is tried again at once.
    if (catalogRevision !== undefined && catalogRevision === known && record.libraryRevision !== -1) this.relistLater(peer.peerId, libraryRevision);
    else this.relist(peer.peerId, libraryRevision);
  }

  /**
   * Something failed to reach a peer we know (its data lane refused a connection): greet it
   * again at once, so new ports from a restart are learned before a download gives up on it.
   */
  recheck(peerId: PeerId): void {
    const record = this.deps.db.get(peerId);
    if (!record || !this.running) return;
    const key = `recheck@${peerId}`;
    void this.once_(key, async () => {
      await this.deps.transport.closePeer(peerId).catch(() => undefined);
      await this.greet(targetOf(record), record.info.source, key);
    });
  }

  /**
   * A peer announced it is leaving (mDNS goodbye). mDNS is unauthenticated, so anyone on the LAN
   * could send one: the peer is dropped only once it fails to answer a pinned Ping (a peer that
   * really leaves has stopped its control server before it says goodbye).
   */
  goodbye(peerId: PeerId): void {
    const record = this.deps.db.get(peerId);
    if (!record || !this.running) return;
    void this.deps.transport.request(targetOf(record), { type: 'Ping' }, { timeoutMs: this.timings.pingTimeoutMs }).then(
      (response) => {
        if (response.type !== 'Pong') this.prune(peerId, 'goodbye');
        else this.deps.logger.info('ignored a goodbye from a peer that still answers', { peerId: peerId.slice(0, 12) });
      },
      () => this.prune(peerId, 'goodbye'),
    );
  }

  /** A peer told us its game list changed: re-list it now (an unknown peer is greeted the usual way first). */
  announced(peerId: PeerId, libraryRevision: number): void {
    const record = this.deps.db.get(peerId);
    if (!record || !this.running || record.libraryRevision === libraryRevision) return;
    this.relist(peerId, libraryRevision);
  }

  /**
   * Tells the peers that do not hear our mDNS heartbeat (manual peers beyond the multicast
   * domain) that our game list changed; the others read the new revision in our TXT record.
   */
  announce(libraryRevision: number): void {
    if (!this.running) return;
    for (const record of this.deps.db.list()) {
      if (this.heardOnMdns(record)) continue;
      void this.deps.transport.request(targetOf(record), { type: 'Announce', libraryRevision }, { timeoutMs: this.timings.pingTimeoutMs }).catch(() => undefined);
    }
  }

  /** Re-fetches one peer's game list (e.g. after its library revision changed). */
  async refreshGames(peerId: PeerId): Promise<void> {
    const record = this.deps.db.get(peerId);
    if (!record) return;
    const target = targetOf(record);
    const response = await this.deps.transport.request(target, { type: 'ListGames' }, { timeoutMs: this.timings.requestTimeoutMs });
    if (response.type !== 'Games') throw unexpected(response);
    const changed = this.deps.db.setGames(peerId, response.games, record.libraryRevision);
    if (changed) this.emit('peer-games-changed', { peerId });
  }

  /**
   * Greets a known peer again over its pinned connection to learn what its Hello carries
   * besides the revision (its display name): a new revision is also how a rename is announced.
   */
  private async refreshHello(peerId: PeerId): Promise<void> {
    const record = this.deps.db.get(peerId);
    if (!record) return;
    const response = await this.deps.transport.request(targetOf(record), { type: 'Hello', ...this.deps.ownHello() }, { timeoutMs: this.timings.requestTimeoutMs });
    if (response.type !== 'Hello') throw unexpected(response);
    if (response.peerId !== peerId) throw new LanspreadError('PEER_FINGERPRINT_MISMATCH', 'Hello peer id does not match the certificate');
    if (this.deps.db.get(peerId) === record && record.info.name !== response.name) record.info = { ...record.info, name: response.name };
  }

  private async once_(key: string, work: () => Promise<void>): Promise<void> {
    const pending = this.connecting.get(key);
    if (pending) return pending;
    const run = work().finally(() => this.connecting.delete(key));
    this.connecting.set(key, run);
    return run;
  }

  private async greet(target: PeerTarget, source: PeerInfo['source'], key: string): Promise<void> {
    try {
      const response = await this.deps.transport.request(target, { type: 'Hello', ...this.deps.ownHello() }, { timeoutMs: this.timings.requestTimeoutMs });
      await this.admit(target, source, response);
      this.greetFailures.delete(key);
    } catch (error) {
      // Only admitted peers keep their mDNS mark, so invented announcements cannot pile up here.
      if (!this.deps.db.has(target.peerId)) this.seenOnMdns.delete(target.peerId);
      this.noteGreetFailure(key);
      this.deps.logger.debug('peer did not answer Hello', { host: target.host, port: target.port, error: toLanspreadError(error).message });
    }
  }

  private noteGreetFailure(key: string): void {
    const delayMs = Math.min(GREET_RETRY_MAX_MS, (this.greetFailures.get(key)?.delayMs ?? GREET_RETRY_MS / 2) * 2);
    this.greetFailures.delete(key);
    // Invented announcements must not grow this without bound: the oldest failure is forgotten.
    if (this.greetFailures.size >= MAX_GREET_FAILURES) this.greetFailures.delete(this.greetFailures.keys().next().value!);
    this.greetFailures.set(key, { retryAt: this.now() + delayMs, delayMs });
  }

  /** The change is news now (downloads ask the peer), its listing can wait; later changes ride along. */
  private relistLater(peerId: PeerId, libraryRevision: number): void {
    const record = this.deps.db.get(peerId);
    if (!record) return;
    record.libraryRevision = libraryRevision;
    this.emit('peer-revision-changed', { peerId });
    if (!this.laterRelists.has(peerId)) this.laterRelists.set(peerId, this.now() + this.timings.swarmRelistMs * (1 + Math.random() / 2));
  }

  private relistDue(): void {
    const now = this.now();
    const downloading = this.deps.downloading?.() ?? false;
    for (const [peerId, at] of this.laterRelists) {
      const record = this.deps.db.get(peerId);
      if (!record) this.laterRelists.delete(peerId);
      else if (at > now) continue;
      // Spread over the seconds after the download ends, not all in the tick it does.
      else if (downloading) this.laterRelists.set(peerId, now + (this.timings.swarmRelistMs * Math.random()) / 2);
      else this.relist(peerId, record.libraryRevision);
    }
  }

  /** Re-fetches a peer's games for a revision it announced; a failed listing is retried at the next announcement. */
  private relist(peerId: PeerId, libraryRevision: number): void {
    const record = this.deps.db.get(peerId);
    if (!record) return;
    this.laterRelists.delete(peerId);
    // Set before listing: a heartbeat meanwhile with the same revision does not list again, a
    // newer one lists once this listing is done and the next beat carries it.
    record.libraryRevision = libraryRevision;
    this.emit('peer-revision-changed', { peerId });
    void this.once_(`list@${peerId}`, async () => {
      await this.refreshHello(peerId);
      await this.refreshGames(peerId);
    }).catch((error: unknown) => {
      if (this.deps.db.get(peerId) === record) record.libraryRevision = -1;
      this.deps.logger.debug('re-listing a peer failed', { peerId: peerId.slice(0, 12), error: toLanspreadError(error).message });
    });
  }

  /** We heard its mDNS heartbeat recently enough that it needs no ping. */
  private heardOnMdns(record: PeerRecord): boolean {
    return this.seenOnMdns.has(record.info.peerId) && this.now() - record.lastSeenMs < this.silenceBeforePing(record.info.peerId);
  }

  /** Silence after which a peer is pinged: the configured time, or two of its announced beats and some. */
  private silenceBeforePing(peerId: PeerId): number {
    return Math.max(this.timings.pingIntervalMs, 2.2 * (this.heartbeats.get(peerId) ?? 0));
  }

  private connectManualPeers(): void {
    for (const address of this.manualAddresses) {
      const connected = this.deps.db.list().some((record) => record.info.host === address.host && record.info.port === address.port);
      if (connected) continue;
      const key = `manual@${address.host}:${address.port}`;
      void this.once_(key, async () => {
        const shown = addressText(address);
        try {
          const { peerId, response } = await this.deps.transport.probe(address.host, address.port, { type: 'Hello', ...this.deps.ownHello() }, { timeoutMs: this.timings.requestTimeoutMs });
          if (peerId === this.deps.ownHello().peerId) {
            this.manualFailures.set(shown, 'this is the address of this launcher itself');
            return;
          }
          await this.admit({ ...address, peerId }, 'manual', response);
          this.manualFailures.delete(shown);
        } catch (error) {
          const coded = toLanspreadError(error);
          this.manualFailures.set(shown, `${coded.message} [${coded.code}]`);
          this.deps.logger.debug('manual peer unreachable', { ...address, error: coded.message });
        }
      });
    }
  }

  private async admit(target: PeerTarget, source: PeerInfo['source'], response: Response): Promise<void> {
    if (response.type === 'Error') throw LanspreadError.fromInfo(response);
    if (response.type !== 'Hello') throw unexpected(response);
    if (response.peerId !== target.peerId) throw new LanspreadError('PEER_FINGERPRINT_MISMATCH', 'Hello peer id does not match the certificate');
    if (response.protocolVersion !== PROTOCOL_VERSION) throw new LanspreadError('PROTOCOL_VERSION_MISMATCH', `Peer speaks protocol ${response.protocolVersion}`);
    if (!this.running) return;
    const info: PeerInfo = {
      peerId: response.peerId,
      name: response.name,
      protocolVersion: response.protocolVersion,
      host: target.host,
      port: target.port,
      source: this.seenOnMdns.has(response.peerId) ? 'mdns' : source,
      ...(response.dataPort === undefined ? {} : { dataPort: response.dataPort }),
    };
    const { added, record } = this.deps.db.upsertPeer(info, this.now());
    // Listed at (at least) the revision it greeted us with: the same revision heard later lists nothing.
    record.libraryRevision = response.libraryRevision ?? -1;
    await this.refreshGames(info.peerId);
    if (added) {
      this.deps.logger.info('peer connected', { peerId: info.peerId.slice(0, 12), name: info.name, host: info.host, port: info.port, source });
      this.emit('peer-connected', { peer: info });
      this.emit('peer-count', { count: this.deps.db.size });
    }
  }

  /** Pings only the peers we have not heard from lately (a lost heartbeat, a dead or manual peer). */
  private pingSilent(): void {
    const now = this.now();
    for (const record of this.deps.db.list()) {
      if (now - record.lastSeenMs >= this.silenceBeforePing(record.info.peerId)) void this.pingPeer(record.info.peerId);
    }
  }

  private async pingPeer(peerId: PeerId): Promise<void> {
    const record = this.deps.db.get(peerId);
    if (!record || this.pinging.has(peerId) || !this.running) return;
    this.pinging.add(peerId);
    const started = this.now();
    try {
      const response = await this.deps.transport.request(targetOf(record), { type: 'Ping' }, { timeoutMs: this.timings.pingTimeoutMs });
      if (response.type !== 'Pong') throw unexpected(response);
      this.deps.db.markSeen(peerId, this.now(), this.now() - started);
      if (response.libraryRevision !== record.libraryRevision) {
        // A new revision may be a restart on the same control port: greet again to learn its
        // data-lane port too (admitting re-lists it).
        const key = `recheck@${peerId}`;
        await this.once_(key, () => this.greet(targetOf(record), record.info.source, key));
      }
    } catch (error) {
      const silentFor = this.now() - record.lastSeenMs;
      this.deps.logger.debug('ping failed', { peerId: peerId.slice(0, 12), silentFor, error: toLanspreadError(error).message });
      const pruneAfter = this.timings.pruneAfterMs + this.silenceBeforePing(peerId) - this.timings.pingIntervalMs;
      if (silentFor >= pruneAfter) this.prune(peerId, 'no answer to pings');
    } finally {
      this.pinging.delete(peerId);
    }
  }

  private prune(peerId: PeerId, reason: string): void {
    this.seenOnMdns.delete(peerId);
    this.heartbeats.delete(peerId);
    this.laterRelists.delete(peerId);
    if (!this.deps.db.removePeer(peerId)) return;
    void this.deps.transport.closePeer(peerId).catch(() => undefined);
    this.deps.logger.info('peer disconnected', { peerId: peerId.slice(0, 12), reason });
    this.emit('peer-disconnected', { peerId, reason });
    this.emit('peer-count', { count: this.deps.db.size });
  }
}

function addressText(address: { host: string; port: number }): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function targetOf(record: PeerRecord): PeerTarget {
  return { host: record.info.host, port: record.info.port, peerId: record.info.peerId };
}

function unexpected(response: Response): LanspreadError {
  if (response.type === 'Error') return LanspreadError.fromInfo(response);
  return new LanspreadError('MALFORMED_MESSAGE', `Unexpected response ${response.type}`);
}
