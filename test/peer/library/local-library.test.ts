import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '../../support/sha256';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalGameState } from '../../../src/shared/model';
import { ChunkHasher } from '../../../src/main/peer/library/chunk-hasher';
import { LocalLibrary } from '../../../src/main/peer/library/local-library';
import { silentLogger } from '../../../src/main/peer/util/logger';
import { makeWorkDir } from '../../support/temp-dir';
import { testCatalog } from '../../support/test-catalog';

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many live handles of each kind the process holds (fs watchers, timers, workers...). */
function handleCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

describe('LocalLibrary (scan + index + watcher)', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let games: string;
  let hasher: ChunkHasher;
  let library: LocalLibrary | null;
  let events: LocalGameState[][];
  const busy = new Set<string>();

  beforeEach(async () => {
    work = await makeWorkDir('local-library');
    games = path.join(work.dir, 'games');
    await mkdir(path.join(games, 'demo-arena'), { recursive: true });
    await mkdir(path.join(work.dir, 'state'));
    hasher = new ChunkHasher();
    library = null;
    events = [];
    busy.clear();
  });

  afterEach(async () => {
    await library?.stop();
    await hasher.stop();
    await work.cleanup();
  });

  async function startLibrary(gameDir: string | null = games): Promise<LocalLibrary> {
    library = new LocalLibrary({
      stateDir: path.join(work.dir, 'state'),
      gameDir,
      catalog: testCatalog(['demo-arena', 'demo-racer', 'demo-tanks']),
      chunkSize: 4,
      debounceMs: 50,
      fallbackScanMs: 600_000,
      isBusy: (id) => busy.has(id),
      hasher,
      logger: silentLogger,
    });
    library.on('library-changed', ({ games: changed }) => events.push(changed));
    await library.start();
    return library;
  }

  const seen = (id: string, check: (state: LocalGameState) => boolean) => () => events.some((batch) => batch.some((state) => state.id === id && check(state)));

  it('announces a game when its version.ini appears, with summary and manifest', async () => {
    await writeFile(path.join(games, 'demo-arena', 'demo-arena.rar'), 'abcdefghij');
    const lib = await startLibrary();
    expect(lib.localGames()).toEqual([]);
    expect(lib.summaries()).toEqual([]);

    await writeFile(path.join(games, 'demo-arena', 'version.ini'), '[game]\nversion=1.2\n');
    await waitFor(seen('demo-arena', (state) => state.downloaded), 'library-changed for demo-arena');
    expect(lib.localGames()).toEqual([{ id: 'demo-arena', downloaded: true, installed: false, version: '1.2', installedVersion: null, sizeBytes: 10 + 19, availability: 'Ready' }]);
    expect(lib.summaries()).toEqual([{ id: 'demo-arena', version: '1.2', sizeBytes: 29, fileCount: 2 }]);
    expect(lib.isServed('demo-arena')).toBe(true);

    const manifest = await lib.manifest('demo-arena');
    expect(manifest.files.find((file) => file.path === 'demo-arena.rar')).toEqual({ path: 'demo-arena.rar', size: 10, chunkHashes: [sha256Hex('abcd'), sha256Hex('efgh'), sha256Hex('ij')] });
    expect(manifest.files.map((file) => file.size).reduce((a, b) => a + b, 0)).toBe(lib.summaries()[0]?.sizeBytes);

    // Removing the sentinel makes it unannounced again (no local/: it vanishes entirely).
    await rm(path.join(games, 'demo-arena', 'version.ini'));
    await waitFor(seen('demo-arena', (state) => state.availability === 'None'), 'demo-arena to vanish');
    expect(lib.summaries()).toEqual([]);
    await expect(lib.manifest('demo-arena')).rejects.toMatchObject({ code: 'GAME_NOT_SERVED' });
  });

  it('ignores non-catalog folders and emits nothing when nothing changed', async () => {
    await startLibrary();
    await mkdir(path.join(games, 'not-a-game'));
    await writeFile(path.join(games, 'not-a-game', 'version.ini'), '1\n');
    await writeFile(path.join(games, 'demo-arena', 'readme.txt'), 'no sentinel here');
    await library!.rescanAll();
    await settle(300);
    expect(events).toEqual([]);
    expect(library!.localGames()).toEqual([]);
  });

  it('defers a busy game\'s rescan until it is idle', async () => {
    busy.add('demo-arena');
    await startLibrary();
    await writeFile(path.join(games, 'demo-arena', 'version.ini'), '7\n');
    await settle(400);
    await library!.rescanAll();
    expect(events).toEqual([]);
    expect(library!.isServed('demo-arena')).toBe(false);

    busy.delete('demo-arena');
    library!.notifyIdle('demo-arena');
    await waitFor(seen('demo-arena', (state) => state.version === '7'), 'the held-back rescan');
  });

  it('re-targets with setGameDir in one event: old games vanish, new ones arrive', async () => {
    await writeFile(path.join(games, 'demo-arena', 'version.ini'), '1\n');
    const other = path.join(work.dir, 'other-games');
    await mkdir(path.join(other, 'demo-racer', 'local'), { recursive: true });
    const lib = await startLibrary();
    expect(lib.localGames().map((game) => game.id)).toEqual(['demo-arena']);
    events = [];

    await lib.setGameDir(other);
    expect(events).toHaveLength(1);
    expect(events[0]!.map((state) => [state.id, state.availability]).sort()).toEqual([
      ['demo-arena', 'None'],
      ['demo-racer', 'LocalOnly'],
    ]);
    // The new folder is watched; the old one no longer is.
    await writeFile(path.join(other, 'demo-racer', 'version.ini'), '3\n');
    await waitFor(seen('demo-racer', (state) => state.availability === 'Ready'), 'demo-racer to become Ready');
    events = [];
    await writeFile(path.join(games, 'demo-arena', 'version.ini'), '2\n');
    await settle(400);
    expect(events).toEqual([]);
  });

  it('stop() leaves no watcher or timer behind', async () => {
    const before = handleCounts();
    await startLibrary();
    await writeFile(path.join(games, 'demo-arena', 'version.ini'), '1\n');
    await waitFor(seen('demo-arena', (state) => state.downloaded), 'library-changed');
    await library!.manifest('demo-arena');
    // While running there are fs watchers; otherwise the check below would prove nothing.
    expect(handleCounts().get('FSEventWrap') ?? 0).toBeGreaterThan(before.get('FSEventWrap') ?? 0);
    await library!.stop();
    await hasher.stop();
    library = null;
    await settle(100);
    const after = handleCounts();
    for (const [kind, count] of after) expect({ kind, count: Math.min(count, before.get(kind) ?? 0) }).toEqual({ kind, count });
    // A stopped library stays quiet.
    events = [];
    await writeFile(path.join(games, 'demo-arena', 'version.ini'), '2\n');
    await settle(300);
    expect(events).toEqual([]);
  });
});
