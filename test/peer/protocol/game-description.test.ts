import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import { DESCRIPTION_LIMITS, type GameDescription } from '../../../src/shared/game-description';
import { GameDescriptions } from '../../../src/main/peer/library/game-descriptions';
import { validateGameDescription, validateVersion } from '../../../src/main/peer/protocol/game-description';
import { parseResponse } from '../../../src/main/peer/protocol/validate';
import { silentLogger } from '../../../src/main/peer/util/logger';
import { makeWorkDir } from '../../support/temp-dir';

const GOOD: GameDescription = {
  id: 'quake3-lan',
  title: 'Quake III Arena (LAN build)',
  description: 'Fast arena shooter.\nBring a mouse.',
  genres: ['Shooter'],
  maxPlayers: 16,
  launch: { linux: { executable: 'bin/quake3.x86_64', args: ['+set', 'fs_game', 'baseq3'] }, win32: { executable: 'quake3.exe', args: [], cwd: 'baseq3' } },
};

function codeOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(LanspreadError);
    return `${(error as LanspreadError).code}: ${(error as LanspreadError).message}`;
  }
  return 'accepted';
}

const CATALOG = new Set(['demo-arena']);

describe('validateGameDescription: hostile and broken descriptions are refused with a code naming the field', () => {
  it('accepts a good one and keeps only the known fields', () => {
    const withExtra = { ...GOOD, __proto__: { polluted: true }, evil: 'x', launch: { linux: { ...GOOD.launch.linux, shell: true } } };
    const valid = validateGameDescription(withExtra, CATALOG);
    expect(valid).toEqual({ ...GOOD, launch: { linux: GOOD.launch.linux } });
    expect(Object.keys(valid).sort()).toEqual(['description', 'genres', 'id', 'launch', 'maxPlayers', 'title']);
  });

  it.each([
    ['an id colliding with the catalog', { ...GOOD, id: 'demo-arena' }, /^GAME_ID_IN_CATALOG: .*demo-arena/],
    ['an id with a path in it', { ...GOOD, id: '../etc' }, /^DESCRIPTION_INVALID: .*id/],
    ['an uppercase or dotted id', { ...GOOD, id: 'Quake.3' }, /^DESCRIPTION_INVALID: .*id/],
    ['an id that is too long', { ...GOOD, id: 'a'.repeat(65) }, /^DESCRIPTION_INVALID: .*id/],
    ['a launch path escaping local/ with ..', { ...GOOD, launch: { linux: { executable: '../../bin/sh', args: [] } } }, /^DESCRIPTION_INVALID: .*launch\.linux\.executable.*inside the game's local\//],
    ['an absolute launch path', { ...GOOD, launch: { linux: { executable: '/bin/sh', args: [] } } }, /^DESCRIPTION_INVALID: .*launch\.linux\.executable/],
    ['a Windows drive path', { ...GOOD, launch: { win32: { executable: 'C:\\Windows\\system32\\cmd.exe', args: [] } } }, /^DESCRIPTION_INVALID: .*launch\.win32\.executable/],
    ['a cwd escaping local/', { ...GOOD, launch: { linux: { executable: 'run.sh', args: [], cwd: 'a/../../..' } } }, /^DESCRIPTION_INVALID: .*launch\.linux\.cwd/],
    ['an unknown platform', { ...GOOD, launch: { amiga: { executable: 'run', args: [] } } }, /^DESCRIPTION_INVALID: .*unknown platform/],
    ['no way to start it', { ...GOOD, launch: {} }, /^DESCRIPTION_INVALID: .*at least one platform/],
    ['a control character in the title', { ...GOOD, title: 'Quake\u001b]0;pwned\u0007' }, /^DESCRIPTION_INVALID: .*title contains a control character/],
    ['a C1 control character in a genre', { ...GOOD, genres: ['Shoot\u009ber'] }, /^DESCRIPTION_INVALID: .*genres\[0\] contains a control character/],
    ['a carriage return in the description', { ...GOOD, description: 'line\rover' }, /^DESCRIPTION_INVALID: .*description contains a control character/],
    ['a NUL in a launch argument', { ...GOOD, launch: { linux: { executable: 'run.sh', args: ['a\u0000b'] } } }, /^DESCRIPTION_INVALID: .*args\[0\] contains a control character/],
    ['a bidi override in the title', { ...GOOD, title: 'exe.\u202egnp' }, /^DESCRIPTION_INVALID: .*title contains a text-direction override/],
    ['an empty title', { ...GOOD, title: '   ' }, /^DESCRIPTION_INVALID: .*title must not be empty/],
    ['an oversized title', { ...GOOD, title: 'x'.repeat(DESCRIPTION_LIMITS.title + 1) }, /^DESCRIPTION_INVALID: .*title is 101 characters/],
    ['an oversized description', { ...GOOD, description: 'x'.repeat(DESCRIPTION_LIMITS.description + 1) }, /^DESCRIPTION_INVALID: .*description is 2001 characters/],
    ['too many genres', { ...GOOD, genres: Array.from({ length: 9 }, (_, i) => `g${i}`) }, /^DESCRIPTION_INVALID: .*genres has 9 items/],
    ['too many arguments', { ...GOOD, launch: { linux: { executable: 'run.sh', args: Array.from({ length: 17 }, () => 'a') } } }, /^DESCRIPTION_INVALID: .*args has 17 items/],
    ['a player count of 0', { ...GOOD, maxPlayers: 0 }, /^DESCRIPTION_INVALID: .*maxPlayers/],
    ['a fractional player count', { ...GOOD, maxPlayers: 2.5 }, /^DESCRIPTION_INVALID: .*maxPlayers/],
    ['a title that is not text', { ...GOOD, title: { toString: () => 'x' } }, /^DESCRIPTION_INVALID: .*title must be text/],
    ['not an object', ['quake'], /^DESCRIPTION_INVALID: .*must be an object/],
  ])('refuses %s', (_what, raw, expected) => {
    expect(codeOf(() => validateGameDescription(raw, CATALOG))).toMatch(expected);
  });

  it('refuses a description whose encoding exceeds the size limit even when every field is within its own', () => {
    const launch = Object.fromEntries(['linux', 'win32', 'darwin'].map((platform) => [platform, { executable: `bin/${'e'.repeat(200)}`, args: Array.from({ length: 16 }, () => 'a'.repeat(250)) }]));
    expect(codeOf(() => validateGameDescription({ ...GOOD, launch }))).toMatch(/^DESCRIPTION_INVALID: .*bytes, more than 8192/);
  });

  it('takes a version for version.ini only as one plain line', () => {
    expect(validateVersion('1.2.3')).toBe('1.2.3');
    for (const bad of ['', '1.0\nversion=9', '[section]', 'a=b', ' 1.0', 'x'.repeat(65)]) expect(codeOf(() => validateVersion(bad))).toMatch(/^DESCRIPTION_INVALID/);
  });
});

describe('descriptions on the wire', () => {
  const summary = (description: unknown, id = 'quake3-lan') => ({ id, version: '1', sizeBytes: 10, fileCount: 2, description });

  it('keeps a valid description with its game, and drops a hostile one without losing the peer’s other games', () => {
    const hostile = { ...GOOD, launch: { linux: { executable: '../../../usr/bin/xterm', args: [] } } };
    const parsed = parseResponse({ type: 'Games', games: [summary(GOOD), summary(hostile, 'other-game'), summary({ ...GOOD, title: 'x'.repeat(5000) }, 'big-game'), { id: 'demo-arena', version: '2', sizeBytes: 1, fileCount: 1 }] });
    expect(parsed.type).toBe('Games');
    if (parsed.type !== 'Games') return;
    expect(parsed.games.map((game) => game.id)).toEqual(['quake3-lan', 'other-game', 'big-game', 'demo-arena']);
    expect(parsed.games[0]?.description).toEqual(GOOD);
    for (const game of parsed.games.slice(1)) expect(game.description).toBeUndefined();
  });

  it('drops a description of another id than the game it travels with', () => {
    const parsed = parseResponse({ type: 'Games', games: [summary({ ...GOOD, id: 'something-else' })] });
    expect(parsed.type === 'Games' && parsed.games[0]?.description).toBeUndefined();
  });
});

describe('GameDescriptions (the state directory file)', () => {
  it('keeps own and adopted descriptions across a restart; a peer’s never replaces our own', async () => {
    const work = await makeWorkDir('descriptions');
    try {
      const store = await GameDescriptions.open(work.dir, CATALOG, silentLogger);
      await store.share(GOOD);
      await store.adopt({ ...GOOD, title: 'Somebody else’s Quake' });
      await store.adopt({ ...GOOD, id: 'ut99', title: 'Unreal Tournament' });
      await expect(store.share({ ...GOOD, id: 'demo-arena' })).rejects.toMatchObject({ code: 'GAME_ID_IN_CATALOG' });
      const reopened = await GameDescriptions.open(work.dir, CATALOG, silentLogger);
      expect(reopened.get('quake3-lan')).toEqual({ description: GOOD, own: true });
      expect(reopened.get('ut99')).toMatchObject({ own: false, description: { title: 'Unreal Tournament' } });
      expect(JSON.parse(await readFile(path.join(work.dir, 'game-descriptions.json'), 'utf8'))).toMatchObject({ schemaVersion: 1 });
    } finally {
      await work.cleanup();
    }
  });

  it('adopts the description most sources give before a download; never for a catalog id, never over our own', async () => {
    const work = await makeWorkDir('descriptions');
    try {
      const store = await GameDescriptions.open(work.dir, CATALOG, silentLogger);
      const other = { ...GOOD, title: 'Minority title' };
      await store.adoptFromSources(GOOD.id, [other, GOOD, undefined, GOOD, { ...GOOD, id: 'elsewhere' }]);
      expect(store.get(GOOD.id)).toEqual({ description: GOOD, own: false });
      await store.adoptFromSources('demo-arena', [{ ...GOOD, id: 'demo-arena' }]);
      expect(store.has('demo-arena')).toBe(false);
      await expect(store.adoptFromSources('nobody-describes', [undefined])).rejects.toMatchObject({ code: 'NOT_IN_CATALOG' });
      // Adopted earlier, described by nobody now: the download may still go ahead with what we kept.
      await store.adoptFromSources(GOOD.id, []);
      await store.share({ ...GOOD, title: 'Ours' });
      await store.adoptFromSources(GOOD.id, [GOOD, GOOD]);
      expect(store.get(GOOD.id)).toMatchObject({ own: true, description: { title: 'Ours' } });
      expect(store.withCatalog({ schemaVersion: 1, games: [] }).games).toEqual([{ ...GOOD, title: 'Ours', releaseYear: 0, sizeHintBytes: 0 }]);
    } finally {
      await work.cleanup();
    }
  });

  it('a description that cannot be saved is not kept in memory either', async () => {
    const work = await makeWorkDir('descriptions');
    try {
      // A folder where the file goes: every save fails (root ignores file modes, a folder it cannot replace).
      await mkdir(path.join(work.dir, 'game-descriptions.json'), { recursive: true });
      const store = await GameDescriptions.open(work.dir, CATALOG, silentLogger);
      await expect(store.share(GOOD)).rejects.toThrow();
      expect(store.has(GOOD.id)).toBe(false);
      await expect(store.adoptFromSources(GOOD.id, [GOOD])).rejects.toThrow();
      expect(store.has(GOOD.id)).toBe(false);
    } finally {
      await work.cleanup();
    }
  });

  it('drops stored entries that no longer pass (edited by hand, or an id the catalog now has)', async () => {
    const work = await makeWorkDir('descriptions');
    try {
      await mkdir(work.dir, { recursive: true });
      const games = [
        { own: true, description: GOOD },
        { own: true, description: { ...GOOD, id: 'demo-arena' } },
        { own: true, description: { ...GOOD, id: 'escape', launch: { linux: { executable: '../x', args: [] } } } },
      ];
      await writeFile(path.join(work.dir, 'game-descriptions.json'), JSON.stringify({ schemaVersion: 1, games }));
      const store = await GameDescriptions.open(work.dir, CATALOG, silentLogger);
      expect([...store.all().keys()]).toEqual(['quake3-lan']);
      await writeFile(path.join(work.dir, 'game-descriptions.json'), '{ not json');
      expect((await GameDescriptions.open(work.dir, CATALOG, silentLogger)).all().size).toBe(0);
    } finally {
      await work.cleanup();
    }
  });
});
