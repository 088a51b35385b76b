import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { spawnWorker } from '../../../src/main/peer/workers/spawn-worker';
import { makeWorkDir } from '../../support/temp-dir';

let work: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  work = await makeWorkDir('spawn-worker');
});
afterEach(async () => work.cleanup());

it('starts a TypeScript worker from source and talks to it', async () => {
  const file = path.join(work.dir, 'data.bin');
  await writeFile(file, 'hello worker');
  const worker = spawnWorker('hash-worker');
  worker.postMessage({ id: 1, path: file, chunkSize: 5 });
  const [reply] = await once(worker, 'message');
  expect(reply).toEqual({ id: 1, crcs: [crc32('hello') >>> 0, crc32(' work') >>> 0, crc32('er') >>> 0] });
  await worker.terminate();
});
