/**
 * Equal-sized buffers kept for reuse.
 *
 * Why: a buffer that a disk write or a socket holds for a few milliseconds outlives the young
 * generation's collections. Allocated fresh per MiB, every such buffer is promoted and its
 * memory comes back only with a major GC; over a multi-gigabyte transfer, V8's marking and
 * sweeping then took about a sixth of the CPU (perf, `npm run bench download`). Reused, those
 * buffers make no garbage at all.
 */
export class BufferPool {
  private readonly kept: Buffer[] = [];

  constructor(
    readonly bufferBytes: number,
    private readonly maxKept: number,
  ) {}

  take(): Buffer {
    return this.kept.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes);
  }

  /** Only once nothing (no read, write or send in flight) still uses the buffer's memory. */
  give(buffer: Buffer): void {
    if (this.kept.length < this.maxKept && buffer.byteLength === this.bufferBytes) this.kept.push(buffer);
  }
}
