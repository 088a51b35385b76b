import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { expect, it } from 'vitest';
import { crcOfContent, pseudoRandomChunks } from '../../../src/main/peer/demo/generate-game';
import { writeRar5Stored } from '../../../src/main/peer/demo/rar5-stored-writer';
import { waitFor } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

const GAME = 'demo-arena';
const IDS = [GAME];
/** Each of the first two entries fills one volume exactly, so a change to the third touches only the third volume. */
const VOLUME_SIZE = 300_000;
const FULL_VOLUME_ENTRY = 299_850;
const LAST_ENTRY = 150_000;
const VOLUMES = [`${GAME}.part1.rar`, `${GAME}.part2.rar`, `${GAME}.part3.rar`];

const peers = useTestPeers('update-unchanged');

/** A game root of `version` in three RAR5 volumes whose last entry's bytes come from `lastSeed`. */
async function writeVersion(root: string, version: string, lastSeed: number): Promise<void> {
  await mkdir(root, { recursive: true });
  const entry = (name: string, size: number, seed: number) => ({ name, size, data: () => pseudoRandomChunks(size, seed) });
  const written = await writeRar5Stored({
    archivePath: path.join(root, `${GAME}.part1.rar`),
    volumeSize: VOLUME_SIZE,
    mtime: new Date('2024-01-01T00:00:00Z'),
    entries: [entry('bin/game.bin', FULL_VOLUME_ENTRY, 1), entry('data/common.pak', FULL_VOLUME_ENTRY, 2), entry('data/level.pak', LAST_ENTRY, lastSeed)],
  });
  expect(written.map((file) => path.basename(file))).toEqual(VOLUMES);
  await writeFile(path.join(root, 'version.ini'), `[version]\nversion=${version}\n`);
}

it('an update where 2 of 3 volumes are unchanged fetches only the third (and version.ini) over the data lane, then installs', async () => {
  const seedRoot = path.join(peers.dir, 'seed', 'games', GAME);
  await writeVersion(seedRoot, '1.0', 3);
  const seed = await peers.start('seed', { catalogIds: IDS });
  const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`] });
  await waitFor(() => player.runtime.remoteGames().get(GAME)?.latestVersion === '1.0', 20_000, 'the player to see version 1.0');
  await player.runtime.download(GAME);
  const playerRoot = path.join(player.gameDir, GAME);
  expect(crc32(await readFile(path.join(playerRoot, 'local', 'data', 'level.pak'))) >>> 0).toBe(crcOfContent(LAST_ENTRY, 3));

  // Version 2.0 changes the last entry only: the seed gets a new third volume and version.ini.
  const next = path.join(peers.dir, 'v2');
  await writeVersion(next, '2.0', 4);
  for (const [index, volume] of VOLUMES.entries()) {
    const same = (await readFile(path.join(next, volume))).equals(await readFile(path.join(seedRoot, volume)));
    expect(same, volume).toBe(index < 2);
  }
  for (const file of [VOLUMES[2] as string, 'version.ini']) await copyFile(path.join(next, file), path.join(seedRoot, file));
  await seed.runtime.rescan();
  await waitFor(() => player.runtime.remoteGames().get(GAME)?.latestVersion === '2.0', 20_000, 'the player to see version 2.0');
  expect(player.runtime.localGames().find((game) => game.id === GAME)).toMatchObject({ downloaded: true, installed: true, version: '1.0' });

  const receivedBefore = player.runtime.transfersWith(seed.runtime.peerId).downloaded;
  const sentBefore = seed.runtime.uploadedBytes();
  const result = await player.runtime.download(GAME);

  const changedBytes = (await stat(path.join(seedRoot, VOLUMES[2] as string))).size + (await stat(path.join(seedRoot, 'version.ini'))).size;
  // Counted on both ends of the real lane: what the player received, what the seed sent.
  expect(player.runtime.transfersWith(seed.runtime.peerId).downloaded - receivedBefore).toBe(changedBytes);
  expect(seed.runtime.uploadedBytes() - sentBefore).toBe(changedBytes);
  expect(result).toMatchObject({ version: '2.0', sources: [{ peerId: seed.runtime.peerId, bytes: changedBytes }] });

  // Every archive byte is the seed's, the new version.ini is committed, and the update installed.
  for (const file of [...VOLUMES, 'version.ini']) {
    expect((await readFile(path.join(playerRoot, file))).equals(await readFile(path.join(seedRoot, file))), file).toBe(true);
  }
  await waitFor(() => player.runtime.localGames().some((game) => game.id === GAME && game.version === '2.0' && game.installedVersion === '2.0'), 10_000, 'version 2.0 installed');
  expect(crc32(await readFile(path.join(playerRoot, 'local', 'data', 'level.pak'))) >>> 0).toBe(crcOfContent(LAST_ENTRY, 4));
  expect(crc32(await readFile(path.join(playerRoot, 'local', 'bin', 'game.bin'))) >>> 0).toBe(crcOfContent(FULL_VOLUME_ENTRY, 1));
});
