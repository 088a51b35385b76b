import type { RemoteInfo } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { toLanspreadError } from '../../../shared/errors';
import type { PeerId, PeerInfo } from '../../../shared/model';
import { silentLogger, type Logger } from '../util/logger';
import { TypedEmitter } from '../util/typed-emitter';
import { InterfaceResponder, type PublishedService } from './interface-responder';
import { readServicePacket } from './service-packet';
import { encodeAdvertisement, type Advertisement, type ServedBeat } from './txt-record';
import { usableIPv4Interfaces, type InterfaceTable } from './usable-interfaces';

export interface MdnsDiscoveryEvents {
  /** A peer appeared, moved (address or ports), or is still announcing after `reemitAfterMs`. */
  'peer-discovered': PeerInfo;
  /** The peer sent an mDNS goodbye from every address we knew it by. */
  'peer-goodbye': PeerId;
  /**
   * Any valid announcement of a peer, its heartbeats included: proof of life as good as mDNS
   * gives (unauthenticated), with the revisions of what it serves.
   */
  'peer-heard': { peer: PeerInfo; heartbeatMs?: number } & ServedBeat;
}

export interface MdnsDiscoveryOptions {
  peerId: PeerId;
  /** Display name; cut to 64 characters when advertised. */
  name: string;
  protocolVersion: number;
  /** QUIC control-plane UDP port. */
  port: number;
  /** TLS/TCP data-lane port, if already known (see setAdvertisement). */
  dataPort?: number;
  /** Revisions of what this peer serves, if known (see setAdvertisement). */
  libraryRevision?: number;
  catalogRevision?: number;
  swarming?: boolean;
  /**
   * Every peer re-sends its PTR and TXT records this often (jittered by ±10 %): the LAN's only
   * idle traffic, and what others take as proof of life instead of pinging. 0 turns it off.
   */
  heartbeatIntervalMs?: number;
  /**
   * Beats a second a peer should have to hear from the whole LAN. Like RTCP's report interval
   * (RFC 3550 §6.2), the interval doubles while the peers heard lately would send more: an idle
   * peer's cost stays flat however large the party, and a peer that dies without a goodbye is
   * noticed after about two of its (announced) intervals instead of a fixed few seconds.
   */
  heartbeatBudgetPerSecond?: number;
  /** Also run on 127.0.0.1 (tests, several peers on one machine). */
  includeLoopback?: boolean;
  /**
   * The library's browser queries once; we ask again, first after this long, then at doubling
   * intervals up to `requeryMaxIntervalMs` (RFC 6762 5.2): every peer answers every query, so
   * a fixed short interval would cost a 100-machine LAN party n² answers each round. Peers that
   * join announce themselves; the requery only catches announcements that were lost. With
   * heartbeats on it stops after `heartbeatRequeries` rounds: every peer is heard within one
   * heartbeat anyway, and each requery costs every peer on the LAN an answer.
   */
  requeryIntervalMs?: number;
  requeryMaxIntervalMs?: number;
  heartbeatRequeries?: number;
  /** How often interfaces are re-read (a laptop joins Wi-Fi, a cable is pulled). */
  interfaceCheckIntervalMs?: number;
  /**
   * A peer that keeps answering is reported again after this long, so a consumer that dropped
   * it (failed pings, then it came back at the same address) learns about it again.
   */
  reemitAfterMs?: number;
  /** 5353 in production; tests pass a private port. */
  mdnsPort?: number;
  announceDelaysMs?: readonly number[];
  goodbyeTimeoutMs?: number;
  /** Cap on remembered peers: a flood of invented advertisements must not grow memory. */
  maxPeers?: number;
  networkInterfaces?: () => InterfaceTable;
  now?: () => number;
  logger?: Logger;
}

