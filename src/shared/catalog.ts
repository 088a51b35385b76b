/** Bundled game metadata (resources/catalog.json). The catalog gates what is announced and served. */

export type Platform = 'win32' | 'linux' | 'darwin';

export interface LaunchConfig {
  /** Executable path relative to the game's `local/` folder, '/'-separated. */
  executable: string;
  args: string[];
  /** Working directory relative to `local/`; defaults to the executable's folder. */
  cwd?: string;
}

export interface CatalogEntry {
  /** Folder name of the game root; lowercase letters, digits and '-'. */
  id: string;
  title: string;
  description: string;
  genres: string[];
  maxPlayers: number;
  releaseYear: number;
  /** Rough installed size in bytes, for the UI before any peer reports a real size. */
  sizeHintBytes: number;
  launch: Partial<Record<Platform, LaunchConfig>>;
}

export interface Catalog {
  schemaVersion: 1;
  games: CatalogEntry[];
}

export const CATALOG_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
