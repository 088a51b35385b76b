import type { ErrorInfo } from '../../../shared/errors';
import type { ProvidedItem } from './stream-provider';

/** Messages between UnrarStreamProvider and unrar-stream-worker. One stream per worker. */

export interface UnrarStreamJob {
  archives: string[];
  password?: string;
  /** Bytes the worker may have posted but the consumer not yet pulled; it blocks beyond this. */
  windowBytes: number;
}

/**
 * Flow control shared with the worker (Int32 slots of a SharedArrayBuffer): the worker adds what
 * it posts to OUTSTANDING and sleeps on it while over the window; the consumer subtracts what it
 * pulled and notifies. STOP set by the consumer makes the worker abandon the extraction.
 */
export const FLOW_OUTSTANDING = 0;
export const FLOW_STOP = 1;
export const FLOW_SLOTS = 2;

export type UnrarStreamMessage = { type: 'item'; item: ProvidedItem } | { type: 'failed'; error: ErrorInfo };
