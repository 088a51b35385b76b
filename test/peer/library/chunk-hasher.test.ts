import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '../../support/sha256';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ChunkHasher } from '../../../src/main/peer/library/chunk-hasher';
import { makeWorkDir } from '../../support/temp-dir';

let work: { dir: string; cleanup: () => Promise<void> };
let hasher: ChunkHasher;
beforeEach(async () => {
  work = await makeWorkDir('chunk-hasher');
  hasher = new ChunkHasher();
});
afterEach(async () => {
  await hasher.stop();
  await work.cleanup();
});

function expectedHashes(data: Buffer, chunkSize: number): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < data.byteLength; offset += chunkSize) out.push(sha256Hex(data.subarray(offset, offset + chunkSize)));
  return out;
}

it('hashes chunks larger and smaller than its read buffer, as unsigned 32-bit values', async () => {
  const data = randomBytes(13 * 1024 * 1024 + 12_345);
  const file = path.join(work.dir, 'big.rar');
  await writeFile(file, data);
  // 6 MiB chunks take two of the worker's 4 MiB reads each; 4 MiB is the production default.
  for (const chunkSize of [6 * 1024 * 1024, 4 * 1024 * 1024, 1536 * 1024, 65_536]) {
    const hashes = await hasher.hashFile(file, chunkSize);
    expect(hashes).toEqual(expectedHashes(data, chunkSize));
    for (const hash of hashes) expect(hash).toMatch(/^[0-9a-f]{64}$/);
  }
});

it('hashes given byte ranges, in the order asked, with null where the file ends first', async () => {
  const data = randomBytes(9 * 1024 * 1024 + 100);
  const file = path.join(work.dir, 'ranges.rar');
  await writeFile(file, data);
  const ranges = [
    // Larger than the worker's 4 MiB read, starting off any read boundary.
    { offset: 123, length: 5 * 1024 * 1024 },
    { offset: 0, length: 1 },
    { offset: data.byteLength - 100, length: 100 },
    // Overlapping an earlier range: ranges are independent.
    { offset: 1000, length: 65_536 },
    { offset: data.byteLength - 10, length: 11 },
    { offset: data.byteLength + 5, length: 10 },
    { offset: 500, length: 0 },
  ];
  const expected = ranges.map(({ offset, length }) => (offset + length <= data.byteLength ? sha256Hex(data.subarray(offset, offset + length)) : null));
  expect(expected.slice(-3)).toEqual([null, null, sha256Hex('')]);
  expect(await hasher.hashRanges(file, ranges)).toEqual(expected);
  await expect(hasher.hashRanges(path.join(work.dir, 'missing.rar'), ranges)).rejects.toMatchObject({ code: 'ENOENT' });
});

it('answers concurrent requests each with its own result', async () => {
  const files = await Promise.all(
    ['a', 'b', 'c', 'd'].map(async (name, i) => {
      const file = path.join(work.dir, `${name}.bin`);
      const data = randomBytes(10_000 * (i + 1));
      await writeFile(file, data);
      return { file, data };
    }),
  );
  const results = await Promise.all(files.map(({ file }) => hasher.hashFile(file, 4096)));
  results.forEach((crcs, i) => expect(crcs).toEqual(expectedHashes(files[i]!.data, 4096)));
});

it('reports a missing file with its errno code and keeps working', async () => {
  await expect(hasher.hashFile(path.join(work.dir, 'missing.rar'), 4)).rejects.toMatchObject({ code: 'ENOENT' });
  const file = path.join(work.dir, 'ok.bin');
  await writeFile(file, 'hello');
  expect(await hasher.hashFile(file, 4)).toEqual([sha256Hex('hell'), sha256Hex('o')]);
  expect(await hasher.hashFile(path.join(work.dir, 'ok.bin'), 1024)).toEqual([sha256Hex('hello')]);
});

it('stop() rejects what is pending with a code, and a later request starts a fresh worker', async () => {
  const file = path.join(work.dir, 'big.bin');
  await writeFile(file, randomBytes(8 * 1024 * 1024));
  const outcome = hasher.hashFile(file, 1024).then(
    () => 'resolved',
    (error: unknown) => error,
  );
  await hasher.stop();
  expect(await outcome).toMatchObject({ code: 'REQUEST_CANCELLED' });
  await writeFile(path.join(work.dir, 'small.bin'), 'abc');
  expect(await hasher.hashFile(path.join(work.dir, 'small.bin'), 4)).toEqual([sha256Hex('abc')]);
});
