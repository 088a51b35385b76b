import { utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChunkHasher } from '../../../src/main/peer/library/chunk-hasher';
import { FileIndex } from '../../../src/main/peer/library/file-index';
import { makeWorkDir } from '../../support/temp-dir';

describe('FileIndex', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  const hasher = new ChunkHasher();
  let calls: string[];
  const counting = { hashFile: (file: string, chunkSize: number) => (calls.push(file), hasher.hashFile(file, chunkSize)) };

  beforeEach(async () => {
    work = await makeWorkDir('file-index');
    calls = [];
  });
  afterEach(async () => {
    await hasher.stop();
    await work.cleanup();
  });

  it('hashes in the worker, reuses CRCs of unchanged files across reopen, and re-hashes changed ones', async () => {
    const file = path.join(work.dir, 'a.rar');
    await writeFile(file, 'abcdefghij');
    const index = await FileIndex.open(work.dir, counting);
    expect(await index.chunkCrcs('g', 'a.rar', file, 4)).toEqual({ size: 10, chunkCrcs: [crc32('abcd') >>> 0, crc32('efgh') >>> 0, crc32('ij') >>> 0] });
    await index.chunkCrcs('g', 'a.rar', file, 4);
    expect(calls).toHaveLength(1);
    await index.flush();

    const reopened = await FileIndex.open(work.dir, counting);
    await reopened.chunkCrcs('g', 'a.rar', file, 4);
    expect(calls).toHaveLength(1);

    await reopened.chunkCrcs('g', 'a.rar', file, 8);
    expect(calls).toHaveLength(2);
    await utimes(file, new Date(), new Date(Date.now() + 5_000));
    await reopened.chunkCrcs('g', 'a.rar', file, 8);
    expect(calls).toHaveLength(3);
    await writeFile(file, 'abcdefghijk');
    expect((await reopened.chunkCrcs('g', 'a.rar', file, 8)).size).toBe(11);
    expect(calls).toHaveLength(4);
  });

  it('starts empty from a corrupt index file', async () => {
    await writeFile(path.join(work.dir, 'library-index.json'), '{ not json');
    const file = path.join(work.dir, 'b.rar');
    await writeFile(file, '');
    const index = await FileIndex.open(work.dir, counting);
    expect(await index.chunkCrcs('g', 'b.rar', file, 4)).toEqual({ size: 0, chunkCrcs: [] });
    await index.flush();
  });
});
