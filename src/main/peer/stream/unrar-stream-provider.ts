import { LanspreadError } from '../../../shared/errors';
import { spawnWorker } from '../workers/spawn-worker';
import type { ProvidedItem, StreamInstallProvider, StreamSource } from './stream-provider';
import { FLOW_OUTSTANDING, FLOW_SLOTS, FLOW_STOP } from './unrar-stream-protocol';
import type { UnrarStreamJob, UnrarStreamMessage } from './unrar-stream-protocol';

export interface UnrarStreamProviderOptions {
  /** Content bytes the worker may run ahead of the consumer. */
  windowBytes?: number;
}

const DEFAULT_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * StreamInstallProvider on node-unrar-js: each stream runs in its own worker thread
 * (unrar-stream-worker.ts), which decompresses the game's archive sets in one pass and posts
 * entries and content. Memory is bounded by the window: the worker blocks once that much
 * content is posted but not yet pulled here, and a pull happens only after the previous item
 * reached the socket.
 */
export class UnrarStreamProvider implements StreamInstallProvider {
  private readonly windowBytes: number;

  constructor(options: UnrarStreamProviderOptions = {}) {
    this.windowBytes = options.windowBytes ?? DEFAULT_WINDOW_BYTES;
  }

  open(source: StreamSource, signal?: AbortSignal): AsyncIterable<ProvidedItem> {
    const windowBytes = this.windowBytes;
    return {
      [Symbol.asyncIterator]: () => new WorkerStream(source, windowBytes, signal),
    };
  }
}

class WorkerStream implements AsyncIterator<ProvidedItem> {
  private readonly control: Int32Array;
  private readonly worker;
  private readonly queue: ProvidedItem[] = [];
  private waiting: { resolve(result: IteratorResult<ProvidedItem>): void; reject(error: unknown): void } | null = null;
  private failure: LanspreadError | null = null;
  private finished = false;
  /** The worker posted its last item; its exit is then expected. */
  private producerDone = false;
  /** Content bytes handed out by the previous pull, credited back to the worker on the next. */
  private lent = 0;
  private readonly onAbort = () => this.stop(new LanspreadError('REQUEST_CANCELLED', 'Stream cancelled'));

  constructor(source: StreamSource, windowBytes: number, private readonly signal?: AbortSignal) {
    const flow = new SharedArrayBuffer(FLOW_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    this.control = new Int32Array(flow);
    const job: UnrarStreamJob = { archives: source.archives, password: source.password, windowBytes };
    this.worker = spawnWorker('unrar-stream-worker', { job, flow });
    this.worker.on('message', (message: UnrarStreamMessage) => this.onMessage(message));
    this.worker.on('error', (error) => this.stop(new LanspreadError('ARCHIVE_DAMAGED', `Stream worker crashed: ${error.message}`, { cause: error })));
    this.worker.on('exit', () => {
      if (!this.producerDone) this.stop(new LanspreadError('INTERNAL', 'Stream worker exited before the end of the stream'));
    });
    if (signal?.aborted) this.onAbort();
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  next(): Promise<IteratorResult<ProvidedItem>> {
    this.creditBack();
    const item = this.queue.shift();
    if (item) return Promise.resolve(this.handOut(item));
    if (this.failure) return Promise.reject(this.failure);
    if (this.finished) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<ProvidedItem>> {
    this.stop(null);
    return Promise.resolve({ done: true, value: undefined });
  }

  private handOut(item: ProvidedItem): IteratorResult<ProvidedItem> {
    if (item.type === 'data') this.lent = item.bytes.byteLength;
    if (item.type === 'end') this.shutDown();
    return { done: false, value: item };
  }

  private creditBack(): void {
    if (this.lent === 0) return;
    Atomics.sub(this.control, FLOW_OUTSTANDING, this.lent);
    Atomics.notify(this.control, FLOW_OUTSTANDING);
    this.lent = 0;
  }

  private onMessage(message: UnrarStreamMessage): void {
    if (this.finished) return;
    if (message.type === 'item' && message.item.type === 'end') this.producerDone = true;
    if (message.type === 'failed') {
      this.stop(LanspreadError.fromInfo(message.error));
      return;
    }
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = null;
      waiting.resolve(this.handOut(message.item));
    } else {
      this.queue.push(message.item);
    }
  }

  /** Ends the stream: with `failure` the pending and next pulls reject; null is a quiet stop. */
  private stop(failure: LanspreadError | null): void {
    if (this.finished) return;
    this.failure = failure;
    this.queue.length = 0;
    this.shutDown();
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) {
      if (failure) waiting.reject(failure);
      else waiting.resolve({ done: true, value: undefined });
    }
  }

  private shutDown(): void {
    this.finished = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    // Wake a worker sleeping on the window so it sees STOP (terminate alone may wait for it).
    Atomics.store(this.control, FLOW_STOP, 1);
    Atomics.notify(this.control, FLOW_OUTSTANDING);
    void this.worker.terminate();
  }
}
