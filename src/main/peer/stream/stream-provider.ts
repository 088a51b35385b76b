import type { StreamEntryKind } from '../protocol/stream-install';

/**
 * The archive-specific half of a streamed install, on the sending peer. The peer core (transport,
 * framing, lifecycle) asks a provider for the installed content of a game as one ordered
 * sequence of items and writes each to the wire before it pulls the next, so a provider that
 * produces on demand gets backpressure from the receiver's disk all the way back.
 */

export interface StreamSource {
  gameId: string;
  /** Absolute paths of the first volume of each archive set, in install order. */
  archives: string[];
  password?: string;
}

export type ProvidedItem =
  /** Totals from the archive headers, before any content. */
  | { type: 'begin'; entries: number; totalBytes: number }
  | { type: 'entry'; path: string; kind: StreamEntryKind; size: number }
  /** Content of the current file entry; valid until the next pull. */
  | { type: 'data'; bytes: Uint8Array }
  /** The current file entry is complete; CRC32 of the bytes the provider produced for it. */
  | { type: 'entry-end'; crc32: number }
  | { type: 'end'; files: number; directories: number; bytes: number };

export interface StreamInstallProvider {
  /**
   * Starts producing. Breaking out of the iteration (or `signal`) stops the provider and frees
   * what it holds; a failure rejects the pending pull with a coded LanspreadError.
   */
  open(source: StreamSource, signal?: AbortSignal): AsyncIterable<ProvidedItem>;
}
