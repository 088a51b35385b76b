import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { PeerId, PeerInfo } from '../../../shared/model';
import type { HelloBody, Response } from '../protocol/messages';
import { PROTOCOL_VERSION } from '../protocol/messages';
import type { Logger } from '../util/logger';
import { TypedEmitter } from '../util/typed-emitter';
import type { PeerGameDB, PeerRecord } from './peer-game-db';
import type { PeerTarget, PeerTransport } from './peer-transport';

export interface PeerManagerTimings {
  /** How often every known peer is pinged. */
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** A peer with no successful ping for this long is pruned. */
  pruneAfterMs: number;
  /** How often unreachable manual peers are tried again. */
  manualRetryMs: number;
  requestTimeoutMs: number;
}

export const DEFAULT_PEER_TIMINGS: PeerManagerTimings = {
  pingIntervalMs: 2_000,
  pingTimeoutMs: 2_000,
  pruneAfterMs: 6_000,
  manualRetryMs: 5_000,
  requestTimeoutMs: 10_000,
};

export interface PeerManagerEvents {
  'peer-connected': { peer: PeerInfo };
  'peer-disconnected': { peerId: PeerId; reason: string };
  'peer-count': { count: number };
  'peer-games-changed': { peerId: PeerId };
}

export interface PeerManagerDeps {
  db: PeerGameDB;
  transport: PeerTransport;
  ownHello: () => HelloBody;
  logger: Logger;
  timings?: Partial<PeerManagerTimings>;
  now?: () => number;
}

/**
 * Turns discovery hints (mDNS, manual addresses, incoming Hellos) into live peers: greets them,
 * fetches their game lists, pings them, and prunes the ones that stop answering. mDNS alone
 * never proves a peer is alive (the library keeps crashed peers for hours), so only a
 * successful Hello adds a peer and only pings keep it.
 */
