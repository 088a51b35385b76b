import type { ErrorInfo } from '../../../shared/errors';
import type { UnpackResult } from './unpacker';

/** Messages between WorkerUnpacker and unrar-worker. One job per worker, then it exits. */

export interface UnrarJob {
  archives: string[];
  targetDir: string;
  password?: string;
  /** Minimum milliseconds between progress messages. */
  progressIntervalMs: number;
}

export type UnrarWorkerMessage =
  | { type: 'progress'; bytesDone: number; bytesTotal: number }
  | { type: 'done'; result: UnpackResult }
  | { type: 'failed'; error: ErrorInfo };
