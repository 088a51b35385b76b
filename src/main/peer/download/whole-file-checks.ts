import type { DownloadPlan } from './download-plan';
import type { PlannedChunk } from './types';

/** Re-reads one file from disk: its chunks (of those given) whose bytes do not match their CRC. */
export type FileCheck = (chunks: readonly PlannedChunk[]) => Promise<PlannedChunk[]>;

/**
 * The whole-file check, file by file: a payload file is read back from disk as soon as every
 * one of its chunks has been verified, which is when no further byte of this download can land
 * in it. A game of many archive volumes is thus mostly checked while its later volumes still
 * arrive, instead of all of it after the last chunk. `finish()` checks what is left and gives
 * every bad chunk; the download commits only if there is none.
 */
export class WholeFileChecks {
  private readonly chunksByFile = new Map<number, PlannedChunk[]>();
  private readonly unverified = new Map<number, number>();
  private readonly running = new Map<number, Promise<PlannedChunk[]>>();

  constructor(
    plan: DownloadPlan,
    private readonly check: FileCheck,
  ) {
    for (const chunk of plan.chunks) {
      if (chunk.fileIndex === plan.sentinelIndex) continue;
      const list = this.chunksByFile.get(chunk.fileIndex) ?? [];
      list.push(chunk);
      this.chunksByFile.set(chunk.fileIndex, list);
      this.unverified.set(chunk.fileIndex, (this.unverified.get(chunk.fileIndex) ?? 0) + 1);
    }
  }

  /** Counts a verified chunk (once per chunk); the file's check starts with its last one. */
  verified(chunk: PlannedChunk): void {
    const left = this.unverified.get(chunk.fileIndex);
    if (left === undefined) return;
    if (left > 1) {
      this.unverified.set(chunk.fileIndex, left - 1);
      return;
    }
    this.unverified.delete(chunk.fileIndex);
    this.start(chunk.fileIndex);
  }

  /** Checks every file not checked yet and waits for all: the chunks that failed, if any. */
  async finish(): Promise<PlannedChunk[]> {
    for (const fileIndex of this.chunksByFile.keys()) this.start(fileIndex);
    const results = await Promise.all(this.running.values());
    return results.flat();
  }

  /** Waits for the checks already running (a download ending early must leave no reader behind). */
  async settle(): Promise<void> {
    await Promise.all(this.running.values());
  }

  private start(fileIndex: number): void {
    if (this.running.has(fileIndex)) return;
    const chunks = this.chunksByFile.get(fileIndex) ?? [];
    // A check that cannot read its file counts all of that file's chunks as bad.
    this.running.set(
      fileIndex,
      this.check(chunks).catch(() => [...chunks]),
    );
  }
}
