import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { AvailabilityChange, SourceAvailability } from '../download/types';
import type { PeerIdentity } from '../identity/identity';
import { ByteReader, encodeFrame } from '../protocol/codec';
import type { HaveEndReason } from '../protocol/have';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../protocol/messages';
import { parseHaveFrame } from '../protocol/validate';
import type { LaneTarget } from '../transport/data-lane/lane-connection';
import { connectPinned } from '../transport/data-lane/lane-stream';
import type { Logger } from '../util/logger';
import { HaveMap } from './have-map';

export interface HaveSubscriptionOptions {
  identity: PeerIdentity;
  connectTimeoutMs: number;
  /** Longest silence from the peer (it sends a keep-alive well within this). */
  idleTimeoutMs: number;
  /** Pause before the first reconnect after a lost connection; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  logger: Logger;
}

/**
 * What a partial peer holds, kept current over a SubscribeHave connection to it: the have-map
 * it sends first, then each batch of chunks it verifies. Serves the scheduler as the source's
 * availability. A lost connection is re-opened (the map is kept meanwhile: a chunk it no
 * longer holds costs one CHUNK_NOT_AVAILABLE); the subscription ends when the peer completes
 * (then it holds everything) or withdraws, or on close().
 */
export class HaveSubscription implements SourceAvailability {
  private readonly map: HaveMap;
  private readonly fetching = new Set<number>();
  private full = false;
  private closed = false;
  private socket: TLSSocket | null = null;
  private readonly listeners = new Set<(change: AvailabilityChange | 'all') => void>();
  private readonly endListeners = new Set<(reason: HaveEndReason) => void>();
  private readonly openListeners = new Set<() => void>();
  private opened = false;
  private readonly stop = new AbortController();

  constructor(
    private readonly target: LaneTarget,
    private readonly gameId: string,
    private readonly manifestId: string,
    chunkCount: number,
    private readonly options: HaveSubscriptionOptions,
  ) {
    this.map = new HaveMap(chunkCount);
  }

  /** Runs until the subscription ends; never rejects. */
  start(): void {
    void this.loop();
  }

  has(chunkId: number): boolean {
    return this.full || this.map.has(chunkId);
  }

  isFetching(chunkId: number): boolean {
    return !this.full && this.fetching.has(chunkId);
  }

  get held(): number {
    return this.full ? this.map.size : this.map.count;
  }

  onChange(listener: (change: AvailabilityChange | 'all') => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once: 'complete' (it holds the whole game now) or 'withdrawn' (it stopped sharing it, or cannot be reached with this manifest). */
  onEnd(listener: (reason: HaveEndReason) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /** Called once, when the peer first answered with its have-map (it shares this manifest) or with HaveEnd(complete) (it serves the game whole). */
  onOpen(listener: () => void): void {
    if (this.opened) listener();
    else if (!this.closed) this.openListeners.add(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    this.socket?.destroy();
    this.listeners.clear();
    this.endListeners.clear();
    this.openListeners.clear();
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    for (const listener of this.openListeners) listener();
    this.openListeners.clear();
  }

  private async loop(): Promise<void> {
    let pause = this.options.retryMs ?? 1_000;
    while (!this.closed) {
      try {
        const ended = await this.session(() => (pause = this.options.retryMs ?? 1_000));
        return this.end(ended);
      } catch (error) {
        if (this.closed) return;
        const coded = toLanspreadError(error);
        // The peer says it does not share this manifest (any more): nothing to wait for.
        if (coded.code === 'GAME_NOT_SERVED' || coded.code === 'UNKNOWN_MESSAGE_TYPE') return this.end('withdrawn');
        this.options.logger.debug('have subscription lost; reconnecting', { peerId: this.target.peerId.slice(0, 12), code: coded.code, retryInMs: pause });
        await sleep(pause, undefined, { signal: this.stop.signal }).catch(() => undefined);
        pause = Math.min(this.options.maxRetryMs ?? 15_000, pause * 2);
      }
    }
  }

  /** One connection: resolves with how the subscription ended, rejects when the connection fails. */
  private async session(onFirstFrame: () => void): Promise<HaveEndReason> {
    const socket = await connectPinned(this.target, { identity: this.options.identity, connectTimeoutMs: this.options.connectTimeoutMs, signal: this.stop.signal });
    this.socket = socket;
    socket.setTimeout(this.options.idleTimeoutMs, () => socket.destroy(new LanspreadError('REQUEST_TIMEOUT', `No have update from the peer for ${this.options.idleTimeoutMs} ms`)));
    const reader = new ByteReader(socket);
    try {
      socket.write(encodeFrame({ type: 'SubscribeHave', gameId: this.gameId, manifestId: this.manifestId }, MAX_REQUEST_BYTES));
      for (;;) {
        const raw = await reader.readFrame(MAX_RESPONSE_BYTES);
        if (raw === null) throw new LanspreadError('PEER_GONE', 'The peer closed the have subscription');
        const frame = parseHaveFrame(raw);
        onFirstFrame();
        switch (frame.type) {
          case 'HaveMap':
            if (frame.chunks !== this.map.size) throw new LanspreadError('MALFORMED_MESSAGE', `Have-map of ${frame.chunks} chunks for a manifest of ${this.map.size}`);
            this.open();
            this.add(HaveMap.fromBase64(frame.chunks, frame.bits), frame.chunks);
            break;
          case 'Have':
            this.update(frame.ids, frame.fetching ?? [], frame.abandoned ?? []);
            break;
          case 'HaveEnd':
            return frame.reason;
          case 'Error':
            throw new LanspreadError(frame.code, `Peer: ${frame.message}`);
          default: {
            const unknown: never = frame;
            throw new LanspreadError('STREAM_PROTOCOL_VIOLATION', `Unexpected have frame ${JSON.stringify(unknown)}`);
          }
        }
      }
    } finally {
      socket.destroy();
      this.socket = null;
    }
  }

  private add(received: HaveMap, size: number): void {
    const ids: number[] = [];
    for (let id = 0; id < size; id++) if (received.has(id)) ids.push(id);
    this.update(ids, [], []);
  }

  /** Applies one frame's news; listeners hear each id once per change of its state. */
  private update(haveIds: readonly number[], fetchingIds: readonly number[], abandonedIds: readonly number[]): void {
    const have = haveIds.filter((id) => this.map.set(id));
    const unfetched = [...have, ...abandonedIds].filter((id) => this.fetching.delete(id));
    const fetching = fetchingIds.filter((id) => id < this.map.size && !this.map.has(id) && !this.fetching.has(id) && (this.fetching.add(id), true));
    if (this.full || have.length + fetching.length + unfetched.length === 0) return;
    for (const listener of this.listeners) listener({ have, fetching, unfetched });
  }

  private end(reason: HaveEndReason): void {
    if (this.closed) return;
    if (reason === 'complete') {
      this.open();
      this.full = true;
      this.fetching.clear();
      for (const listener of this.listeners) listener('all');
    }
    for (const listener of this.endListeners) listener(reason);
    this.close();
  }
}
