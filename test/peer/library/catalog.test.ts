import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundledCatalogPath, loadCatalog, validateCatalog } from '../../../src/main/peer/library/catalog';
import { makeWorkDir } from '../../support/temp-dir';
import { catalogEntry } from '../../support/test-catalog';

describe('catalog loading', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    work = await makeWorkDir('catalog');
  });
  afterEach(async () => work.cleanup());

  it('loads the bundled catalog with at least 25 real titles', async () => {
    const catalog = await loadCatalog(bundledCatalogPath());
    expect(catalog.games.filter((game) => !game.id.startsWith('demo-')).length).toBeGreaterThanOrEqual(25);
  });

  it.each([
    [{ schemaVersion: 2, games: [] }, /schemaVersion/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), id: '../evil' }] }, /not a valid id/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), id: 'Upper' }] }, /not a valid id/],
    [{ schemaVersion: 1, games: [catalogEntry('dup'), catalogEntry('dup')] }, /duplicate id dup/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), maxPlayers: -1 }] }, /maxPlayers/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), launch: { amiga: { executable: 'x', args: [] } } }] }, /unknown platform/],
  ])('rejects an invalid catalog with a coded error (%#)', (raw, message) => {
    expect(() => validateCatalog(raw)).toThrow(message);
    try {
      validateCatalog(raw);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('MALFORMED_MESSAGE');
    }
  });

  it('reports unreadable JSON with a code', async () => {
    const file = path.join(work.dir, 'catalog.json');
    await writeFile(file, '{ nope');
    await expect(loadCatalog(file)).rejects.toMatchObject({ code: 'MALFORMED_MESSAGE' });
  });
});
