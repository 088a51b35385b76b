import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Catalog, CatalogEntry } from '../../../shared/catalog';
import { LanspreadError } from '../../../shared/errors';
import type { GameDescription } from '../../../shared/game-description';
import { writeFileAtomic } from '../fs/atomic-write';
import type { Logger } from '../util/logger';
import { validateGameDescription } from '../protocol/game-description';

/**
 * The games this machine knows beyond the bundled catalog: the ones it shares by description
 * (`own`), and the ones it downloaded from a peer that described them (adopted, so they are
 * still scanned, shared onwards and playable after a restart). Launcher-owned metadata: one
 * file in the state directory, never anything in a game folder. Every entry is validated again
 * when loaded; one that no longer passes (or whose id the catalog now has) is dropped.
 */

const FILE_NAME = 'game-descriptions.json';
const SCHEMA_VERSION = 1;

export interface KnownDescription {
  description: GameDescription;
  /** Described on this machine (shared from here); otherwise adopted from a peer's description. */
  own: boolean;
}

interface DescriptionsFile {
  schemaVersion: number;
  games: KnownDescription[];
}

export class GameDescriptions {
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly catalogIds: ReadonlySet<string>,
    private readonly known: Map<string, KnownDescription>,
  ) {}

  static async open(stateDir: string, catalogIds: ReadonlySet<string>, logger: Logger): Promise<GameDescriptions> {
    const file = path.join(stateDir, FILE_NAME);
    const known = new Map<string, KnownDescription>();
    const raw = await readFile(file, 'utf8').catch(() => null);
    if (raw !== null) {
      try {
        const parsed = JSON.parse(raw) as Partial<DescriptionsFile>;
        for (const entry of parsed.schemaVersion === SCHEMA_VERSION && Array.isArray(parsed.games) ? parsed.games : []) {
          try {
            const description = validateGameDescription(entry?.description, catalogIds);
            known.set(description.id, { description, own: entry.own === true });
          } catch (error) {
            logger.warn('dropped a stored game description', { error: (error as Error).message });
          }
        }
      } catch {
        logger.warn('game descriptions file is not readable JSON; starting without descriptions', { file });
      }
    }
    return new GameDescriptions(file, catalogIds, known);
  }

  get(gameId: string): KnownDescription | undefined {
    return this.known.get(gameId);
  }

  has(gameId: string): boolean {
    return this.known.has(gameId);
  }

  all(): ReadonlyMap<string, KnownDescription> {
    return this.known;
  }

  /** Shares a game from here under this description (replacing an adopted one of the same id). */
  async share(raw: unknown): Promise<GameDescription> {
    const description = validateGameDescription(raw, this.catalogIds);
    await this.change(description.id, { description, own: true });
    return description;
  }

  /**
   * Before this machine downloads or stream-installs a game: keeps the description its sources
   * announce (the one most of them give), so the game is scanned, shared onwards and playable
   * here, also after a restart. Nothing for a catalog game; our own description is never
   * replaced by a peer's. NOT_IN_CATALOG when nobody describes a game that is not in the catalog.
   */
  async adoptFromSources(gameId: string, announced: ReadonlyArray<GameDescription | undefined>): Promise<void> {
    if (this.catalogIds.has(gameId) || this.known.get(gameId)?.own) return;
    const tally = new Map<string, { description: GameDescription; count: number }>();
    for (const description of announced) {
      if (description?.id !== gameId) continue;
      const key = JSON.stringify(description);
      tally.set(key, { description, count: (tally.get(key)?.count ?? 0) + 1 });
    }
    const chosen = [...tally.values()].sort((a, b) => b.count - a.count)[0]?.description;
    if (chosen) await this.adopt(chosen);
    else if (!this.known.has(gameId)) throw new LanspreadError('NOT_IN_CATALOG', `${gameId} is not in the catalog and no peer describes it`);
  }

  /** Forgets a description of our own (stop sharing it); false when there is none. An adopted one stays: the game is installed from it. */
  async forgetOwn(gameId: string): Promise<boolean> {
    if (!this.known.get(gameId)?.own) return false;
    await this.change(gameId, null);
    return true;
  }

  /** The bundled catalog with every known description as an entry: what Play can start. */
  withCatalog(catalog: Catalog): Catalog {
    return { schemaVersion: 1, games: [...catalog.games, ...[...this.known.values()].map(({ description }) => entryOf(description))] };
  }

  /** A peer's description of a game this machine downloads (an adopted one follows the sources of each download). */
  async adopt(raw: GameDescription): Promise<void> {
    const description = validateGameDescription(raw, this.catalogIds);
    const current = this.known.get(description.id);
    if (current?.own || (current && JSON.stringify(current.description) === JSON.stringify(description))) return;
    await this.change(description.id, { description, own: false });
  }

  /** Memory follows the file: a change that cannot be saved (a full disk) is undone and thrown. */
  private async change(gameId: string, next: KnownDescription | null): Promise<void> {
    const before = this.known.get(gameId);
    if (next) this.known.set(gameId, next);
    else this.known.delete(gameId);
    try {
      await this.save();
    } catch (error) {
      if (before) this.known.set(gameId, before);
      else this.known.delete(gameId);
      throw error;
    }
  }

  private save(): Promise<void> {
    const snapshot: DescriptionsFile = { schemaVersion: SCHEMA_VERSION, games: [...this.known.values()] };
    this.saving = this.saving.catch(() => undefined).then(() => writeFileAtomic(this.file, JSON.stringify(snapshot, null, 2)));
    return this.saving;
  }
}

/** A description as the catalog entry it stands in for: no release year, no size hint. */
export function entryOf(description: GameDescription): CatalogEntry {
  return { ...description, releaseYear: 0, sizeHintBytes: 0 };
}
