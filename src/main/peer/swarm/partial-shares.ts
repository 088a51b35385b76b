import { LanspreadError } from '../../../shared/errors';
import type { GameManifest, GameSummary } from '../../../shared/model';
import type { HaveEndReason } from '../protocol/have';
import { HaveMap } from './have-map';

/** What a running download offers to share: its manifest and where each verified chunk lies. */
export interface ShareableDownload {
  gameId: string;
  manifest: GameManifest;
  manifestId: string;
  /** Every chunk of the manifest, in chunk-id order. */
  chunks: ReadonlyArray<{ id: number; fileIndex: number; offset: number; length: number }>;
  /** Absolute file of each manifest entry (inside the game root, checked by the download plan). */
  targets: readonly string[];
  /** The root version.ini is held in memory until the download commits. */
  sentinelIndex: number;
  sentinelBytes(): Uint8Array;
}

export type HaveEvent = { type: 'have' | 'fetching' | 'abandoned'; id: number } | { type: 'end'; reason: HaveEndReason };

/** Where a verified chunk's bytes are: a file range on disk, or (version.ini) in memory. */
export type ChunkLocation = { file: string; offset: number; length: number } | { bytes: Uint8Array };

/**
 * One game this peer is downloading and already serves in part: the chunks it has verified
 * against the manifest (and written to disk) and nothing else. Its have-map is fed by the
 * download as chunks verify; subscribers (SubscribeHave connections) hear each new chunk.
 */
export class PartialShare {
  readonly have: HaveMap;
  /** Chunks the download is fetching right now (told to subscribers, so others do not fetch them from a seed too). */
  readonly fetching = new Set<number>();
  private readonly listeners = new Set<(event: HaveEvent) => void>();
  private endedFor: HaveEndReason | null = null;
  private everHeld = false;
  /** Per manifest path: its file index and the id of its first chunk (requests are looked up per chunk). */
  private readonly files = new Map<string, { fileIndex: number; firstChunk: number }>();

  constructor(
    readonly download: ShareableDownload,
    private readonly onEnd: (share: PartialShare) => void,
    /** The first chunk was verified: from now on the share has something to offer. */
    private readonly onFirstChunk: (share: PartialShare) => void = () => undefined,
  ) {
    this.have = new HaveMap(download.chunks.length);
    download.manifest.files.forEach((file, fileIndex) => this.files.set(file.path, { fileIndex, firstChunk: -1 }));
    for (const chunk of download.chunks) {
      const entry = this.files.get(download.manifest.files[chunk.fileIndex]?.path ?? '');
      if (entry && entry.firstChunk < 0) entry.firstChunk = chunk.id;
    }
  }

  get gameId(): string {
    return this.download.gameId;
  }

  get manifestId(): string {
    return this.download.manifestId;
  }

  get ended(): boolean {
    return this.endedFor !== null;
  }

  /** A chunk was verified and is on disk (or, for version.ini, in memory): it may be served from now on. */
  markHave(id: number): void {
    this.fetching.delete(id);
    if (this.endedFor || !this.have.set(id)) return;
    if (!this.everHeld) {
      this.everHeld = true;
      this.onFirstChunk(this);
    }
    this.tell({ type: 'have', id });
  }

  /**
   * Listed in our game list from its first verified chunk on (the room re-lists a peer whose
   * list changed, so an empty share would cost every peer a round trip for nothing), and
   * still listed if a chunk later goes missing on disk.
   */
  get listed(): boolean {
    return this.everHeld;
  }

  /** The download asked a source for this chunk. */
  markFetching(id: number): void {
    if (this.endedFor || this.have.has(id) || this.fetching.has(id)) return;
    this.fetching.add(id);
    this.tell({ type: 'fetching', id });
  }

  /** The download stopped fetching this chunk without getting it (it goes back to its queue). */
  markAbandoned(id: number): void {
    if (this.endedFor || !this.fetching.delete(id)) return;
    this.tell({ type: 'abandoned', id });
  }

