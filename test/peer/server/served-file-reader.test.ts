import { randomBytes } from 'node:crypto';
import { readdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import { PIECE_BYTES, ServedFileReader } from '../../../src/main/peer/server/served-file-reader';
import { makeWorkDir } from '../../support/temp-dir';

const MiB = 1024 * 1024;
let work: { dir: string; cleanup: () => Promise<void> };
let file: string;
let data: Buffer;
let reader: ServedFileReader;
/** How many times the reader asked for a full check of a path. */
let validations: number;
const asIs = (target: string) => () => {
  validations++;
  return Promise.resolve(target);
};

beforeEach(async () => {
  work = await makeWorkDir('served-file-reader');
  file = path.join(work.dir, 'game.rar');
  data = randomBytes(3 * MiB + 12_345);
  await writeFile(file, data);
  reader = new ServedFileReader();
  validations = 0;
});
afterEach(async () => {
  await reader.close();
  await work.cleanup();
});

/** Copies each piece before pulling the next: the reader's contract (pieces are reused buffers). */
async function collect(pieces: AsyncIterable<Uint8Array>, sizes: number[] = []): Promise<Buffer> {
  const copies: Buffer[] = [];
  for await (const piece of pieces) {
    sizes.push(piece.byteLength);
    copies.push(Buffer.from(piece));
  }
  return Buffer.concat(copies);
}

async function readRange(target: string, offset: number, length: number, sizes: number[] = []): Promise<Buffer> {
  return collect(reader.read(await reader.check(target, asIs(target)), offset, length), sizes);
}

async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

describe('ServedFileReader', () => {
  it('yields exactly the range, in pieces of at most 256 KiB', async () => {
    const sizes: number[] = [];
    const offset = 777;
    const length = 2 * MiB + 4_000;
    expect((await readRange(file, offset, length, sizes)).equals(data.subarray(offset, offset + length))).toBe(true);
    expect(Math.max(...sizes)).toBe(PIECE_BYTES);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(length);
  });

  it('stops short at the end of a shorter file (the sender checks the count)', async () => {
    const out = await readRange(file, data.byteLength - 10, 100);
    expect(out.equals(data.subarray(data.byteLength - 10))).toBe(true);
  });

  it('gives concurrent readers their own bytes although buffers are pooled and the file is opened once', async () => {
    const before = await openDescriptors();
    const ranges = [0, 1, 2, 3].map((i) => ({ offset: i * 700_000, length: MiB + i * 1000 }));
    const results = await Promise.all(ranges.map(({ offset, length }) => readRange(file, offset, length)));
    results.forEach((out, i) => {
      const { offset, length } = ranges[i]!;
      expect(out.equals(data.subarray(offset, offset + length))).toBe(true);
    });
    expect(reader.openCount).toBe(1);
    expect(await openDescriptors()).toBe(before + 1);
  });

  it('checks a path in full once, and again only when it leads to another file', async () => {
    await readRange(file, 0, 10);
    await readRange(file, 10, 10);
    expect(validations).toBe(1);
    // Replaced by an update: a new inode at the same path, so it is checked again and its new bytes are read.
    const replacement = randomBytes(1000);
    await writeFile(`${file}.new`, replacement);
    await rename(`${file}.new`, file);
    expect((await readRange(file, 0, 1000)).equals(replacement)).toBe(true);
    expect(validations).toBe(2);
  });

  it('refuses a path whose check fails, and one swapped for a symlink to another file is checked again', async () => {
    const outside = path.join(work.dir, 'outside.bin');
    await writeFile(outside, 'secret');
    await readRange(file, 0, 10);
    const refuse = () => Promise.reject(new LanspreadError('PATH_OUTSIDE_ROOT', 'resolves outside the game root'));
    await rename(file, `${file}.old`);
    await symlink(outside, file);
    await expect(reader.check(file, refuse)).rejects.toMatchObject({ code: 'PATH_OUTSIDE_ROOT' });
  });

  it('closes the file when the reader closes, also after a consumer stopped early', async () => {
    const before = await openDescriptors();
    for await (const piece of reader.read(await reader.check(file, asIs(file)), 0, 3 * MiB)) {
      expect(piece.byteLength).toBe(PIECE_BYTES);
      break;
    }
    expect((await readRange(file, 5, 2 * MiB)).equals(data.subarray(5, 5 + 2 * MiB))).toBe(true);
    await reader.close();
    expect(reader.openCount).toBe(0);
    expect(await openDescriptors()).toBe(before);
  });

  it('rejects a missing file with the check’s error', async () => {
    const missing = path.join(work.dir, 'missing.rar');
    await expect(reader.check(missing, () => Promise.reject(new LanspreadError('FILE_NOT_FOUND', 'No such file')))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await expect(reader.check(missing, asIs(missing))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});
