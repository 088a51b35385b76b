import type { GameManifest, GameSummary } from '../../../shared/model';

/** What the request handler may see of the local library: only what is servable. */
export interface ServedLibrary {
  /** Current game directory, or null when none is configured (nothing is served). */
  gameDir(): string | null;
  /** Downloaded catalog games that are not in the middle of an operation. */
  summaries(): GameSummary[];
  /** True when the game is in the catalog, downloaded and currently servable. */
  isServed(gameId: string): boolean;
  manifest(gameId: string): Promise<GameManifest>;
}
