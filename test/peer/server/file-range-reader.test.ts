import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileRange } from '../../../src/main/peer/server/file-range-reader';
import { makeWorkDir } from '../../support/temp-dir';

const MiB = 1024 * 1024;
let work: { dir: string; cleanup: () => Promise<void> };
let file: string;
let data: Buffer;

beforeEach(async () => {
  work = await makeWorkDir('file-range');
  file = path.join(work.dir, 'game.rar');
  data = randomBytes(3 * MiB + 12_345);
  await writeFile(file, data);
});
afterEach(async () => work.cleanup());

/** Copies each piece before pulling the next: the reader's contract (pieces are reused buffers). */
async function collect(pieces: AsyncIterable<Uint8Array>, sizes: number[] = []): Promise<Buffer> {
  const copies: Buffer[] = [];
  for await (const piece of pieces) {
    sizes.push(piece.byteLength);
    copies.push(Buffer.from(piece));
  }
  return Buffer.concat(copies);
}

async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

describe('readFileRange', () => {
  it('yields exactly the range, in pieces of at most 1 MiB', async () => {
    const sizes: number[] = [];
    const offset = 777;
    const length = 2 * MiB + 4_000;
    expect((await collect(readFileRange(file, offset, length), sizes)).equals(data.subarray(offset, offset + length))).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MiB);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(length);
  });

  it('stops short at the end of a shorter file (the sender checks the count)', async () => {
    const out = await collect(readFileRange(file, data.byteLength - 10, 100));
    expect(out.equals(data.subarray(data.byteLength - 10))).toBe(true);
  });

  it('gives concurrent readers their own bytes although buffers are pooled', async () => {
    const ranges = [0, 1, 2, 3].map((i) => ({ offset: i * 700_000, length: MiB + i * 1000 }));
    const results = await Promise.all(ranges.map(({ offset, length }) => collect(readFileRange(file, offset, length))));
    results.forEach((out, i) => {
      const { offset, length } = ranges[i]!;
      expect(out.equals(data.subarray(offset, offset + length))).toBe(true);
    });
  });

  it('closes the file when the consumer stops early, and a later read is intact', async () => {
    const before = await openDescriptors();
    for await (const piece of readFileRange(file, 0, 3 * MiB)) {
      expect(piece.byteLength).toBe(MiB);
      break;
    }
    expect(await openDescriptors()).toBe(before);
    expect((await collect(readFileRange(file, 5, 2 * MiB))).equals(data.subarray(5, 5 + 2 * MiB))).toBe(true);
  });

  it('rejects a missing file with its errno code', async () => {
    await expect(collect(readFileRange(path.join(work.dir, 'missing.rar'), 0, 10))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
