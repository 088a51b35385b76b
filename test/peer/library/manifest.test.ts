import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ChunkHasher } from '../../../src/main/peer/library/chunk-hasher';
import { FileIndex } from '../../../src/main/peer/library/file-index';
import { buildManifest, chunkSizeFor, DEFAULT_CHUNK_SIZE } from '../../../src/main/peer/library/manifest';
import { makeWorkDir } from '../../support/temp-dir';

let work: { dir: string; cleanup: () => Promise<void> };
const hasher = new ChunkHasher();
beforeEach(async () => {
  work = await makeWorkDir('manifest');
});
afterEach(async () => {
  await hasher.stop();
  await work.cleanup();
});

it('lists every served regular file and nothing of local/, launcher entries or symlinks', async () => {
  const root = path.join(work.dir, 'games', 'demo-arena');
  const files: Record<string, string> = {
    'version.ini': 'version=1\n',
    'demo-arena.part1.rar': 'aaaa',
    'extras/maps/map1.rar': 'bb',
    'local/game.exe': 'installed',
    'LOCAL.txt': 'served: only the exact reserved names are hidden',
    '.local.installing/x': 'x',
    '.local.backup/y': 'y',
    '.lanspread_owned': '',
    '.version.ini.tmp': '2',
    '.version.ini.discarded': '0',
    'bad\\name.rar': 'a name a downloader would refuse',
  };
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
  await writeFile(path.join(work.dir, 'outside.rar'), 'outside');
  await symlink(path.join(work.dir, 'outside.rar'), path.join(root, 'escape.rar'));
  await symlink(path.join(root, 'local'), path.join(root, 'linked-dir'));

  const index = await FileIndex.open(path.join(work.dir, 'state'), hasher);
  const manifest = await buildManifest(root, 'demo-arena', '1', 3, index);
  expect(manifest).toMatchObject({ gameId: 'demo-arena', version: '1', chunkSize: 3 });
  expect(manifest.files.map((f) => [f.path, f.size, f.chunkHashes.length])).toEqual([
    ['LOCAL.txt', files['LOCAL.txt']!.length, Math.ceil(files['LOCAL.txt']!.length / 3)],
    ['demo-arena.part1.rar', 4, 2],
    ['extras/maps/map1.rar', 2, 1],
    ['version.ini', 10, 4],
  ]);
});

it('chooses 512 KiB chunks for a game of up to 32 GiB, and doubles them for larger games so a manifest stays near 65,536 hashes', () => {
  const GiB = 1024 ** 3;
  expect(DEFAULT_CHUNK_SIZE).toBe(512 * 1024);
  expect(chunkSizeFor(0)).toBe(512 * 1024);
  expect(chunkSizeFor(100 * 1024 * 1024)).toBe(512 * 1024);
  expect(chunkSizeFor(32 * GiB)).toBe(512 * 1024);
  expect(chunkSizeFor(32 * GiB + 1)).toBe(1024 * 1024);
  expect(chunkSizeFor(100 * GiB)).toBe(2 * 1024 * 1024);
  for (const size of [17 * GiB, 150 * GiB, 1024 * GiB]) expect(size / chunkSizeFor(size)).toBeLessThanOrEqual(64 * 1024);
});
