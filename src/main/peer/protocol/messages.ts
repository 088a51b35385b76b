import type { ErrorCode } from '../../../shared/errors';
import type { GameManifest, GameSummary, PeerId } from '../../../shared/model';

/** Bumped on any incompatible change to the messages below. Peers refuse other versions. 2: SHA-256 chunk hashes, manifest ids, partial peers. */
export const PROTOCOL_VERSION = 2;

/** A request frame is small; anything larger is hostile or broken. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Manifests of very large games are the biggest responses (about 12 bytes per chunk). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Largest chunk a peer will send for one GetChunk request. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

export interface HelloBody {
  protocolVersion: number;
  peerId: PeerId;
  name: string;
  /** QUIC control port the sender listens on (so the receiver can call back). */
  port: number;
  /** TLS/TCP data-lane port, when the sender runs one. */
  dataPort?: number;
  /** Revision of what the sender serves (as Pong carries it), so its first listing is not repeated. */
  libraryRevision?: number;
}

export type Request =
  | ({ type: 'Hello' } & HelloBody)
  | { type: 'Ping' }
  /** The sender's game list changed (it started or finished downloading one, say): re-list it now rather than at the next ping. Answered by Pong. */
  | { type: 'Announce'; libraryRevision: number }
  | { type: 'ListGames' }
  | { type: 'GetGame'; gameId: string }
  /** Raw bytes of one slice of a served file; answered by a ChunkHeader frame then `length` bytes. */
  | { type: 'GetChunk'; gameId: string; path: string; offset: number; length: number }
  /** Data lane only: answered by StreamInstallFrames (protocol/stream-install.ts), then the connection closes. */
  | { type: 'StreamInstall'; gameId: string; version: string }
  /** Data lane only: which chunks a partial peer holds, then each chunk it verifies (HaveFrames, protocol/have.ts) until it ends. */
  | { type: 'SubscribeHave'; gameId: string; manifestId: string };

export type Response =
  | ({ type: 'Hello' } & HelloBody)
  /** `libraryRevision` changes whenever the peer's game list does, so pingers know to re-list. */
  | { type: 'Pong'; libraryRevision: number }
  | { type: 'Games'; games: GameSummary[] }
  | { type: 'Game'; manifest: GameManifest }
  | { type: 'ChunkHeader'; length: number }
  /** Data lane: the request waits for an upload slot; sent every few seconds so the client knows the peer is alive. */
  | { type: 'Queued' }
  | { type: 'Error'; code: ErrorCode; message: string };

export type RequestType = Request['type'];
export type ResponseType = Response['type'];
