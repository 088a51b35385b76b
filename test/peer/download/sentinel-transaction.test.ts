import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { sha256Hex } from '../../support/sha256';
import CRC32 from 'crc-32';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32Update } from '../../../src/main/peer/util/crc32';
import { buildDownloadPlan } from '../../../src/main/peer/download/download-plan';
import { SentinelTransaction } from '../../../src/main/peer/download/sentinel-transaction';
import type { GameManifest } from '../../../src/shared/model';
import { makeTempDir } from '../../support/install-helpers';
import { exists, patternBytes } from './seed-helpers';

const ZERO_HASH = '0'.repeat(64);

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir('sentinel'));
});

afterEach(async () => {
  await cleanup();
});

const manifest: GameManifest = {
  gameId: 'g',
  version: '2',
  chunkSize: 4,
  files: [
    { path: 'version.ini', size: 2, chunkHashes: [sha256Hex('v2')] },
    { path: 'same-size.rar', size: 8, chunkHashes: [ZERO_HASH, ZERO_HASH] },
    { path: 'resized.rar', size: 6, chunkHashes: [ZERO_HASH, ZERO_HASH] },
    { path: 'sub/new.rar', size: 3, chunkHashes: [ZERO_HASH] },
  ],
};

describe('SentinelTransaction', () => {
  it('parks version.ini, pre-creates without truncating, writes at offsets and commits the sentinel last', async () => {
    const root = path.join(dir, 'g');
    await mkdir(path.join(root, 'local'), { recursive: true });
    await writeFile(path.join(root, 'local', 'keep.txt'), 'mine');
    await writeFile(path.join(root, '.lanspread_owned'), 'marker');
    await writeFile(path.join(root, 'version.ini'), 'v1');
    await writeFile(path.join(root, 'same-size.rar'), 'ABCDEFGH');
    await writeFile(path.join(root, 'resized.rar'), 'much longer than six bytes');
    await writeFile(path.join(root, 'stale.rar'), 'old archive');
    const transaction = new SentinelTransaction(buildDownloadPlan(manifest, root));

    await transaction.begin();
    expect(await exists(path.join(root, 'version.ini'))).toBe(false);
    expect(await readFile(path.join(root, '.version.ini.discarded'), 'utf8')).toBe('v1');
    expect(await readFile(path.join(root, 'same-size.rar'), 'utf8')).toBe('ABCDEFGH');
    expect((await stat(path.join(root, 'resized.rar'))).size).toBe(6);
    expect((await stat(path.join(root, 'sub', 'new.rar'))).size).toBe(3);

    await transaction.write(1, 4, Buffer.from('wxyz'));
    await transaction.write(0, 0, Buffer.from('v2'));
    expect(await readFile(path.join(root, 'same-size.rar'), 'utf8')).toBe('ABCDwxyz');
    // The sentinel is only in memory until the commit.
    expect(await exists(path.join(root, 'version.ini'))).toBe(false);

    await transaction.commit();
    expect(await readFile(path.join(root, 'version.ini'), 'utf8')).toBe('v2');
    expect((await readdir(root)).sort()).toEqual(['.lanspread_owned', 'local', 'resized.rar', 'same-size.rar', 'sub', 'version.ini']);
    expect(await readFile(path.join(root, 'local', 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('a failure sweeps the sentinels without restoring the old one and keeps the payload', async () => {
    const root = path.join(dir, 'g');
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, 'version.ini'), 'v1');
    const transaction = new SentinelTransaction(buildDownloadPlan(manifest, root));
    await transaction.begin();
    await writeFile(path.join(root, '.version.ini.tmp'), 'partial');
    await transaction.fail();
    expect((await readdir(root)).sort()).toEqual(['resized.rar', 'same-size.rar', 'sub']);
  });

  it('discarding the payload removes the manifest files and folders it emptied, nothing else', async () => {
    const root = path.join(dir, 'g');
    await mkdir(path.join(root, 'local'), { recursive: true });
    await writeFile(path.join(root, 'local', 'keep.txt'), 'mine');
    await writeFile(path.join(root, 'version.ini'), 'v1');
    const transaction = new SentinelTransaction(buildDownloadPlan(manifest, root));
    await transaction.begin();
    await transaction.discardPayload();
    expect(await readdir(root)).toEqual(['local']);
  });
});

describe('crc32Update', () => {
  it('chains like zlib, and the crc-32 fallback gives the same values', () => {
    const data = patternBytes('crc', 300_000);
    const whole = crc32(data);
    let chained = 0;
    let fallback = 0;
    for (let at = 0; at < data.length; at += 70_000) {
      chained = crc32Update(data.subarray(at, at + 70_000), chained);
      fallback = CRC32.buf(data.subarray(at, at + 70_000), fallback) >>> 0;
    }
    expect(chained).toBe(whole);
    expect(fallback).toBe(whole);
  });
});