const DEFAULTS = {
  // Each peer receives N/2.5 beats a second: about 0.03 % of a core per beat a second here.
  heartbeatIntervalMs: 2_500,
  heartbeatBudgetPerSecond: 8,
  heartbeatRequeries: 2,
  requeryIntervalMs: 2_000,
  requeryMaxIntervalMs: 60_000,
  interfaceCheckIntervalMs: 10_000,
  reemitAfterMs: 30_000,
  mdnsPort: 5353,
  announceDelaysMs: [0, 1_000] as readonly number[],
  goodbyeTimeoutMs: 1_000,
  maxPeers: 1_024,
};

/** A multi-homed peer is seen from at most a few addresses; more is someone spoofing. */
const MAX_HOSTS_PER_PEER = 8;

interface KnownPeer {
  info: PeerInfo;
  fqdn: string;
  /** Source addresses its announcements arrived from; a goodbye must come from one of them. */
  hosts: Set<string>;
  emittedAt: number;
  /** When we last heard it (a heartbeat or any announcement). */
  heardAt: number;
  /** Its announced heartbeat interval, when it announces one. */
  heartbeatMs?: number;
}

const noop = (): void => undefined;

/**
 * Advertises this peer as `_lanspread._udp` and reports other peers, on every usable IPv4
 * interface (one bonjour-service instance each). Discovery is a hint, never proof of life:
 * bonjour-service keeps a crashed peer for its PTR TTL (8 hours), so liveness is pinged
 * elsewhere. A peer's address is the source address of its packets, not its A records (those
 * list every interface it has, including ones we cannot reach).
 */
export class MdnsDiscovery extends TypedEmitter<MdnsDiscoveryEvents> {
  private readonly settings: typeof DEFAULTS;
  private readonly instanceName: string;
  private advertisement: Advertisement;
  private published: PublishedService;
  private readonly responders = new Map<string, InterfaceResponder>();
  private readonly peers = new Map<PeerId, KnownPeer>();
  private readonly fqdnOwners = new Map<string, PeerId>();
  private readonly listInterfaces: () => InterfaceTable;
  private readonly now: () => number;
  private readonly logger: Logger;
  private requeryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private interfaceTimer: NodeJS.Timeout | null = null;
  private running = false;
  private lifecycle: Promise<void> = Promise.resolve();
  private syncing: Promise<void> = Promise.resolve();
  private warnedFull = false;

