import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { spawnWorker } from '../../../src/main/peer/workers/spawn-worker';
import { sha256Hex } from '../../support/sha256';
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
  expect(reply).toEqual({ id: 1, hashes: [sha256Hex('hello'), sha256Hex(' work'), sha256Hex('er')] });
  await worker.terminate();
});
