import type { PeerId } from '../../../../shared/model';

/** One chunk as asked for: its game, and its bytes (the range's length). */
export interface UploadedChunk {
  key: string;
  gameId: string;
  bytes: number;
}

/**
 * Which chunks this peer sent lately, and to whom: the memory behind super-seeding. A peer
 * that sent a chunk to one peer moments ago does not send it again to another while the room
 * still lacks something this peer has; the first peer passes it on, and the upload goes to a
 * chunk the room does not have yet (BitTorrent's super-seeding, BEP 16, done by refusing
 * repeats rather than by hiding pieces). It also counts, per game, the distinct bytes sent
 * within the window: once that is the whole game, the room holds everything this peer had to
 * give, and repeats help the players furthest behind. Bounded: old entries go first.
 */
export class RecentUploads {
  private readonly sent = new Map<string, { to: PeerId; at: number; gameId: string; bytes: number }>();
  private readonly distinct = new Map<string, number>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether a peer other than `peerId` got this chunk within the window. */
  sentElsewhere(key: string, peerId: PeerId): boolean {
    const entry = this.sent.get(key);
    return entry !== undefined && entry.to !== peerId && this.now() - entry.at < this.windowMs;
  }

  /** Bytes of `gameId` sent within the window, each chunk counted once. */
  distinctBytes(gameId: string): number {
    this.expire();
    return this.distinct.get(gameId) ?? 0;
  }

  /** The send to `peerId` did not complete: it does not count. */
  forget(key: string, peerId: PeerId): void {
    const entry = this.sent.get(key);
    if (entry?.to === peerId) this.remove(key, entry);
  }

  /**
   * `peerId` left the room: what it got cannot be passed on by it any more, so those chunks are
   * no longer repeats, and their bytes no longer count as given to the room.
   */
  forgetPeer(peerId: PeerId): void {
    for (const [key, entry] of this.sent) if (entry.to === peerId) this.remove(key, entry);
  }

  record(chunk: UploadedChunk, peerId: PeerId): void {
    const known = this.sent.get(chunk.key);
    if (known) this.remove(chunk.key, known);
    this.sent.set(chunk.key, { to: peerId, at: this.now(), gameId: chunk.gameId, bytes: chunk.bytes });
    this.distinct.set(chunk.gameId, (this.distinct.get(chunk.gameId) ?? 0) + chunk.bytes);
    this.expire();
  }

  /** Insertion order is age order: drops the oldest past the bound or the window. */
  private expire(): void {
    const at = this.now();
    for (const [oldest, entry] of this.sent) {
      if (this.sent.size <= this.maxEntries && at - entry.at < this.windowMs) break;
      this.remove(oldest, entry);
    }
  }

  private remove(key: string, entry: { gameId: string; bytes: number }): void {
    this.sent.delete(key);
    const left = (this.distinct.get(entry.gameId) ?? 0) - entry.bytes;
    if (left > 0) this.distinct.set(entry.gameId, left);
    else this.distinct.delete(entry.gameId);
  }
}
