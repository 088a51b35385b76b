import { LanspreadError } from '../../../../shared/errors';
import type { PeerId } from '../../../../shared/model';
import type { RateLimiter } from '../../bandwidth/rate-limiter';
import type { PeerIdentity } from '../../identity/identity';
import type { Logger } from '../../util/logger';
import { silentLogger } from '../../util/logger';
import type { ChunkRequest, LaneTarget, PieceSink } from './lane-connection';
import { LaneConnection } from './lane-connection';

export type { ChunkRequest, LaneTarget, PieceSink } from './lane-connection';

export interface DataLaneClientOptions {
  identity: PeerIdentity;
  connectTimeoutMs: number;
  /** Longest silence from a peer while a request to it is outstanding. */
  requestTimeoutMs: number;
  connectionsPerPeer?: number;
  maxInFlightPerConnection?: number;
  /** The runtime's global download limiter; pieces wait for it before reaching the sink. */
  downloadLimiter?: RateLimiter;
  logger?: Logger;
}

export interface FetchOptions {
  signal?: AbortSignal;
}

interface Waiter {
  /** Enqueues the request on the connection it was given (synchronously). */
  run(connection: LaneConnection): void;
  fail(error: LanspreadError): void;
}

interface Pool {
  target: LaneTarget;
  connections: LaneConnection[];
  /** Callers waiting for a free request slot to this peer, first come first served. */
  waiters: Waiter[];
}

/**
 * One connection per peer, its requests pipelined. With two, a flash crowd of 8 spread each
 * pair's bytes over twice the TCP flows at half the rate each, and TCP sizes its packets by a
 * flow's pacing rate: a player's interface passed 48-60 thousand packets each way for 100 MiB
 * (the TLS floor's players 15-17 thousand), with one connection 41-46 thousand, and the room
 * used 12 % less CPU (three runs each), most of it kernel time. Half the flows also means half
 * the congestion window into a player whose ACKs wait behind its own uploads: without the
 * UplinkGuard the last player of 8 then came about a second later. The server answers one
 * connection's requests in order, so a peer holds at most one of a source's upload slots.
 */
const DEFAULT_CONNECTIONS_PER_PEER = 1;
/** The most a download keeps in flight to one source (256 KiB chunks; see SchedulerTuning). */
const DEFAULT_MAX_IN_FLIGHT = 16;

/**
 * Fetches chunk bytes from peers' data lanes. Keeps a small pool of pinned connections per
 * peer address and pipelines requests on them, so the next chunk's bytes are already on the
 * wire while the previous one is written. Callers beyond the pool's capacity wait in order.
 */
export class DataLaneClient {
  private readonly options: DataLaneClientOptions & { connectionsPerPeer: number; maxInFlightPerConnection: number };
  private readonly logger: Logger;
  private readonly pools = new Map<string, Pool>();
  private stopped = false;

  constructor(options: DataLaneClientOptions) {
    this.options = {
      ...options,
      connectionsPerPeer: Math.max(1, options.connectionsPerPeer ?? DEFAULT_CONNECTIONS_PER_PEER),
      maxInFlightPerConnection: Math.max(1, options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT),
    };
    this.logger = (options.logger ?? silentLogger).child('data-lane-client');
  }

  /**
   * Streams the bytes of one slice of a served file to `sink`, piece by piece as they arrive;
   * the next piece waits until the sink's promise settles. Resolves once all `length` bytes
   * went through the sink. Rejects with the peer's error code, or PEER_UNREACHABLE,
   * PEER_FINGERPRINT_MISMATCH, PEER_GONE, REQUEST_TIMEOUT, REQUEST_CANCELLED.
   */
  fetchChunk(target: LaneTarget, request: ChunkRequest, sink: PieceSink, options: FetchOptions = {}): Promise<void> {
    const { signal } = options;
    if (this.stopped) return Promise.reject(new LanspreadError('REQUEST_CANCELLED', 'Data lane client stopped'));
    if (signal?.aborted) return Promise.reject(cancelled());
    const { gameId, path, offset, length } = request;
    const chunk = { gameId, path, offset, length };
    const pool = this.poolFor(target);
    if (pool.waiters.length === 0) {
      const connection = this.pick(pool);
      if (connection) return connection.fetch(chunk, sink, signal);
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = pool.waiters.indexOf(waiter);
        if (index !== -1) pool.waiters.splice(index, 1);
        reject(cancelled());
      };
      const waiter: Waiter = {
        run: (connection) => {
          signal?.removeEventListener('abort', onAbort);
          connection.fetch(chunk, sink, signal).then(resolve, reject);
        },
        fail: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      pool.waiters.push(waiter);
    });
  }

  /** Drops every connection to that peer (it left, or the scheduler gave up on it). */
  closePeer(peerId: PeerId): void {
    for (const [key, pool] of this.pools) {
      if (pool.target.peerId !== peerId) continue;
      this.pools.delete(key);
      this.shutPool(pool, new LanspreadError('PEER_GONE', 'Connections to this peer were closed'));
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const pool of this.pools.values()) this.shutPool(pool, new LanspreadError('REQUEST_CANCELLED', 'Data lane client stopped'));
    this.pools.clear();
  }

  /** Open or opening connections to a peer (for tests and diagnostics). */
  connectionCount(peerId: PeerId): number {
    let count = 0;
    for (const pool of this.pools.values()) if (pool.target.peerId === peerId) count += pool.connections.length;
    return count;
  }

  private poolFor(target: LaneTarget): Pool {
    const key = poolKey(target);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = { target: { ...target }, connections: [], waiters: [] };
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** The least busy connection with a free slot, or a new one while the pool has room. */
  private pick(pool: Pool): LaneConnection | null {
    let best: LaneConnection | null = null;
    for (const connection of pool.connections) {
      if (!connection.usable || connection.inFlight >= this.options.maxInFlightPerConnection) continue;
      if (best === null || connection.inFlight < best.inFlight) best = connection;
    }
    // An idle existing connection beats opening another; a busy one does not while there is room.
    if (best && best.inFlight === 0) return best;
    if (pool.connections.length < this.options.connectionsPerPeer) return this.open(pool);
    return best;
  }

  private open(pool: Pool): LaneConnection {
    const connection = new LaneConnection(pool.target, this.options);
    pool.connections.push(connection);
    connection.onSlotFreed(() => this.wake(pool));
    connection.onClosed(() => {
      const index = pool.connections.indexOf(connection);
      if (index !== -1) pool.connections.splice(index, 1);
      this.wake(pool);
    });
    this.logger.debug('Data lane connecting', { peerId: pool.target.peerId, host: pool.target.host, port: pool.target.dataPort });
    return connection;
  }

  private wake(pool: Pool): void {
    if (this.stopped || this.pools.get(poolKey(pool.target)) !== pool) return;
    while (pool.waiters.length > 0) {
      const connection = this.pick(pool);
      if (!connection) return;
      (pool.waiters.shift() as Waiter).run(connection);
    }
  }

  private shutPool(pool: Pool, reason: LanspreadError): void {
    for (const waiter of pool.waiters.splice(0)) waiter.fail(reason);
    for (const connection of pool.connections.splice(0)) connection.destroy(reason);
  }
}

function poolKey(target: LaneTarget): string {
  return `${target.peerId}@${target.host}:${target.dataPort}`;
}

function cancelled(): LanspreadError {
  return new LanspreadError('REQUEST_CANCELLED', 'Chunk request was cancelled');
}
