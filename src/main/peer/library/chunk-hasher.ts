import type { Worker } from 'node:worker_threads';
import { LanspreadError } from '../../../shared/errors';
import { spawnWorker } from '../workers/spawn-worker';
import type { ByteRange, HashJob, HashReply, HashRequest } from './hash-worker';

export type { ByteRange } from './hash-worker';

type Hashes = Array<string | null>;

/**
 * Per-chunk SHA-256 of whole files, and SHA-256s of given byte ranges, computed in one long-lived
 * worker thread so hashing a large library or a resumed download never stalls the main
 * (Electron) event loop. The worker starts on first use, does not keep the process alive, and
 * is terminated by stop().
 */
export class ChunkHasher {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (hashes: Hashes) => void; reject: (error: Error) => void }>();

  /** The SHA-256 (hex) of each `chunkSize` slice of the file, the last one possibly shorter. */
  async hashFile(path: string, chunkSize: number): Promise<string[]> {
    return (await this.request({ path, chunkSize })) as string[];
  }

  /** The SHA-256 (hex) of each range, in order; null where the file ends before the range does. */
  hashRanges(path: string, ranges: readonly ByteRange[]): Promise<Hashes> {
    return this.request({ path, ranges: [...ranges] });
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

  private request(job: HashJob): Promise<Hashes> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A queued request keeps the worker referenced; an idle worker must not hold the process.
      worker.ref();
      worker.postMessage({ id, ...job } satisfies HashRequest);
    });
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
      if ('hashes' in reply) waiter.resolve(reply.hashes);
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
