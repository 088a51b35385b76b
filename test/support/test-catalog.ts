import type { Catalog, CatalogEntry } from '../../src/shared/catalog';

export function catalogEntry(id: string): CatalogEntry {
  return {
    id,
    title: id.replace(/-/g, ' '),
    description: `Test game ${id}`,
    genres: ['Test'],
    maxPlayers: 8,
    releaseYear: 2000,
    sizeHintBytes: 1024,
    launch: { linux: { executable: 'run.sh', args: [] }, win32: { executable: 'run.cmd', args: [] } },
  };
}

export function testCatalog(ids: string[]): Catalog {
  return { schemaVersion: 1, games: ids.map(catalogEntry) };
}
