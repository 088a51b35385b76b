import { parentPort, workerData } from 'node:worker_threads';
import { toLanspreadError } from '../../../shared/errors';
import { ensureFreeSpace } from '../fs/free-space';
import { extractArchiveSet, listArchiveSize } from './unrar-extract';
import type { UnrarJob, UnrarWorkerMessage } from './unrar-protocol';
import type { UnpackResult } from './unpacker';

/**
 * Worker entry: extracts the archive sets of one job, then ends. A fresh worker per job means a
 * fresh wasm instance, so a failure that left unrar's state half-open cannot leak into the next.
 */

function post(message: UnrarWorkerMessage): void {
  parentPort?.postMessage(message);
}

async function run(job: UnrarJob): Promise<UnpackResult> {
  let bytesTotal = 0;
  for (const archive of job.archives) bytesTotal += await listArchiveSize(archive, job.password);
  // The exact unpacked size is known only here, from the headers: refuse before the first byte.
  await ensureFreeSpace(job.targetDir, bytesTotal, 'the install');
  let bytesDone = 0;
  let lastPost = 0;
  post({ type: 'progress', bytesDone, bytesTotal });
  const total: UnpackResult = { files: 0, directories: 0, bytes: 0, skippedLinks: [] };
  for (const archive of job.archives) {
    const result = await extractArchiveSet({
      archive,
      targetDir: job.targetDir,
      password: job.password,
      onBytes(delta) {
        bytesDone += delta;
        const now = Date.now();
        if (now - lastPost >= job.progressIntervalMs) {
          lastPost = now;
          post({ type: 'progress', bytesDone, bytesTotal });
        }
      },
    });
    total.files += result.files;
    total.directories += result.directories;
    total.bytes += result.bytes;
    total.skippedLinks.push(...result.skippedLinks);
  }
  post({ type: 'progress', bytesDone, bytesTotal: Math.max(bytesTotal, bytesDone) });
  return total;
}

const job = (workerData as { job: UnrarJob }).job;
run(job).then(
  (result) => post({ type: 'done', result }),
  (error: unknown) => post({ type: 'failed', error: toLanspreadError(error, 'ARCHIVE_DAMAGED').toInfo() }),
);
