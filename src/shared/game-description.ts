import type { LaunchConfig, Platform } from './catalog';

/**
 * A game shared beyond the bundled catalog, as its sharer describes it. It lives in the state
 * directory of every peer that shares or downloaded the game (never in the game folder) and
 * travels with the game in each peer's game list, validated on arrival. The version is not part
 * of it: like every game's, it is the game root's `version.ini`.
 */
export interface GameDescription {
  /** Folder name of the game root, as for catalog ids: lowercase letters, digits and '-'. */
  id: string;
  title: string;
  /** May be empty; the only field that may hold line breaks. */
  description: string;
  genres: string[];
  maxPlayers: number;
  /** Paths relative to the game's `local/` folder, '/'-separated. */
  launch: Partial<Record<Platform, LaunchConfig>>;
}

/** What the share command and form send: the description, and a version to write as version.ini, or none to keep the folder's own. */
export interface ShareGameRequest {
  description: GameDescription;
  version?: string;
}

export const DESCRIPTION_LIMITS = {
  title: 100,
  description: 2000,
  genres: 8,
  genre: 32,
  maxPlayers: 1024,
  args: 16,
  arg: 256,
  launchPath: 260,
  version: 64,
  /** The whole description as UTF-8 JSON: it goes into every game list this peer sends. */
  encodedBytes: 8 * 1024,
} as const;