export class PeerManager extends TypedEmitter<PeerManagerEvents> {
  private readonly timings: PeerManagerTimings;
  private readonly now: () => number;
  private readonly connecting = new Map<string, Promise<void>>();
  private readonly pinging = new Set<PeerId>();
  /** Peers mDNS has announced: they show as found by mDNS whichever way they were greeted. */
  private readonly seenOnMdns = new Set<PeerId>();
  private manualAddresses: { host: string; port: number }[] = [];
  private pingTimer: NodeJS.Timeout | null = null;
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
    this.pingTimer = setInterval(() => this.pingAll(), this.timings.pingIntervalMs);
    this.manualTimer = setInterval(() => this.connectManualPeers(), this.timings.manualRetryMs);
    this.connectManualPeers();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.manualTimer) clearInterval(this.manualTimer);
    this.pingTimer = this.manualTimer = null;
    this.unsubscribeLost?.();
    this.unsubscribeLost = null;
    this.seenOnMdns.clear();
    await Promise.allSettled([...this.connecting.values()]);
  }

  setManualPeers(addresses: { host: string; port: number }[]): void {
    this.manualAddresses = addresses;
    if (this.running) this.connectManualPeers();
  }

  /** A peer was announced (mDNS) or introduced itself (incoming Hello). */
  async addCandidate(candidate: Omit<PeerInfo, 'name' | 'protocolVersion'> & Partial<Pick<PeerInfo, 'name' | 'protocolVersion'>>): Promise<void> {
    if (!this.running || candidate.peerId === this.deps.ownHello().peerId) return;
    // A peer can introduce itself (its Hello) before its announcement arrives here, or while
    // we are still greeting it: an mDNS sighting at any point means it was found on the LAN.
    if (candidate.source === 'mdns') this.seenOnMdns.add(candidate.peerId);
    const known = this.deps.db.get(candidate.peerId);
    if (known && known.info.host === candidate.host && known.info.port === candidate.port) {
      if (candidate.source === 'mdns') known.info = { ...known.info, source: 'mdns' };
      return;
    }
    const key = `${candidate.peerId}@${candidate.host}:${candidate.port}`;
    await this.once_(key, () => this.greet({ host: candidate.host, port: candidate.port, peerId: candidate.peerId }, candidate.source));
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
    record.libraryRevision = libraryRevision;
    void this.refreshGames(peerId).catch((error: unknown) => this.deps.logger.debug('re-listing an announcing peer failed', { peerId: peerId.slice(0, 12), error: toLanspreadError(error).message }));
  }

  /**
   * Tells every known peer that our game list changed, so a download that just started (a new
   * partial source) or finished is known to the room at once, not after the next ping.
   */
  announce(libraryRevision: number): void {
    if (!this.running) return;
    for (const record of this.deps.db.list()) {
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

  private async once_(key: string, work: () => Promise<void>): Promise<void> {
    const pending = this.connecting.get(key);
    if (pending) return pending;
    const run = work().finally(() => this.connecting.delete(key));
    this.connecting.set(key, run);
    return run;
  }

  private async greet(target: PeerTarget, source: PeerInfo['source']): Promise<void> {
    try {
      const response = await this.deps.transport.request(target, { type: 'Hello', ...this.deps.ownHello() }, { timeoutMs: this.timings.requestTimeoutMs });
      await this.admit(target, source, response);
    } catch (error) {
      // Only admitted peers keep their mDNS mark, so invented announcements cannot pile up here.
      if (!this.deps.db.has(target.peerId)) this.seenOnMdns.delete(target.peerId);
      this.deps.logger.debug('peer did not answer Hello', { host: target.host, port: target.port, error: toLanspreadError(error).message });
    }
  }

  private connectManualPeers(): void {
    for (const address of this.manualAddresses) {
      const connected = this.deps.db.list().some((record) => record.info.host === address.host && record.info.port === address.port);
      if (connected) continue;
      const key = `manual@${address.host}:${address.port}`;
      void this.once_(key, async () => {
        try {
          const { peerId, response } = await this.deps.transport.probe(address.host, address.port, { type: 'Hello', ...this.deps.ownHello() }, { timeoutMs: this.timings.requestTimeoutMs });
          if (peerId === this.deps.ownHello().peerId) return;
          await this.admit({ ...address, peerId }, 'manual', response);
        } catch (error) {
          this.deps.logger.debug('manual peer unreachable', { ...address, error: toLanspreadError(error).message });
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
    const { added } = this.deps.db.upsertPeer(info, this.now());
    await this.refreshGames(info.peerId);
    if (added) {
      this.deps.logger.info('peer connected', { peerId: info.peerId.slice(0, 12), name: info.name, host: info.host, port: info.port, source });
      this.emit('peer-connected', { peer: info });
      this.emit('peer-count', { count: this.deps.db.size });
    }
  }

  private pingAll(): void {
    for (const record of this.deps.db.list()) void this.pingPeer(record.info.peerId);
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
        record.libraryRevision = response.libraryRevision;
        await this.refreshGames(peerId);
      }
    } catch (error) {
      const silentFor = this.now() - record.lastSeenMs;
      this.deps.logger.debug('ping failed', { peerId: peerId.slice(0, 12), silentFor, error: toLanspreadError(error).message });
      if (silentFor >= this.timings.pruneAfterMs) this.prune(peerId, 'no answer to pings');
    } finally {
      this.pinging.delete(peerId);
    }
  }

  private prune(peerId: PeerId, reason: string): void {
    this.seenOnMdns.delete(peerId);
    if (!this.deps.db.removePeer(peerId)) return;
    void this.deps.transport.closePeer(peerId).catch(() => undefined);
    this.deps.logger.info('peer disconnected', { peerId: peerId.slice(0, 12), reason });
    this.emit('peer-disconnected', { peerId, reason });
    this.emit('peer-count', { count: this.deps.db.size });
  }
}

function targetOf(record: PeerRecord): PeerTarget {
  return { host: record.info.host, port: record.info.port, peerId: record.info.peerId };
}

function unexpected(response: Response): LanspreadError {
  if (response.type === 'Error') return LanspreadError.fromInfo(response);
  return new LanspreadError('MALFORMED_MESSAGE', `Unexpected response ${response.type}`);
}
