import { mkdir, readFile, rmdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '../../support/sha256';
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

  it('saves again after a failed save (the failure does not poison later flushes, and its changes are not lost)', async () => {
    const file = path.join(work.dir, 'a.rar');
    await writeFile(file, 'abcdefghij');
    const index = await FileIndex.open(work.dir, counting);
    await index.chunkHashes('g', 'a.rar', file, 4);
    // A directory where the index file goes: the save fails as a full disk would.
    const target = path.join(work.dir, 'library-index.json');
    await mkdir(target);
    await expect(index.flush()).rejects.toThrow();
    await rmdir(target);
    await index.flush();
    const saved = JSON.parse(await readFile(target, 'utf8')) as { games: Record<string, Record<string, unknown>> };
    expect(Object.keys(saved.games.g ?? {})).toEqual(['a.rar']);
  });

  it('hashes in the worker, reuses CRCs of unchanged files across reopen, and re-hashes changed ones', async () => {
    const file = path.join(work.dir, 'a.rar');
    await writeFile(file, 'abcdefghij');
    const index = await FileIndex.open(work.dir, counting);
    expect(await index.chunkHashes('g', 'a.rar', file, 4)).toEqual({ size: 10, chunkHashes: [sha256Hex('abcd'), sha256Hex('efgh'), sha256Hex('ij')] });
    await index.chunkHashes('g', 'a.rar', file, 4);
    expect(calls).toHaveLength(1);
    await index.flush();

    const reopened = await FileIndex.open(work.dir, counting);
    await reopened.chunkHashes('g', 'a.rar', file, 4);
    expect(calls).toHaveLength(1);

    await reopened.chunkHashes('g', 'a.rar', file, 8);
    expect(calls).toHaveLength(2);
    await utimes(file, new Date(), new Date(Date.now() + 5_000));
    await reopened.chunkHashes('g', 'a.rar', file, 8);
    expect(calls).toHaveLength(3);
    await writeFile(file, 'abcdefghijk');
    expect((await reopened.chunkHashes('g', 'a.rar', file, 8)).size).toBe(11);
    expect(calls).toHaveLength(4);
  });

  it('drops malformed entries of an otherwise valid index and re-hashes those files', async () => {
    const file = path.join(work.dir, 'c.rar');
    await writeFile(file, 'abcdefgh');
    const index = await FileIndex.open(work.dir, counting);
    await index.chunkHashes('g', 'c.rar', file, 4);
    await index.flush();
    const stored = JSON.parse(await readFile(path.join(work.dir, 'library-index.json'), 'utf8')) as { games: Record<string, Record<string, { chunkHashes: unknown }>> };
    stored.games['g']!['c.rar']!.chunkHashes = ['1'];
    await writeFile(path.join(work.dir, 'library-index.json'), JSON.stringify(stored));
    calls = [];

    const reopened = await FileIndex.open(work.dir, counting);
    expect((await reopened.chunkHashes('g', 'c.rar', file, 4)).chunkHashes).toEqual([sha256Hex('abcd'), sha256Hex('efgh')]);
    expect(calls).toHaveLength(1);
  });

  it('forgets files that left a game and whole games', async () => {
    const a = path.join(work.dir, 'a.rar');
    const b = path.join(work.dir, 'b.rar');
    await writeFile(a, 'a');
    await writeFile(b, 'b');
    const index = await FileIndex.open(work.dir, counting);
    await index.chunkHashes('g', 'a.rar', a, 4);
    await index.chunkHashes('g', 'b.rar', b, 4);
    await index.chunkHashes('h', 'a.rar', a, 4);
    index.retain('g', new Set(['a.rar']));
    index.forgetGame('h');
    await index.flush();
    const stored = JSON.parse(await readFile(path.join(work.dir, 'library-index.json'), 'utf8')) as { schemaVersion: number; games: Record<string, Record<string, unknown>> };
    expect(stored.schemaVersion).toBe(2);
    expect(Object.keys(stored.games)).toEqual(['g']);
    expect(Object.keys(stored.games['g']!)).toEqual(['a.rar']);
  });

  it('starts empty from a corrupt index file', async () => {
    await writeFile(path.join(work.dir, 'library-index.json'), '{ not json');
    const file = path.join(work.dir, 'b.rar');
    await writeFile(file, '');
    const index = await FileIndex.open(work.dir, counting);
    expect(await index.chunkHashes('g', 'b.rar', file, 4)).toEqual({ size: 0, chunkHashes: [] });
    await index.flush();
  });
});
