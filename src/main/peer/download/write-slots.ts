/**
 * At most `perFile` writes to one file at a time; further writes wait their turn (FIFO).
 *
 * Why two: a file system serialises the writers of one file on its inode lock, and thread-pool
 * threads queued on that lock spin (perf showed rwsem_spin_on_owner), so more buy nothing. But
 * one alone leaves the disk idle between a write's end and the next one's submission, which
 * waits for the main thread; with two, the next write is already queued behind the lock, the
 * same pipelining the TCP-copy baseline uses.
 */
export class WriteSlots {
  private readonly files = new Map<string, { active: number; waiting: Array<() => void> }>();

  constructor(private readonly perFile = 2) {}

  async run<T>(file: string, task: () => Promise<T>): Promise<T> {
    let slot = this.files.get(file);
    if (!slot) {
      slot = { active: 0, waiting: [] };
      this.files.set(file, slot);
    }
    if (slot.active >= this.perFile) await new Promise<void>((resolve) => slot.waiting.push(resolve));
    slot.active += 1;
    try {
      return await task();
    } finally {
      slot.active -= 1;
      const next = slot.waiting.shift();
      if (next) next();
      else if (slot.active === 0) this.files.delete(file);
    }
  }
}
