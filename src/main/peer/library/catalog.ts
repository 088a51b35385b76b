import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG_ID_PATTERN, type Catalog, type CatalogEntry, type LaunchConfig, type Platform } from '../../../shared/catalog';
import { LanspreadError } from '../../../shared/errors';
import { splitRelativePath } from '../fs/safe-path';

/** Where resources/catalog.json is for this module (from source or from the built app). */
export function bundledCatalogPath(): string {
  return findBundledCatalog(path.dirname(fileURLToPath(import.meta.url)), (process as { resourcesPath?: string }).resourcesPath);
}

/**
 * The first existing candidate: two levels up from out/main in the built app, four levels up
 * from src/main/peer/library when run from source (tsx, tests), or Electron's resources folder
 * when packaged. From source the built-app candidate is src/main/resources, which never exists,
 * so the order cannot pick a wrong file.
 */
export function findBundledCatalog(moduleDir: string, resourcesPath?: string): string {
  const candidates = [
    path.resolve(moduleDir, '../../resources/catalog.json'),
    path.resolve(moduleDir, '../../../../resources/catalog.json'),
    ...(resourcesPath ? [path.join(resourcesPath, 'catalog.json'), path.join(resourcesPath, 'resources', 'catalog.json')] : []),
  ];
  return candidates.find((candidate) => existsSync(candidate)) ?? (candidates[1] as string);
}

export async function loadCatalog(file: string): Promise<Catalog> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new LanspreadError('MALFORMED_MESSAGE', `Catalog ${file} is not readable JSON`, { cause: error });
  }
  return validateCatalog(raw);
}

const PLATFORMS: readonly Platform[] = ['win32', 'linux', 'darwin'];

/** Checks every entry so the rest of the runtime can trust ids (they become folder names). */
export function validateCatalog(raw: unknown): Catalog {
  const root = raw as { schemaVersion?: unknown; games?: unknown };
  if (typeof raw !== 'object' || raw === null || root.schemaVersion !== 1 || !Array.isArray(root.games)) {
    throw bad('expected { "schemaVersion": 1, "games": [...] }');
  }
  const seen = new Set<string>();
  const games = root.games.map((value, index): CatalogEntry => {
    const entry = value as Record<string, unknown>;
    const where = `games[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw bad(`${where} is not an object`);
    const id = entry.id;
    if (typeof id !== 'string' || !CATALOG_ID_PATTERN.test(id)) throw bad(`${where}.id ${JSON.stringify(id)} is not a valid id`);
    if (seen.has(id)) throw bad(`duplicate id ${id}`);
    seen.add(id);
    return {
      id,
      title: text(entry.title, `${id}.title`),
      description: text(entry.description, `${id}.description`),
      genres: list(entry.genres, `${id}.genres`),
      maxPlayers: count(entry.maxPlayers, `${id}.maxPlayers`),
      releaseYear: count(entry.releaseYear, `${id}.releaseYear`),
      sizeHintBytes: count(entry.sizeHintBytes, `${id}.sizeHintBytes`),
      launch: launchConfigs(entry.launch, id),
    };
  });
  return { schemaVersion: 1, games };
}

function launchConfigs(value: unknown, id: string): CatalogEntry['launch'] {
  if (typeof value !== 'object' || value === null) throw bad(`${id}.launch must be an object`);
  const out: CatalogEntry['launch'] = {};
  for (const [platform, config] of Object.entries(value)) {
    if (!PLATFORMS.includes(platform as Platform)) throw bad(`${id}.launch has unknown platform ${platform}`);
    const c = config as Record<string, unknown>;
    if (typeof c !== 'object' || c === null) throw bad(`${id}.launch.${platform} must be an object`);
    const launch: LaunchConfig = { executable: insideLocal(c.executable, `${id}.launch.${platform}.executable`), args: list(c.args ?? [], `${id}.launch.${platform}.args`) };
    if (c.cwd !== undefined) launch.cwd = insideLocal(c.cwd, `${id}.launch.${platform}.cwd`);
    out[platform as Platform] = launch;
  }
  return out;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw bad(`${what} must be a non-empty string`);
  return value;
}

/** The launcher runs what the catalog names: it must stay inside the game's local/ folder. */
function insideLocal(value: unknown, what: string): string {
  const relative = text(value, what);
  try {
    splitRelativePath(relative);
  } catch {
    throw bad(`${what} must be a '/'-separated path inside local/`);
  }
  return relative;
}

function list(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw bad(`${what} must be a list of strings`);
  return value as string[];
}

function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw bad(`${what} must be a non-negative integer`);
  return value;
}

function bad(why: string): LanspreadError {
  return new LanspreadError('MALFORMED_MESSAGE', `Invalid catalog: ${why}`);
}

/** Lookup over a validated catalog: the set of ids is what gates which game roots count at all. */
export class CatalogIndex {
  private readonly byId: ReadonlyMap<string, CatalogEntry>;

  constructor(readonly catalog: Catalog) {
    this.byId = new Map(catalog.games.map((entry) => [entry.id, entry]));
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): CatalogEntry | undefined {
    return this.byId.get(id);
  }

  /** Ids in catalog order. */
  ids(): string[] {
    return [...this.byId.keys()];
  }
}
