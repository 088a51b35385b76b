import type { ErrorCode } from '../../../shared/errors';

/**
 * SubscribeHave: a downloader asks a partial peer (one that is itself downloading the game) on
 * a fresh data-lane connection which chunks it holds. The peer answers with frames until it
 * has the whole game or stops sharing it:
 *
 *   HaveMap · Have* · HaveEnd        or, at any point, Error
 *
 * Chunk ids are positions in the manifest's chunk order (files in manifest order, each file's
 * chunks in offset order), the same on both sides because both hold the same manifest id.
 * Have frames are batched (at most a few per second) and also sent empty as a keep-alive. They
 * also say which chunks the peer is fetching right now and which it gave up fetching: others
 * count a chunk on its way as nearly held, so a crowd does not ask a seed for the same chunk
 * twice (the rarest-first of a swarm, with requests in flight counted).

/** Chunk ids in one Have frame; a larger batch is split. */
export const MAX_HAVE_IDS = 65_536;

export type HaveEndReason =
  /** The peer now holds every chunk and serves the game as a full source. */
  | 'complete'
  /** The peer stopped sharing the game (its download was cancelled or failed). */
  | 'withdrawn';

export type HaveFrame =
  /** `bits`: base64 bitset over `chunks` chunk ids, bit i of byte i>>3, least significant first. */
  | { type: 'HaveMap'; chunks: number; bits: string }
  | { type: 'Have'; ids: number[]; fetching?: number[]; abandoned?: number[] }
  | { type: 'HaveEnd'; reason: HaveEndReason }
  | { type: 'Error'; code: ErrorCode; message: string };
