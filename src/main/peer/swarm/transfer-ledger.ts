import type { PeerId } from '../../../shared/model';

/**
 * Bytes this peer has exchanged since it started: sent per game and to each peer, received
 * from each peer. One owner for these counters; the request handler feeds uploads, downloads
 * feed what they receive, and the faces read them (progress, the Peers page, the CLI).
 */
export class TransferLedger {
  private sent = 0;
  private readonly sentPerGame = new Map<string, number>();
  private readonly sentTo = new Map<PeerId, number>();
  private readonly receivedFrom = new Map<PeerId, number>();
  private received = 0;

  uploaded(bytes: number, gameId?: string, to?: PeerId): void {
    this.sent += bytes;
    if (gameId !== undefined) this.sentPerGame.set(gameId, (this.sentPerGame.get(gameId) ?? 0) + bytes);
    if (to !== undefined) this.sentTo.set(to, (this.sentTo.get(to) ?? 0) + bytes);
  }

  downloaded(bytes: number, from: PeerId): void {
    this.received += bytes;
    this.receivedFrom.set(from, (this.receivedFrom.get(from) ?? 0) + bytes);
  }

  /** Every byte of chunks and streamed installs served. */
  get uploadedTotal(): number {
    return this.sent;
  }

  /** Every byte of chunks received. */
  get downloadedTotal(): number {
    return this.received;
  }

  uploadedFor(gameId: string): number {
    return this.sentPerGame.get(gameId) ?? 0;
  }

  /** Bytes sent to and received from one peer. */
  withPeer(peerId: PeerId): { uploaded: number; downloaded: number } {
    return { uploaded: this.sentTo.get(peerId) ?? 0, downloaded: this.receivedFrom.get(peerId) ?? 0 };
  }
}
