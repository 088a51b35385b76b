import { LanspreadError } from '../../../shared/errors';
import { spawnWorker } from '../workers/spawn-worker';
import type { UnrarJob, UnrarWorkerMessage } from './unrar-protocol';
import type { Unpacker, UnpackRequest, UnpackResult } from './unpacker';

export interface WorkerUnpackerOptions {
  progressIntervalMs?: number;
}

/**
 * Unpacker on node-unrar-js: each unpack() runs in its own worker thread (node-unrar-js keeps
 * one wasm instance per thread, and a second extractor in the same thread hijacks the first),
 * so concurrent installs of different games never share an instance. Cancelling terminates the
 * worker: extraction is synchronous and cannot be interrupted any other way.
 */
export class WorkerUnpacker implements Unpacker {
  private readonly progressIntervalMs: number;

  constructor(options: WorkerUnpackerOptions = {}) {
    this.progressIntervalMs = options.progressIntervalMs ?? 100;
  }

  unpack(request: UnpackRequest): Promise<UnpackResult> {
    if (request.archives.length === 0) {
      return Promise.reject(new LanspreadError('ARCHIVE_NOT_FOUND', 'No archive to extract'));
    }
    if (request.signal?.aborted) return Promise.reject(cancelled());
    const job: UnrarJob = {
      archives: request.archives,
      targetDir: request.targetDir,
      password: request.password,
      progressIntervalMs: this.progressIntervalMs,
    };
    const worker = spawnWorker('unrar-worker', { job });
    return new Promise<UnpackResult>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        request.signal?.removeEventListener('abort', onAbort);
        void worker.terminate();
        outcome();
      };
      const onAbort = () => finish(() => reject(cancelled()));
      request.signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (message: UnrarWorkerMessage) => {
        switch (message.type) {
          case 'progress':
            if (!settled) request.onProgress?.(message.bytesDone, message.bytesTotal);
            break;
          case 'done':
            finish(() => resolve(message.result));
            break;
          case 'failed':
            finish(() => reject(LanspreadError.fromInfo(message.error)));
            break;
        }
      });
      worker.on('error', (error) => finish(() => reject(new LanspreadError('ARCHIVE_DAMAGED', `Extraction worker crashed: ${error.message}`, { cause: error }))));
      worker.on('exit', (code) => finish(() => reject(new LanspreadError('INTERNAL', `Extraction worker exited (${code}) before finishing`))));
    });
  }
}

function cancelled(): LanspreadError {
  return new LanspreadError('REQUEST_CANCELLED', 'Extraction cancelled');
}
