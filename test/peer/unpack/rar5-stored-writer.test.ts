import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { generateGame } from '../../../src/main/peer/demo/generate-game';
import { classifyArchiveNames } from '../../../src/main/peer/unpack/archive-sets';
import { WorkerUnpacker } from '../../../src/main/peer/unpack/worker-unpacker';
import { listTree, makeTempDir } from '../../support/install-helpers';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function temp(): Promise<string> {
  const { dir, cleanup } = await makeTempDir('writer');
  cleanups.push(cleanup);
  return dir;
}

describe('stored RAR5 writer read back by node-unrar-js', () => {
  for (const volumeSize of [undefined, 70_000]) {
    it(`round-trips files, empty files and empty directories (${volumeSize ? 'multi-volume' : 'single'})`, async () => {
      const dir = await temp();
      const game = await generateGame({
        gameDir: dir,
        gameId: 'demo',
        version: '1.0',
        volumeSize,
        directories: ['saves'],
        files: [
          { path: 'game.exe', size: 200_000 },
          { path: 'data/empty.bin', size: 0 },
          { path: 'data/ünïcode name.txt', size: 17 },
        ],
      });
      if (volumeSize) expect(game.archives.length).toBeGreaterThan(2);
      const target = path.join(dir, 'out');
      const progress: Array<[number, number]> = [];
      const result = await new WorkerUnpacker({ progressIntervalMs: 0 }).unpack({
        archives: [game.archives[0] as string],
        targetDir: target,
        onProgress: (done, total) => progress.push([done, total]),
      });
      expect(result).toMatchObject({ files: 3, directories: 1, bytes: 200_017, skippedLinks: [] });
      expect(await listTree(target)).toEqual(['data/', 'data/empty.bin', 'data/ünïcode name.txt', 'game.exe', 'saves/']);
      for (const file of game.files) {
        const bytes = await readFile(path.join(target, file.path));
        expect(bytes.length).toBe(file.size);
        expect(crc32(bytes) >>> 0).toBe(file.crc32);
      }
      expect(progress.at(-1)).toEqual([200_017, 200_017]);
    });
  }

  it('reports a missing later volume with a coded error', async () => {
    const dir = await temp();
    const game = await generateGame({ gameDir: dir, gameId: 'demo', version: '1', volumeSize: 70_000, files: [{ path: 'a.bin', size: 200_000 }] });
    const { rm } = await import('node:fs/promises');
    await rm(game.archives[1] as string);
    await expect(new WorkerUnpacker().unpack({ archives: [game.archives[0] as string], targetDir: path.join(dir, 'out') })).rejects.toMatchObject({
      code: 'ARCHIVE_VOLUME_MISSING',
    });
  });

  it('cancels through the abort signal', async () => {
    const dir = await temp();
    const game = await generateGame({ gameDir: dir, gameId: 'demo', version: '1', files: [{ path: 'a.bin', size: 64 * 1024 * 1024 }] });
    const controller = new AbortController();
    const promise = new WorkerUnpacker({ progressIntervalMs: 0 }).unpack({
      archives: game.archives,
      targetDir: path.join(dir, 'out'),
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(promise).rejects.toMatchObject({ code: 'REQUEST_CANCELLED' });
  });
});

describe('which archives start a volume set', () => {
  it('picks first volumes in every naming and leaves later volumes alone', () => {
    const { first, orphans } = classifyArchiveNames([
      'a.part1.rar', 'a.part2.rar', 'b.part01.rar', 'b.part02.rar', 'c.part0001.rar', 'c.part0002.rar',
      'd.rar', 'd.r00', 'd.r01', 'e.000.rar', 'e.001.rar', 'f.001.rar', 'f.002.rar', 'g.part2.rar', 'version.ini', 'single.RAR',
    ]);
    expect(first).toEqual(['a.part1.rar', 'b.part01.rar', 'c.part0001.rar', 'd.rar', 'e.000.rar', 'f.001.rar', 'single.RAR']);
    expect(orphans).toEqual(['g.part2.rar']);
  });
});
