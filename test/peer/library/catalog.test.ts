import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CATALOG_ID_PATTERN } from '../../../src/shared/catalog';
import { bundledCatalogPath, CatalogIndex, findBundledCatalog, loadCatalog, validateCatalog } from '../../../src/main/peer/library/catalog';
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
    const real = catalog.games.filter((game) => !game.id.startsWith('demo-'));
    expect(real.length).toBeGreaterThanOrEqual(25);
    for (const id of ['quake-3-arena', 'counter-strike-1-6', 'unreal-tournament-2004', 'warcraft-3', 'age-of-empires-2', 'starcraft', 'command-and-conquer-red-alert-2', 'trackmania-nations-forever', 'left-4-dead-2', 'worms-armageddon', 'teeworlds', 'openttd']) {
      expect(real.map((game) => game.id)).toContain(id);
    }
    for (const game of real) {
      expect(game.id).toMatch(CATALOG_ID_PATTERN);
      expect(game.launch.win32 ?? game.launch.linux, `${game.id} has a launch config`).toBeDefined();
      expect(game.releaseYear).toBeGreaterThanOrEqual(1990);
      expect(game.releaseYear).toBeLessThanOrEqual(2015);
      expect(game.maxPlayers).toBeGreaterThanOrEqual(2);
      expect(game.sizeHintBytes).toBeGreaterThan(1024 * 1024);
    }
  });

  it('finds resources/catalog.json from source, from the built app and when packaged', async () => {
    expect(bundledCatalogPath()).toBe(path.resolve('resources/catalog.json'));
    const app = work.dir;
    await mkdir(path.join(app, 'out', 'main'), { recursive: true });
    await mkdir(path.join(app, 'resources'));
    await writeFile(path.join(app, 'resources', 'catalog.json'), '{}');
    expect(findBundledCatalog(path.join(app, 'out', 'main'))).toBe(path.join(app, 'resources', 'catalog.json'));
    await mkdir(path.join(app, 'src', 'main', 'peer', 'library'), { recursive: true });
    expect(findBundledCatalog(path.join(app, 'src', 'main', 'peer', 'library'))).toBe(path.join(app, 'resources', 'catalog.json'));
    const install = path.join(app, 'opt', 'lanspread', 'current');
    const packaged = path.join(install, 'resources');
    await mkdir(packaged, { recursive: true });
    await writeFile(path.join(packaged, 'catalog.json'), '{}');
    expect(findBundledCatalog(path.join(packaged, 'app.asar', 'out', 'main'), packaged)).toBe(path.join(packaged, 'catalog.json'));
  });

  it('indexes entries by id', async () => {
    const index = new CatalogIndex(await loadCatalog(bundledCatalogPath()));
    expect(index.has('openttd')).toBe(true);
    expect(index.has('not-a-game')).toBe(false);
    expect(index.get('quake-3-arena')?.title).toBe('Quake III Arena');
    expect(index.get('nope')).toBeUndefined();
    expect(index.ids()).toEqual(index.catalog.games.map((game) => game.id));
  });

  it.each([
    [{ schemaVersion: 2, games: [] }, /schemaVersion/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), id: '../evil' }] }, /not a valid id/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), id: 'Upper' }] }, /not a valid id/],
    [{ schemaVersion: 1, games: [catalogEntry('dup'), catalogEntry('dup')] }, /duplicate id dup/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), maxPlayers: -1 }] }, /maxPlayers/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), launch: { amiga: { executable: 'x', args: [] } } }] }, /unknown platform/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), launch: { win32: { executable: '../../evil.exe', args: [] } } }] }, /inside local/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), launch: { win32: { executable: 'C:\\evil.exe', args: [] } } }] }, /inside local/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), launch: { linux: { executable: 'run.sh', args: [], cwd: '/etc' } } }] }, /inside local/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), launch: { linux: null } }] }, /must be an object/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), title: '' }] }, /title/],
    [{ schemaVersion: 1, games: [{ ...catalogEntry('ok'), genres: 'FPS' }] }, /genres/],
    [{ schemaVersion: 1, games: [{ id: 'ok' }] }, /title/],
    [{ schemaVersion: 1, games: [null] }, /not an object/],
    [null, /schemaVersion/],
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
