import type { GameSummary } from '../../../shared/model';

/** What this peer announces about what it serves (mDNS TXT `rev`, `cr`, `sw`; Pong's `libraryRevision`). */
export interface ServedRevisions {
  /**
   * Changes whenever what ListGames answers does (a monotonic count of changes, from a random
   * base per start): the number Pong and Announce carry.
   */
  revision: number;
  /**
   * Changes only when the part of that list that is not the swarm's does: the games this peer
   * found on its disk or was asked to change. A game that is downloading here (listed as
   * partial once it has a verified chunk) and one whose download finished here in this run are
   * the swarm's: their downloaders learn of them over the data lane (have-maps), so a change
   * of only those does not make every peer of the room re-list this one at once.
   */
  catalogRevision: number;
  /** Something here is the swarm's (a partial share, or a game downloaded here in this run): worth asking about a game. */
  swarming: boolean;
}

/**
 * The one owner of this peer's announced revisions. Both counters only grow, so a peer that
 * compares a number with the last one it listed at never mistakes a change for none.
 */
export class ServedRevision {
  /** Games whose download finished here in this run, by version: served whole, but announced as the swarm's. */
  private readonly downloadedHere = new Map<string, string>();
  private catalogKey = '';
  private swarmKey = '';
  private catalog = 0;
  private swarm = 0;

  constructor(
    /** What ListGames answers now (server/request-handler.ts servedSummaries). */
    private readonly served: () => GameSummary[],
    /** Where this run's revisions start (random per start): a restarted peer announces a revision its neighbours have not seen. */
    private readonly base = 0,
  ) {}

  /** A download here finished and its game is about to be served whole: a swarm change, not a catalog one. */
  downloaded(gameId: string, version: string): void {
    this.downloadedHere.set(gameId, version);
  }

  /** The display name changed: peers re-list us (and greet us again) at once, as for a catalog change. */
  renamed(): void {
    this.catalog++;
  }

  current(): ServedRevisions {
    const games = this.served();
    // A game downloaded here that is gone or another version now was removed or updated: a
    // catalog change (the room re-lists us at once), whatever the lists look like.
    let moved = false;
    for (const [gameId, version] of this.downloadedHere) {
      if (games.some((game) => game.id === gameId && game.version === version)) continue;
      this.downloadedHere.delete(gameId);
      moved = true;
    }
    const ownCatalog = games.filter((game) => game.partial !== true && !this.downloadedHere.has(game.id));
    const swarmPart = games.filter((game) => game.partial === true || this.downloadedHere.has(game.id));
    const catalogKey = JSON.stringify(ownCatalog);
    const swarmKey = JSON.stringify(swarmPart);
    if (moved || catalogKey !== this.catalogKey) {
      this.catalogKey = catalogKey;
      this.catalog++;
    }
    if (swarmKey !== this.swarmKey) {
      this.swarmKey = swarmKey;
      this.swarm++;
    }
    return { revision: this.base + this.catalog + this.swarm, catalogRevision: this.base + this.catalog, swarming: swarmPart.length > 0 };
  }
}
