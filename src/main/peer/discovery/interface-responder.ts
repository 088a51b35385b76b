import type { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import Bonjour from 'bonjour-service';
import { LanspreadError } from '../../../shared/errors';
import type { Logger } from '../util/logger';
import { SERVICE_PROTOCOL, SERVICE_PTR_NAME, SERVICE_TYPE } from './service-packet';

/** The parts of multicast-dns (inside bonjour-service) we drive directly. */
interface MulticastDns extends EventEmitter {
  query(name: string, type: string, callback?: (error?: Error | null) => void): void;
  respond(records: DnsRecord[], callback?: (error?: Error | null) => void): void;
  destroy(callback?: () => void): void;
}

export interface PublishedService {
  /** SRV port: the QUIC control-plane port. */
  port: number;
  txt: Record<string, string>;
}

interface DnsRecord {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

/** bonjour-service 1.4.4 keeps its responder private; we need it for error events and packets. */
interface BonjourInternals {
  server?: { mdns?: MulticastDns; register?: (records: DnsRecord[]) => void; unregister?: (records: DnsRecord[]) => void };
}

export interface InterfaceResponderOptions {
  /** IPv4 address of the interface to join the multicast group on and send from. */
  address: string;
  /** 5353 in production; tests use a private port so parallel runs cannot hear each other. */
  mdnsPort: number;
  /** DNS-SD instance label; must be unique per peer on the LAN. */
  instanceName: string;
  /** What to advertise first; publish() replaces it. */
  initial: PublishedService;
  /** Unsolicited announcements after (re)publishing (RFC 6762 §8.3: at least two, 1 s apart). */
  announceDelaysMs: readonly number[];
  /** Upper bound for sending the goodbye on stop (the interface may already be gone). */
  goodbyeTimeoutMs: number;
  onResponse: (packet: unknown, from: RemoteInfo) => void;
  logger: Logger;
}

const noop = (): void => undefined;

/**
 * One bonjour-service instance bound to one interface: answers queries for our service,
 * announces it, queries for others and says goodbye. Announcing is done here, not with
 * bonjour.publish(), because the library's re-announce timers outlive destroy().
 */
export class InterfaceResponder {
  private readonly bonjour: Bonjour;
  private readonly mdns: MulticastDns;
  private readonly server: Required<NonNullable<BonjourInternals['server']>>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private records: DnsRecord[] = [];
  private stopping: Promise<void> | null = null;
  private readonly ready: Promise<void>;

  constructor(private readonly options: InterfaceResponderOptions) {
    const log = options.logger;
    // bind 0.0.0.0 is required: bound to the interface address, Linux never delivers multicast.
    const config = { interface: options.address, bind: '0.0.0.0', port: options.mdnsPort } as unknown as ConstructorParameters<typeof Bonjour>[0];
    this.bonjour = new Bonjour(config, (error: Error) => log.debug('mDNS send failed', { address: options.address, error: error.message }));
    const server = (this.bonjour as unknown as BonjourInternals).server;
    if (!server?.mdns || typeof server.register !== 'function' || typeof server.unregister !== 'function') {
      throw new LanspreadError('INTERNAL', 'bonjour-service internals changed: mDNS responder not found (expected version 1.4.x)');
    }
    this.server = server as Required<NonNullable<BonjourInternals['server']>>;
    this.mdns = server.mdns;
    this.ready = new Promise<void>((resolve, reject) => {
      this.mdns.once('ready', resolve);
      this.mdns.once('error', reject);
    });
    // Unhandled, an 'error' event (EADDRINUSE, EACCES) would crash the whole process.
    this.mdns.on('error', (error: Error) => log.warn('mDNS socket error', { address: options.address, error: error.message }));
    this.mdns.on('warning', (error: Error) => log.debug('mDNS warning', { address: options.address, error: error.message }));
    this.mdns.on('response', (packet: unknown, from: RemoteInfo) => options.onResponse(packet, from));
    this.ready.catch(noop);
  }

  /** Resolves once the socket is bound and the service announced; rejects if it cannot bind. */
  async start(): Promise<void> {
    await this.ready;
    this.publish(this.options.initial);
    this.query();
  }

  query(): void {
    if (this.stopping) return;
    this.mdns.query(SERVICE_PTR_NAME, 'PTR', noop);
  }

  /**
   * Re-sends the smallest packet that still names the service: its PTR and TXT records (the
   * liveness heartbeat, about 300 bytes). Peers hear it instead of pinging us, so an idle LAN
   * carries one such packet per peer and interval, whatever its size.
   */
  heartbeat(): void {
    if (this.stopping) return;
    const beat = this.records.filter((record) => (record.type === 'PTR' && record.name === SERVICE_PTR_NAME) || record.type === 'TXT');
    if (beat.length > 0) this.mdns.respond(beat, noop);
  }

  /** Replaces the advertised TXT (e.g. the data-lane port became known) and re-announces. */
  publish({ port, txt }: PublishedService): void {
    if (this.stopping) return;
    if (this.records.length > 0) this.server.unregister(this.records);
    const service = new Bonjour.Service(
      {
        name: this.options.instanceName,
        type: SERVICE_TYPE,
        protocol: SERVICE_PROTOCOL,
        port,
        // A host name per peer, not os.hostname(): peers sharing a machine must not collide.
        host: `${this.options.instanceName}.local`,
        txt,
      },
      noop,
      noop,
    );
    this.records = service.records() as DnsRecord[];
    this.server.register(this.records);
    for (const delay of this.options.announceDelaysMs) this.later(delay, () => this.mdns.respond(this.records, noop));
  }

  /** Sends the goodbye (TTL 0) and closes the socket. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.goodbyeAndClose();
    return this.stopping;
  }

  private async goodbyeAndClose(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const bound = await this.ready.then(
      () => true,
      () => false,
    );
    if (bound && this.records.length > 0) {
      // The DNS-SD meta PTR is shared by every Lanspread peer on this host: do not retract it.
      const goodbye = this.records.filter((record) => record.name !== '_services._dns-sd._udp.local').map((record) => ({ ...record, ttl: 0 }));
      this.server.unregister(this.records);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.goodbyeTimeoutMs);
        this.mdns.respond(goodbye, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      try {
        this.mdns.destroy(resolve);
      } catch (error) {
        // A socket that never bound can refuse to close; there is nothing left to release.
        this.options.logger.debug('mDNS close failed', { address: this.options.address, error: (error as Error).message });
        resolve();
      }
    });
    this.mdns.removeAllListeners('response');
  }

  private later(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopping) run();
    }, delayMs);
    this.timers.add(timer);
  }
}
