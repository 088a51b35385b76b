import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LauncherEvents } from '../../../src/shared/api';
import { generateGame } from '../../../src/main/peer/demo/generate-game';
import { haveRarFixtures, sharedRarFixtures } from '../../support/install-helpers';
import { waitFor, type GameSpec, type TestPeer } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

/** Relative path → CRC32 for files, and a trailing '/' entry for every directory. */
async function treeOf(dir: string): Promise<Map<string, number | 'dir'>> {
  const out = new Map<string, number | 'dir'>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const relative = path.relative(dir, full).split(path.sep).join('/');
    if (entry.isDirectory()) out.set(`${relative}/`, 'dir');
    else if (entry.isFile()) out.set(relative, crc32(await readFile(full)) >>> 0);
  }
  return out;
}

const GAME = 'demo-arena';
const IDS = [GAME, 'demo-racer'];

describe('streamed install between real peers (QUIC control, TLS data lane, unrar worker)', () => {
  const peers = useTestPeers('stream');

  function peer(name: string, options: { games?: GameSpec[]; manualPeers?: string[] } = {}): Promise<TestPeer> {
    return peers.start(name, { catalogIds: IDS, ...options });
  }

  /** Seed shares the game; a normal install on the seed is the reference the stream must equal. */
  async function streamAndCompare(seed: TestPeer): Promise<{ receiver: TestPeer; observer: TestPeer }> {
    const receiver = await peer('receiver', { manualPeers: [`127.0.0.1:${seed.runtime.port}`] });
    const observer = await peer('observer', { manualPeers: [`127.0.0.1:${seed.runtime.port}`, `127.0.0.1:${receiver.runtime.port}`] });
    await waitFor(() => receiver.runtime.remoteGames().get(GAME)?.sources.length === 1, 20_000, 'the receiver to see the seed');

    const events: Array<[string, unknown]> = [];
    receiver.runtime.onAny((event, payload) => {
      if (event.startsWith('game-')) events.push([event, payload]);
    });
    const report = await receiver.runtime.streamInstall(GAME);
    expect(report.sender.peerId).toBe(seed.runtime.peerId);
    expect(report.failedSenders).toEqual([]);

    await seed.runtime.installDownloaded(GAME);
    const reference = await treeOf(path.join(seed.gameDir, GAME, 'local'));
    const streamed = await treeOf(path.join(receiver.gameDir, GAME, 'local'));
    expect(streamed).toEqual(reference);
    expect(reference.size).toBeGreaterThan(0);

    // No archive, no version.ini, no staging: the root holds local/ only.
    expect(await readdir(path.join(receiver.gameDir, GAME))).toEqual(['local']);
    await waitFor(() => receiver.runtime.localGames().find((g) => g.id === GAME)?.installed === true, 10_000, 'the library to show it installed');
    const state = receiver.runtime.localGames().find((g) => g.id === GAME);
    expect(state).toMatchObject({ installed: true, downloaded: false, availability: 'LocalOnly' });

    const types = events.map(([type]) => type);
    expect(types[0]).toBe('game-install-begin');
    expect(events[0]?.[1]).toMatchObject({ gameId: GAME, mode: 'streamed' });
    expect(types.at(-1)).toBe('game-install-finished');
    const progress = events.filter(([type]) => type === 'game-install-progress').map(([, p]) => p as LauncherEvents['game-install-progress']);
    expect(progress.at(-1)).toMatchObject({ bytesDone: progress.at(-1)?.totalBytes, activePeers: 1 });

    // The receiver never becomes a source: the observer sees the seed only.
    await waitFor(() => observer.runtime.peers().length === 2, 20_000, 'the observer to know both peers');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a few liveness rounds: any new game list would have arrived
    expect(observer.runtime.remoteGames().get(GAME)?.sources).toEqual([seed.runtime.peerId]);
    expect(observer.runtime.peers().find((p) => p.info.peerId === receiver.runtime.peerId)?.games).toEqual([]);
    return { receiver, observer };
  }

  it('streams a generated multi-volume game: local/ equals a normal install, nothing else lands', async () => {
    const seed = await peer('seed', {
      games: [{ id: GAME, version: '2.0', files: [{ path: 'bin/game.bin', size: 3_000_000 }, { path: 'data/a/level.pak', size: 1_500_000 }, { path: 'readme.txt', size: 1_000 }], seed: 3, volumeSize: 1_000_000 }],
    });
    expect(seed.games.get(GAME)?.archives.length).toBeGreaterThan(3);
    await streamAndCompare(seed);
  });

  it('updates a streamed game by streaming the newer version: the old local/ is swapped out, no backup left', async () => {
    const files = [{ path: 'bin/game.bin', size: 700_000 }, { path: 'maps/one.map', size: 90_000 }];
    const seed = await peer('seed', { games: [{ id: GAME, version: '1.0', files, seed: 21 }] });
    const receiver = await peer('receiver', { manualPeers: [`127.0.0.1:${seed.runtime.port}`] });
    await waitFor(() => receiver.runtime.remoteGames().get(GAME)?.latestVersion === '1.0', 20_000, 'version 1.0 on the LAN');
    await receiver.runtime.streamInstall(GAME);

    // The seed moves to 2.0 (other bytes, one more file); the receiver streams the update.
    const next = await generateGame({ gameDir: seed.gameDir, gameId: GAME, version: '2.0', files: [...files, { path: 'maps/two.map', size: 50_000 }], seed: 22 });
    await seed.runtime.rescan();
    await waitFor(() => receiver.runtime.remoteGames().get(GAME)?.latestVersion === '2.0', 20_000, 'version 2.0 on the LAN');
    const begins: unknown[] = [];
    receiver.runtime.on('game-install-begin', (payload) => begins.push(payload));
    const report = await receiver.runtime.streamInstall(GAME);

    expect(report.version).toBe('2.0');
    expect(begins).toEqual([{ gameId: GAME, mode: 'streamed' }]);
    const local = await treeOf(path.join(receiver.gameDir, GAME, 'local'));
    const expected = new Map<string, number | 'dir'>([['bin/', 'dir'], ['maps/', 'dir']]);
    for (const file of next.files) expected.set(file.path, file.crc32);
    expect(local).toEqual(expected);
    expect(await readdir(path.join(receiver.gameDir, GAME))).toEqual(['local']);
    await waitFor(() => receiver.runtime.localGames().find((g) => g.id === GAME)?.installedVersion === '2.0', 10_000, 'installed version 2.0');
  });

  async function seedFromFixture(dir: string, files: string[]): Promise<TestPeer> {
    const seed = await peer('seed');
    const root = path.join(seed.gameDir, GAME);
    await mkdir(root, { recursive: true });
    for (const name of files) await copyFile(path.join(sharedRarFixtures, dir, name), path.join(root, name));
    await writeFile(path.join(root, 'version.ini'), '1.0\n');
    await seed.runtime.rescan();
    await waitFor(() => seed.runtime.localGames().find((g) => g.id === GAME)?.downloaded === true, 10_000, 'the seed to share the fixture');
    return seed;
  }

  it.skipIf(!haveRarFixtures)('streams a solid RAR5 fixture identically to a normal install', async () => {
    const seed = await seedFromFixture('rar5/junrar__rar5-solid', ['rar5-solid.rar']);
    await streamAndCompare(seed);
  });

  it.skipIf(!haveRarFixtures)('streams a solid multi-volume RAR5 fixture (4 volumes) identically to a normal install', async () => {
    const seed = await seedFromFixture('multivolume/junrar__solid.partN', ['solid.part1.rar', 'solid.part2.rar', 'solid.part3.rar', 'solid.part4.rar']);
    await streamAndCompare(seed);
  });
});

if (!haveRarFixtures) console.log(`[skip] streamed install of RAR fixtures: ${sharedRarFixtures} is absent in this checkout`);
