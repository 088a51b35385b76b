import { once } from 'node:events';
import { expect, it } from 'vitest';
import { spawnWorker } from '../../../src/main/peer/workers/spawn-worker';

it('starts a TypeScript worker from source', async () => {
  const worker = spawnWorker('hash-worker');
  const [message] = await once(worker, 'message');
  expect(message).toEqual({ hello: 'from ts worker', typed: 1 });
  await worker.terminate();
});
