import type { PeerId } from '../../../shared/model';

/** One slice of one served file, as a source is asked for it. */
export interface ChunkRequest {
  gameId: string;
  path: string;
  offset: number;
  length: number;
}

/**
 * Receives a chunk's bytes piece by piece; the next piece waits until the returned promise
 * settles. A piece may be a view of a buffer the source reuses: valid only during the call.
 */
export type PieceSink = (piece: Uint8Array) => void | Promise<void>;

/**
 * Anything that can deliver chunk bytes of one game version: a peer's data lane in the runtime,
 * a seed directory in tests. The engine never knows which lane carries the bytes.
 * `fetchChunk` resolves once `length` bytes went through the sink and rejects with a coded
 * error (PEER_GONE, REQUEST_TIMEOUT, ...) or REQUEST_CANCELLED when `signal` aborts.
 */
export interface ChunkSource {
  readonly peerId: PeerId;
  readonly name: string;
  fetchChunk(request: ChunkRequest, sink: PieceSink, signal: AbortSignal): Promise<void>;
  /** Which chunks the source holds, for a partial source (a peer downloading the game itself); absent = all of them. */
  readonly availability?: SourceAvailability;
}

/** What a partial source holds, kept current as it announces more (swarm/have-subscription.ts). */
export interface SourceAvailability {
  /** Chunk ids are plan ids (`PlannedChunk.id`): positions in the manifest's chunk order. */
  has(chunkId: number): boolean;
  /** It is fetching the chunk right now (it will likely hold it soon). */
  isFetching(chunkId: number): boolean;
  /** What changed, each id once per change of its state; 'all' once it holds the whole game. Returns an unsubscribe. */
  onChange(listener: (change: AvailabilityChange | 'all') => void): () => void;
}

export interface AvailabilityChange {
  /** Newly held. */
  have?: readonly number[];
  /** Newly being fetched. */
  fetching?: readonly number[];
  /** No longer being fetched (now held, or given up). */
  unfetched?: readonly number[];
}

/** One chunk of the plan: a `chunkSize` slice of a manifest file with its expected SHA-256. */
export interface PlannedChunk {
  /** Position in the plan's chunk list. */
  id: number;
  fileIndex: number;
  chunkIndex: number;
  path: string;
  offset: number;
  length: number;
  /** SHA-256, lowercase hex. */
  hash: string;
}

/** Tries per chunk after its first attempt, across sources, before the download gives up. */
export const MAX_RETRY_COUNT = 5;

/** Bad chunks a source may send before it is dropped for the rest of the download. */
export const MAX_BAD_CHUNKS_PER_SOURCE = 3;

/** The root file whose presence means "downloaded"; written last. */
export const SENTINEL_FILE = 'version.ini';