  constructor(private readonly options: MdnsDiscoveryOptions) {
    super();
    this.settings = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
      heartbeatBudgetPerSecond: options.heartbeatBudgetPerSecond ?? DEFAULTS.heartbeatBudgetPerSecond,
      heartbeatRequeries: options.heartbeatRequeries ?? DEFAULTS.heartbeatRequeries,
      requeryIntervalMs: options.requeryIntervalMs ?? DEFAULTS.requeryIntervalMs,
      requeryMaxIntervalMs: Math.max(options.requeryMaxIntervalMs ?? DEFAULTS.requeryMaxIntervalMs, options.requeryIntervalMs ?? DEFAULTS.requeryIntervalMs),
      interfaceCheckIntervalMs: options.interfaceCheckIntervalMs ?? DEFAULTS.interfaceCheckIntervalMs,
      reemitAfterMs: options.reemitAfterMs ?? DEFAULTS.reemitAfterMs,
      mdnsPort: options.mdnsPort ?? DEFAULTS.mdnsPort,
      announceDelaysMs: options.announceDelaysMs ?? DEFAULTS.announceDelaysMs,
      goodbyeTimeoutMs: options.goodbyeTimeoutMs ?? DEFAULTS.goodbyeTimeoutMs,
      maxPeers: options.maxPeers ?? DEFAULTS.maxPeers,
    };
    this.listInterfaces = options.networkInterfaces ?? networkInterfaces;
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    // A DNS label holds 63 bytes; 40 hex digits of the fingerprint keep instances unique.
    this.instanceName = `lanspread-${options.peerId.slice(0, 40)}`;
    this.advertisement = {
      peerId: options.peerId,
      name: options.name,
      protocolVersion: options.protocolVersion,
      port: options.port,
      ...(options.dataPort === undefined ? {} : { dataPort: options.dataPort }),
      ...(options.libraryRevision === undefined ? {} : { libraryRevision: options.libraryRevision }),
      ...(options.catalogRevision === undefined ? {} : { catalogRevision: options.catalogRevision }),
      ...(options.swarming === undefined ? {} : { swarming: options.swarming }),
      ...((options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs) > 0 ? { heartbeatMs: options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs } : {}),
    };
    // Validates our own values up front (throws PEER_ADDRESS_INVALID) rather than on the wire.
    this.published = { port: options.port, txt: encodeAdvertisement(this.advertisement) };
  }

  /** Joins every usable interface and starts announcing and browsing. Idempotent. */
  start(): Promise<void> {
    if (this.running) return this.lifecycle;
    this.running = true;
    this.lifecycle = this.lifecycle.catch(noop).then(() => this.startNow());
    return this.lifecycle;
  }

  /** Says goodbye on every interface and releases every socket and timer. Idempotent. */
  stop(): Promise<void> {
    if (!this.running) return this.lifecycle.catch(noop);
    this.running = false;
    this.lifecycle = this.lifecycle.catch(noop).then(() => this.stopNow());
    return this.lifecycle;
  }

  /** Changes what we advertise (the data-lane port is now bound, what we serve changed) and re-announces. */
  setAdvertisement(update: Partial<Pick<Advertisement, 'name' | 'port' | 'dataPort' | 'libraryRevision' | 'catalogRevision' | 'swarming' | 'heartbeatMs'>>): void {
    const next: Advertisement = { ...this.advertisement, ...update };
    const published = { port: next.port, txt: encodeAdvertisement(next) };
    // Nothing new to say: no re-announcement (the heartbeat carries the record anyway).
    if (published.port === this.published.port && JSON.stringify(published.txt) === JSON.stringify(this.published.txt)) return;
    this.advertisement = next;
    this.published = published;
    for (const responder of this.responders.values()) responder.publish(published);
  }

  /** Forgets a peer so that its next announcement is reported as new. */
  forget(peerId: PeerId): void {
    const known = this.peers.get(peerId);
    if (!known) return;
    this.peers.delete(peerId);
    this.fqdnOwners.delete(known.fqdn);
  }

  /** Peers currently known from mDNS (not necessarily alive). */
  knownPeers(): PeerInfo[] {
    return [...this.peers.values()].map((known) => ({ ...known.info }));
  }

  /** Interfaces mDNS currently runs on, as `name/address`. */
  activeInterfaces(): string[] {
    return [...this.responders.keys()];
  }

  private async startNow(): Promise<void> {
    await this.syncInterfaces();
    if (!this.running) return;
    if (this.responders.size === 0) this.logger.warn('No usable network interface for mDNS yet; will keep looking');
    this.scheduleRequery(this.settings.requeryIntervalMs, 1);
    this.scheduleHeartbeat();
    this.interfaceTimer = setInterval(() => {
      this.syncInterfaces().catch((error: unknown) => this.logger.warn('mDNS interface check failed', { error: toLanspreadError(error).message }));
    }, this.settings.interfaceCheckIntervalMs);
  }

  private scheduleRequery(delayMs: number, round: number): void {
    if (this.settings.heartbeatIntervalMs > 0 && round > this.settings.heartbeatRequeries) return;
    this.requeryTimer = setTimeout(() => {
      if (!this.running) return;
      for (const responder of this.responders.values()) responder.query();
      this.scheduleRequery(Math.min(delayMs * 2, this.settings.requeryMaxIntervalMs), round + 1);
    }, delayMs);
    this.requeryTimer.unref();
  }

  private scheduleHeartbeat(): void {
    if (this.settings.heartbeatIntervalMs <= 0) return;
    const interval = this.tuneHeartbeat();
    // Jitter keeps a room of peers started together from beating in step (RFC 6762 §5.2 spirit).
    this.heartbeatTimer = setTimeout(() => {
      if (!this.running) return;
      for (const responder of this.responders.values()) responder.heartbeat();
      this.scheduleHeartbeat();
    }, interval * (0.9 + 0.2 * Math.random()));
    this.heartbeatTimer.unref();
  }

  /**
   * The interval for the next beat: the base, doubled while the peers heard lately (their own
   * intervals, or ours) would together send more than the budget. Halved again only with room to
   * spare, so a LAN at a threshold does not flip (each change is re-announced).
   */
  private tuneHeartbeat(): number {
    const base = this.settings.heartbeatIntervalMs;
    const current = this.advertisement.heartbeatMs ?? base;
    const now = this.now();
    let live = 1;
    for (const known of this.peers.values()) if (now - known.heardAt < 3 * Math.max(known.heartbeatMs ?? base, current)) live++;
    const rate = (interval: number) => live / (interval / 1000);
    let next = current;
    while (rate(next) > this.settings.heartbeatBudgetPerSecond) next *= 2;
    while (next > base && rate(next / 2) <= this.settings.heartbeatBudgetPerSecond * 0.75) next /= 2;
    if (next !== current) {
      this.logger.info('mDNS heartbeat interval changed', { intervalMs: next, peersHeard: live - 1 });
      this.setAdvertisement({ heartbeatMs: next });
    }
    return next;
  }

  private async stopNow(): Promise<void> {
    if (this.requeryTimer) clearTimeout(this.requeryTimer);
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.interfaceTimer) clearInterval(this.interfaceTimer);
    this.requeryTimer = this.heartbeatTimer = this.interfaceTimer = null;
    await this.syncing.catch(noop);
    const responders = [...this.responders.values()];
    this.responders.clear();
    await Promise.all(responders.map((responder) => responder.stop()));
    this.peers.clear();
    this.fqdnOwners.clear();
  }

  /** Adds and removes per-interface responders to match the current interfaces. Serialised. */
  private syncInterfaces(): Promise<void> {
    const run = this.syncing.catch(noop).then(() => this.syncNow());
    this.syncing = run;
    return run;
  }

  private async syncNow(): Promise<void> {
    if (!this.running) return;
    let table: InterfaceTable;
    try {
      table = this.listInterfaces();
    } catch (error) {
      this.logger.warn('Cannot list network interfaces', { error: toLanspreadError(error).message });
      return;
    }
    const wanted = new Map(usableIPv4Interfaces(table, this.options.includeLoopback ?? false).map((usable) => [usable.key, usable]));

    const gone = [...this.responders.entries()].filter(([key]) => !wanted.has(key));
    for (const [key] of gone) this.responders.delete(key);
    await Promise.all(gone.map(([key, responder]) => responder.stop().then(() => this.logger.info('mDNS left interface', { interface: key }))));

    for (const [key, usable] of wanted) {
      if (!this.running || this.responders.has(key)) continue;
      const initial = this.published;
      const responder = new InterfaceResponder({
        address: usable.address,
        mdnsPort: this.settings.mdnsPort,
        instanceName: this.instanceName,
        initial,
        announceDelaysMs: this.settings.announceDelaysMs,
        goodbyeTimeoutMs: this.settings.goodbyeTimeoutMs,
        onResponse: (packet, from) => this.onResponse(packet, from),
        logger: this.logger,
      });
      try {
        await responder.start();
      } catch (error) {
        // Left out of the map, so the next interface check tries again.
        this.logger.warn('mDNS cannot use interface', { interface: key, error: toLanspreadError(error).message });
        await responder.stop();
        continue;
      }
      if (!this.running) {
        await responder.stop();
        return;
      }
      // The advertisement may have changed while this responder was binding.
      if (this.published !== initial) responder.publish(this.published);
      this.responders.set(key, responder);
      this.logger.info('mDNS joined interface', { interface: key });
    }
  }

  private onResponse(packet: unknown, from: RemoteInfo): void {
    if (!this.running) return;
    // This runs inside the UDP socket's message handler: anything thrown here (a listener of
    // ours, a bug) would be an uncaught exception that ends the whole process.
    try {
      this.readResponse(packet, from);
    } catch (error) {
      this.logger.error('mDNS packet handling failed', { from: from.address, error: toLanspreadError(error).message });
    }
  }

  private readResponse(packet: unknown, from: RemoteInfo): void {
    const findings = readServicePacket(packet);
    for (const { fqdn, txt } of findings.announced) {
      if (!txt.ok) {
        this.logger.debug('Ignored mDNS advertisement', { from: from.address, fqdn: fqdn.slice(0, 100), reason: txt.reason });
        continue;
      }
      if (txt.advertisement.peerId === this.options.peerId) continue;
      const peer = this.observe(fqdn, txt.advertisement, from.address);
      const { libraryRevision, catalogRevision, swarming, heartbeatMs } = txt.advertisement;
      if (peer) {
        this.emit('peer-heard', {
          peer,
          ...(libraryRevision === undefined ? {} : { libraryRevision }),
          ...(catalogRevision === undefined ? {} : { catalogRevision }),
          ...(swarming === undefined ? {} : { swarming }),
          ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
        });
      }
    }
    for (const fqdn of findings.goodbyes) this.onGoodbye(fqdn, from.address);
  }

  /** Records an announcement; returns the peer as it is now known, or null when ignored. */
  private observe(fqdn: string, ad: Advertisement, host: string): PeerInfo | null {
    const known = this.peers.get(ad.peerId);
    if (!known && this.peers.size >= this.settings.maxPeers) {
      if (!this.warnedFull) this.logger.warn('Too many mDNS peers; ignoring new ones', { max: this.settings.maxPeers });
      this.warnedFull = true;
      return null;
    }
    const info: PeerInfo = {
      peerId: ad.peerId,
      name: ad.name,
      protocolVersion: ad.protocolVersion,
      host,
      port: ad.port,
      ...(ad.dataPort === undefined ? {} : { dataPort: ad.dataPort }),
      source: 'mdns',
    };
    const now = this.now();
    if (!known) {
      this.fqdnOwners.set(fqdn, ad.peerId);
      this.peers.set(ad.peerId, { info, fqdn, hosts: new Set([host]), emittedAt: now, heardAt: now, ...(ad.heartbeatMs === undefined ? {} : { heartbeatMs: ad.heartbeatMs }) });
      this.emit('peer-discovered', { ...info });
      return { ...info };
    }
    known.heardAt = now;
    if (ad.heartbeatMs === undefined) delete known.heartbeatMs;
    else known.heartbeatMs = ad.heartbeatMs;
    if (known.fqdn !== fqdn) {
      this.fqdnOwners.delete(known.fqdn);
      this.fqdnOwners.set(fqdn, ad.peerId);
      known.fqdn = fqdn;
    }
    const restarted = known.info.port !== info.port || known.info.dataPort !== info.dataPort;
    const changed = restarted || known.info.name !== info.name || known.info.protocolVersion !== info.protocolVersion || !known.hosts.has(host);
    // New ports mean a restarted process: the addresses it was seen at before are history.
    if (restarted) known.hosts.clear();
    if (known.hosts.size < MAX_HOSTS_PER_PEER) known.hosts.add(host);
    if (!changed && now - known.emittedAt < this.settings.reemitAfterMs) return { ...known.info };
    known.info = info;
    known.emittedAt = now;
    this.emit('peer-discovered', { ...info });
    return { ...info };
  }

  private onGoodbye(fqdn: string, from: string): void {
    const peerId = this.fqdnOwners.get(fqdn);
    const known = peerId === undefined ? undefined : this.peers.get(peerId);
    if (peerId === undefined || !known) return;
    // Anyone can send a goodbye; only the addresses the peer announced from may retract it.
    if (!known.hosts.delete(from)) return;
    if (known.hosts.size > 0) {
      if (known.info.host !== from) return;
      const [other] = known.hosts;
      if (other === undefined) return;
      known.info = { ...known.info, host: other };
      known.emittedAt = this.now();
      this.emit('peer-discovered', { ...known.info });
      return;
    }
    this.peers.delete(peerId);
    this.fqdnOwners.delete(fqdn);
    this.emit('peer-goodbye', peerId);
  }
}
