import type { Worker } from 'node:worker_threads';
import { LanspreadError } from '../../../shared/errors';
import { spawnWorker } from '../workers/spawn-worker';
import type { HashReply, HashRequest } from './hash-worker';

/**
 * Per-chunk CRC32 of whole files, computed in one long-lived worker thread so hashing a large
 * library never stalls the main (Electron) event loop. The worker starts on first use, does not
 * keep the process alive, and is terminated by stop().
 */
export class ChunkHasher {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (crcs: number[]) => void; reject: (error: Error) => void }>();

  hashFile(path: string, chunkSize: number): Promise<number[]> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A queued request keeps the worker referenced; an idle worker must not hold the process.
      worker.ref();
      worker.postMessage({ id, path, chunkSize } satisfies HashRequest);
    });
  }

  /** Starts the worker now (it still does not keep the process alive), so the next request finds it running. */
  warmUp(): void {
    this.ensureWorker();
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.failAll(new LanspreadError('REQUEST_CANCELLED', 'Hasher stopped'));
    await worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnWorker('hash-worker');
    worker.unref();
    worker.on('message', (reply: HashReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('crcs' in reply) waiter.resolve(reply.crcs);
      else waiter.reject(Object.assign(new Error(reply.error.message), reply.error.code ? { code: reply.error.code } : {}));
    });
    worker.on('error', (error) => {
      this.failAll(error);
      if (this.worker === worker) this.worker = null;
    });
    worker.on('exit', () => {
      this.failAll(new LanspreadError('INTERNAL', 'Hash worker exited'));
      if (this.worker === worker) this.worker = null;
    });
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
