/**
 * Starts writing a download's bytes to the disk while the transfer is still running. Without
 * it the kernel keeps every written byte dirty in the page cache (the background threshold is
 * a tenth of RAM), and the commit's fdatasync then waits for the whole game to reach the disk:
 * measured here, half a second per GiB of idle tail after the last chunk. Flushing each file
 * every `everyBytes` written spreads that work over the transfer, so the commit finds little
 * left to write, and the page cache never holds gigabytes of dirty payload.
 *
 * One flush runs at a time (a flush occupies a thread-pool thread for its duration, and the
 * writes need the pool too). A flush error is kept for the commit to throw: Linux reports a
 * writeback error to one fsync only, so the commit's own fdatasync might no longer see it.
 */
export class WritebackPacer {
  private readonly dirty = new Map<string, number>();
  private running: Promise<void> | null = null;
  private failure: unknown = null;

  constructor(
    private readonly flush: (file: string) => Promise<void>,
    private readonly everyBytes = 64 * 1024 * 1024,
  ) {}

  wrote(file: string, bytes: number): void {
    this.dirty.set(file, (this.dirty.get(file) ?? 0) + bytes);
    this.startNext();
  }

  /** Waits for the flush in progress, if any; starts no new one. */
  async idle(): Promise<void> {
    this.dirty.clear();
    while (this.running) await this.running;
  }

  /** The first flush error since the last call, if any (the commit throws it). */
  takeError(): unknown {
    const failure = this.failure;
    this.failure = null;
    return failure;
  }

  private startNext(): void {
    if (this.running) return;
    const file = this.pick();
    if (file === null) return;
    this.dirty.delete(file);
    const run = this.flush(file)
      .catch((error: unknown) => void (this.failure ??= error ?? new Error('flush failed')))
      .finally(() => {
        this.running = null;
        this.startNext();
      });
    this.running = run;
  }

  private pick(): string | null {
    for (const [file, bytes] of this.dirty) if (bytes >= this.everyBytes) return file;
    return null;
  }
}
