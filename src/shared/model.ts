/** The game and peer model shared by the runtime, the wire and the UI. Plain data only. */

import type { GameDescription } from './game-description';

/** Hex SHA-256 fingerprint of a peer's certificate (DER). */
export type PeerId = string;

export interface PeerAddress {
  host: string;
  /** QUIC control-plane UDP port. */
  port: number;
}

export interface PeerInfo extends PeerAddress {
  peerId: PeerId;
  name: string;
  protocolVersion: number;
  /** TLS/TCP data-lane port, once the peer has announced one. */
  dataPort?: number;
  /** How the peer was found. */
  source: 'mdns' | 'manual';
}

/** What a peer announces for each game it can serve: downloaded catalog games, and games it is downloading. */
export interface GameSummary {
  id: string;
  version: string;
  /** Sum of the sizes of the files a downloader would fetch. */
  sizeBytes: number;
  fileCount: number;
  /**
   * SHA-256 (hex) of the manifest's canonical encoding: two peers with the same id serve the
   * same bytes. Absent until the peer has hashed the game; a downloader only mixes sources that
   * announce the same id.
   */
  manifestId?: string;
  /** The peer holds part of the game (it is downloading it) and serves the chunks it has verified. */
  partial?: boolean;
  /** For a game beyond the bundled catalog: what it is and how it starts, as the peer describes it (validated on arrival). */
  description?: GameDescription;
}

/** One file of a game root as served to peers. `path` is relative, '/'-separated. */
export interface GameFileEntry {
  path: string;
  size: number;
  /** SHA-256 (lowercase hex) of each `chunkSize` slice of the file, in order; empty for empty files. */
  chunkHashes: string[];
}

export interface GameManifest {
  gameId: string;
  version: string;
  chunkSize: number;
  files: GameFileEntry[];
}

/**
 * LocalOnly: installed without archives (e.g. a streamed install): playable here, never served.
 * Ready: downloaded archives present: can be installed and served.
 * None: nothing of the game is on this machine.
 */
export type LocalAvailability = 'Ready' | 'LocalOnly' | 'None';

/** What the library scan knows about one game root on this machine. */
export interface LocalGameState {
  id: string;
  /** A regular root-level version.ini exists. */
  downloaded: boolean;
  /** `local/` is a directory. */
  installed: boolean;
  /** Version from the root version.ini; null when not downloaded. */
  version: string | null;
  /** Version recorded when local/ was last installed (from the state directory), if known. */
  installedVersion: string | null;
  /** Bytes of the files that would be served (archives + version.ini). */
  sizeBytes: number;
  availability: LocalAvailability;
}
