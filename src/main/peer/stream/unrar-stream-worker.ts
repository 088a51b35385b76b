import { parentPort, workerData } from 'node:worker_threads';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import { listArchiveHeaders, openArchiveSet, walkEntries } from '../unpack/unrar-extract';
import type { OutputSide } from '../unpack/unrar-extract';
import type { FileHeader } from 'node-unrar-js';
import { crc32Update } from '../util/crc32';
import type { ProvidedItem } from './stream-provider';
import { FLOW_OUTSTANDING, FLOW_STOP } from './unrar-stream-protocol';
import type { UnrarStreamJob, UnrarStreamMessage } from './unrar-stream-protocol';

/**
 * Worker entry: one pass of node-unrar-js over a game's archive sets, turning each entry into
 * stream items instead of files. Solid and multi-volume sets are decompressed exactly once.
 * unrar's write hook is synchronous, so backpressure is a blocking wait on shared memory: the
 * worker sleeps while more than `windowBytes` it posted are still unread by the consumer.
 */

const { job, flow } = workerData as { job: UnrarStreamJob; flow: SharedArrayBuffer };
const control = new Int32Array(flow);

function post(message: UnrarStreamMessage, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

function emit(item: ProvidedItem): void {
  post({ type: 'item', item });
}

function stopped(): boolean {
  return Atomics.load(control, FLOW_STOP) !== 0;
}

/** Sleeps until the consumer has caught up to within the window (or asked us to stop). */
function waitForWindow(): void {
  for (;;) {
    if (stopped()) throw new LanspreadError('REQUEST_CANCELLED', 'Stream stopped by the consumer');
    const outstanding = Atomics.load(control, FLOW_OUTSTANDING);
    if (outstanding <= job.windowBytes) return;
    Atomics.wait(control, FLOW_OUTSTANDING, outstanding, 1_000);
  }
}

/**
 * unrar calls `create` while it processes the next header of the walk, so the header that says
 * an entry's size is found by position, not by name (unrar may rewrite names it writes).
 */
interface Walk {
  headers: FileHeader[];
  /** Index of the header unrar is processing now. */
  position: number;
}

function streamOutput(totals: { files: number; bytes: number }, walk: Walk): OutputSide {
  const side: OutputSide = {
    created: 0,
    create(name) {
      side.created += 1;
      const size = walk.headers[walk.position]?.unpSize ?? 0;
      emit({ type: 'entry', path: name, kind: 'file', size });
      let crc = 0;
      return {
        write(view) {
          const bytes = view.slice();
          crc = crc32Update(bytes, crc);
          totals.bytes += bytes.byteLength;
          Atomics.add(control, FLOW_OUTSTANDING, bytes.byteLength);
          post({ type: 'item', item: { type: 'data', bytes } }, [bytes.buffer]);
          waitForWindow();
        },
        close() {
          totals.files += 1;
          emit({ type: 'entry-end', crc32: crc });
        },
      };
    },
  };
  return side;
}

async function run(): Promise<void> {
  // Header-only pass first: the totals go out before any content.
  const walks: Walk[] = [];
  let entries = 0;
  let totalBytes = 0;
  for (const archive of job.archives) {
    const headers = await listArchiveHeaders(archive, job.password);
    walks.push({ headers, position: 0 });
    entries += headers.length;
    for (const header of headers) if (!header.flags.directory) totalBytes += header.unpSize;
  }
  emit({ type: 'begin', entries, totalBytes });
  const totals = { files: 0, directories: 0, bytes: 0 };
  for (const [index, archive] of job.archives.entries()) {
    const walk = walks[index] as Walk;
    const output = streamOutput(totals, walk);
    const extractor = await openArchiveSet(archive, output, job.password);
    await walkEntries(extractor, { archive, password: job.password }, output, {
      directory(name) {
        totals.directories += 1;
        emit({ type: 'entry', path: name.replace(/\/+$/, ''), kind: 'directory', size: 0 });
        walk.position += 1;
      },
      file: () => void (walk.position += 1),
      // Links are never materialised by an install either; the receiver simply never sees them.
      link: () => void (walk.position += 1),
    });
  }
  emit({ type: 'end', ...totals });
}

run().catch((error: unknown) => post({ type: 'failed', error: toLanspreadError(error, 'ARCHIVE_DAMAGED').toInfo() }));