  private tell(event: HaveEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** A chunk no longer checks out on disk: it is not served again (subscribers simply never hear of it twice). */
  markMissing(id: number): void {
    this.have.clear(id);
  }

  /** Stops serving at once: withdrawn (cancel, failure) or complete (the game is now served whole). */
  end(reason: HaveEndReason): void {
    if (this.endedFor) return;
    this.endedFor = reason;
    for (const listener of this.listeners) listener({ type: 'end', reason });
    this.listeners.clear();
    this.onEnd(this);
  }

  subscribe(listener: (event: HaveEvent) => void): () => void {
    if (this.endedFor) {
      listener({ type: 'end', reason: this.endedFor });
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  summary(): GameSummary {
    const { manifest, manifestId } = this.download;
    const sizeBytes = manifest.files.reduce((sum, file) => sum + file.size, 0);
    return { id: manifest.gameId, version: manifest.version, sizeBytes, fileCount: manifest.files.length, manifestId, partial: true };
  }

  /**
   * The verified chunk at exactly `path`, `offset`, `length` (downloaders ask for whole
   * chunks). Anything else, and a chunk not (or no longer) held, is CHUNK_NOT_AVAILABLE: a
   * partial peer never serves a byte it has not verified.
   */
  locate(path: string, offset: number, length: number): ChunkLocation {
    const { manifest, chunks, targets, sentinelIndex } = this.download;
    const file = this.files.get(path);
    const chunkIndex = offset / manifest.chunkSize;
    const chunk = file && file.firstChunk >= 0 && Number.isInteger(chunkIndex) ? chunks[file.firstChunk + chunkIndex] : undefined;
    const fileIndex = file?.fileIndex ?? -1;
    if (this.endedFor || !chunk || chunk.fileIndex !== fileIndex || chunk.offset !== offset || chunk.length !== length || !this.have.has(chunk.id)) {
      throw new LanspreadError('CHUNK_NOT_AVAILABLE', `This peer does not hold ${path}@${offset}+${length} (yet)`);
    }
    if (fileIndex === sentinelIndex) return { bytes: this.download.sentinelBytes().subarray(offset, offset + length) };
    return { file: targets[fileIndex] as string, offset, length };
  }
}

/**
 * The games this peer is downloading and serves in part, one share per game. When the set
 * changes the runtime tells the room (swarm/served-revision.ts: a swarm change).
 */
export class PartialShares {
  private readonly shares = new Map<string, PartialShare>();

  /** `onChanged` runs after a share opened or ended (the runtime tells the room). */
  constructor(private readonly onChanged: () => void = () => undefined) {}

  /** Starts sharing a download; an older share of the same game is withdrawn first. */
  open(download: ShareableDownload): PartialShare {
    this.shares.get(download.gameId)?.end('withdrawn');
    const changed = () => this.onChanged();
    const share = new PartialShare(
      download,
      (ended) => {
        if (this.shares.get(ended.gameId) !== ended) return;
        this.shares.delete(ended.gameId);
        // Withdrawn at once where it was listed; one never listed was never heard of.
        if (ended.listed) changed();
      },
      (first) => this.shares.get(first.gameId) === first && changed(),
    );
    this.shares.set(download.gameId, share);
    return share;
  }

  /** A download runs here (each one opens its share when it starts, listed or not yet). */
  get downloading(): boolean {
    return this.shares.size > 0;
  }

  get(gameId: string): PartialShare | undefined {
    return this.shares.get(gameId);
  }

  /** The shares with something to offer (a download that has verified nothing yet is not listed). */
  summaries(): GameSummary[] {
    return [...this.shares.values()].filter((share) => share.listed).map((share) => share.summary());
  }

  /** Shutdown: every share is withdrawn. */
  endAll(): void {
    for (const share of [...this.shares.values()]) share.end('withdrawn');
  }
}
