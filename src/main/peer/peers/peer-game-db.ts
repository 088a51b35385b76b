import type { GameDescription } from '../../../shared/game-description';
import type { GameManifest, GameSummary, PeerId, PeerInfo } from '../../../shared/model';
import { compareVersions } from '../../../shared/version';

/**
 * What the LAN offers: every live peer, the games each announces, and the manifests fetched
 * from them. Pure in-memory state; discovery, liveness and requests feed it.
 */

export interface PeerRecord {
  info: PeerInfo;
  games: GameSummary[];
  /** Library revision the peer reported with its last game list (see Pong). */
  libraryRevision: number;
  /** The catalog part of that revision as its mDNS record gave it (swarm/served-revision.ts); unknown until heard. */
  catalogRevision?: number;
  /** Its mDNS record says it shares a game it is downloading or downloaded in this run (not all of that is listed here). */
  swarming: boolean;
  manifests: Map<string, GameManifest>;
  lastSeenMs: number;
  rttMs: number | null;
}

export interface RemoteGame {
  id: string;
  latestVersion: string;
  /** Size of the latest version as its sources report it. */
  sizeBytes: number;
  /** Peers that serve the latest version (whole or, while downloading it, partly). */
  sources: PeerId[];
  /** Of those, the ones that hold only part of it. */
  partialSources: PeerId[];
  /** Every peer that has the game, whatever version. */
  holders: PeerId[];
  /** Sources of the latest version announce different manifests (different bytes): a download takes only one set. */
  manifestConflict: boolean;
  /**
   * How peers describe a game beyond the catalog: each distinct description once, with the
   * peers announcing it, most announced first. Two or more entries are a conflict to show.
   */
  descriptions: DescribedBy[];
}

export interface DescribedBy {
  description: GameDescription;
  peers: PeerId[];
}

export class PeerGameDB {
  private readonly peers = new Map<PeerId, PeerRecord>();

  upsertPeer(info: PeerInfo, nowMs: number): { added: boolean; record: PeerRecord } {
    const existing = this.peers.get(info.peerId);
    if (existing) {
      existing.info = { ...existing.info, ...info };
      existing.lastSeenMs = nowMs;
      return { added: false, record: existing };
    }
    const record: PeerRecord = { info, games: [], libraryRevision: -1, swarming: false, manifests: new Map(), lastSeenMs: nowMs, rttMs: null };
    this.peers.set(info.peerId, record);
    return { added: true, record };
  }

  removePeer(peerId: PeerId): boolean {
    return this.peers.delete(peerId);
  }

  get(peerId: PeerId): PeerRecord | undefined {
    return this.peers.get(peerId);
  }

  has(peerId: PeerId): boolean {
    return this.peers.has(peerId);
  }

  list(): PeerRecord[] {
    return [...this.peers.values()];
  }

  get size(): number {
    return this.peers.size;
  }

  markSeen(peerId: PeerId, nowMs: number, rttMs: number | null): void {
    const record = this.peers.get(peerId);
    if (!record) return;
    record.lastSeenMs = nowMs;
    if (rttMs !== null) record.rttMs = rttMs;
  }

  /** Replaces a peer's game list; manifests of versions it no longer offers are dropped. */
  setGames(peerId: PeerId, games: GameSummary[], libraryRevision: number): boolean {
    const record = this.peers.get(peerId);
    if (!record) return false;
    const before = JSON.stringify(record.games);
    record.games = [...games].sort((a, b) => a.id.localeCompare(b.id));
    record.libraryRevision = libraryRevision;
    for (const [gameId, manifest] of record.manifests) {
      const offered = record.games.find((game) => game.id === gameId);
      if (!offered || offered.version !== manifest.version) record.manifests.delete(gameId);
    }
    return before !== JSON.stringify(record.games);
  }

  setManifest(peerId: PeerId, manifest: GameManifest): void {
    this.peers.get(peerId)?.manifests.set(manifest.gameId, manifest);
  }

  manifestFrom(peerId: PeerId, gameId: string): GameManifest | undefined {
    return this.peers.get(peerId)?.manifests.get(gameId);
  }

  /** The newest version of a game any peer offers, or null when no peer has it. */
  latestVersion(gameId: string): string | null {
    let latest: string | null = null;
    for (const record of this.peers.values()) {
      const game = record.games.find((g) => g.id === gameId);
      if (game && (latest === null || compareVersions(game.version, latest) > 0)) latest = game.version;
    }
    return latest;
  }

  /** Peers that serve exactly `version` of a game (only those are download sources). */
  sourcesFor(gameId: string, version: string): PeerRecord[] {
    return this.list().filter((record) => record.games.some((g) => g.id === gameId && g.version === version));
  }

  /** Every game on the LAN, aggregated over peers. */
  remoteGames(): Map<string, RemoteGame> {
    const games = new Map<string, Omit<RemoteGame, 'descriptions'> & { manifestIds: Set<string>; described: Map<string, DescribedBy> }>();
    for (const record of this.peers.values()) {
      for (const game of record.games) {
        const peerId = record.info.peerId;
        let entry = games.get(game.id);
        if (!entry) {
          entry = { id: game.id, latestVersion: game.version, sizeBytes: game.sizeBytes, sources: [], partialSources: [], holders: [], manifestConflict: false, manifestIds: new Set(), described: new Map() };
          games.set(game.id, entry);
        }
        if (game.description) {
          const key = JSON.stringify(game.description);
          const described = entry.described.get(key) ?? { description: game.description, peers: [] };
          described.peers.push(peerId);
          entry.described.set(key, described);
        }
        if (!game.partial) entry.holders.push(peerId);
        const order = compareVersions(game.version, entry.latestVersion);
        if (order > 0) {
          Object.assign(entry, { latestVersion: game.version, sizeBytes: game.sizeBytes, sources: [], partialSources: [], manifestIds: new Set() });
        }
        if (order < 0) continue;
        entry.sources.push(peerId);
        if (game.partial) entry.partialSources.push(peerId);
        if (game.manifestId !== undefined) entry.manifestIds.add(game.manifestId);
      }
    }
    const out = new Map<string, RemoteGame>();
    for (const [id, { manifestIds, described, ...game }] of games) {
      const descriptions = [...described.entries()].sort(([keyA, a], [keyB, b]) => b.peers.length - a.peers.length || (keyA < keyB ? -1 : 1)).map(([, entry]) => entry);
      out.set(id, { ...game, manifestConflict: manifestIds.size > 1, descriptions });
    }
    return out;
  }
}
