import type { DownloadPlan } from './download-plan';
import type { PlannedChunk } from './types';

/** Re-reads chunks of one file from disk: those (of the ones given) whose bytes do not match their hash. */
export type FileCheck = (chunks: readonly PlannedChunk[]) => Promise<PlannedChunk[]>;

/** Verified chunks of one file read back together once they add up to this much (or the file is complete). */
export const CHECK_BATCH_BYTES = 32 * 1024 * 1024;

interface FileState {
  chunks: PlannedChunk[];
  /** Chunk ids of this file not verified yet. */
  unverified: Set<number>;
  /** Verified, not yet read back. */
  batch: PlannedChunk[];
  batchBytes: number;
  /** Ids already handed to a check (each chunk is read back once). */
  queued: Set<number>;
  /** The file's checks run one after another, in the order their batches filled: the last one, while it runs. */
  tail: Promise<void> | null;
}

/**
 * The whole-file check: every byte of every payload file is read back from disk and matched
 * against its chunk hashes before the download may commit. A chunk is read back once it is
 * verified, in batches of CHECK_BATCH_BYTES per file, while later chunks still arrive: once
 * verified, no byte of this download lands in a chunk's range again (an attempt's writes end
 * before its chunk counts, and an endgame copy is written only after the other attempt
 * stopped), so reading it then checks what the commit will find. A 500 MiB archive no longer
 * waits a third of a second for its check after its last byte. `finish()` checks what is left
 * and gives every bad chunk; the download commits only if there is none.
 */
export class WholeFileChecks {
  private readonly files = new Map<number, FileState>();
  private readonly results: Promise<PlannedChunk[]>[] = [];

  constructor(
    plan: DownloadPlan,
    private readonly check: FileCheck,
    private readonly batchBytes = CHECK_BATCH_BYTES,
  ) {
    for (const chunk of plan.chunks) {
      if (chunk.fileIndex === plan.sentinelIndex) continue;
      let file = this.files.get(chunk.fileIndex);
      if (!file) {
        file = { chunks: [], unverified: new Set(), batch: [], batchBytes: 0, queued: new Set(), tail: null };
        this.files.set(chunk.fileIndex, file);
      }
      file.chunks.push(chunk);
      file.unverified.add(chunk.id);
    }
  }

  /** Counts a verified chunk (once per chunk); a full batch, or the file's last chunk, starts a check. */
  verified(chunk: PlannedChunk): void {
    const file = this.files.get(chunk.fileIndex);
    if (!file || !file.unverified.delete(chunk.id)) return;
    file.batch.push(chunk);
    file.batchBytes += chunk.length;
    if (file.batchBytes >= this.batchBytes || file.unverified.size === 0) this.flush(file);
  }

  /** Checks every chunk not checked yet and waits for all: the chunks that failed, if any. */
  async finish(): Promise<PlannedChunk[]> {
    for (const file of this.files.values()) {
      file.batch = file.chunks.filter((chunk) => !file.queued.has(chunk.id));
      this.flush(file);
    }
    const results = await Promise.all(this.results);
    return results.flat();
  }

  /** Waits for the checks already running (a download ending early must leave no reader behind). */
  async settle(): Promise<void> {
    await Promise.all(this.results);
  }

  private flush(file: FileState): void {
    const batch = file.batch;
    file.batch = [];
    file.batchBytes = 0;
    if (batch.length === 0) return;
    for (const chunk of batch) file.queued.add(chunk.id);
    // A check that cannot read its file counts all of its chunks as bad.
    const run = () => this.check(batch).catch(() => [...batch]);
    const result = file.tail ? file.tail.then(run) : run();
    const tail = result.then(() => {
      if (file.tail === tail) file.tail = null;
    });
    file.tail = tail;
    this.results.push(result);
  }
}
