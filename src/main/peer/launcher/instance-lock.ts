import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LanspreadError } from '../../../shared/errors';
import { preparePrivateStateDir } from '../fs/private-files';

/**
 * One running peer per state directory. Two would share identity, journals and intents, and
 * the second would take the first one's control socket over. The lock is a file created with
 * O_EXCL that records the holder's pid; a lock whose pid no longer runs (a crash, a SIGKILL)
 * is stale and taken over.
 */
const LOCK_FILE = 'instance.lock';
const ATTEMPTS = 3;

export class InstanceLock {
  private constructor(private readonly file: string) {}

  static async acquire(stateDir: string): Promise<InstanceLock> {
    const file = path.join(stateDir, LOCK_FILE);
    await preparePrivateStateDir(stateDir);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        const handle = await open(file, 'wx', 0o600);
        try {
          await handle.writeFile(`${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() })}\n`);
        } finally {
          await handle.close();
        }
        return new InstanceLock(file);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
      }
      // An empty lock may be one that its holder is writing right now: look once more.
      const holder = (await readHolder(file)) ?? (await sleep(100).then(() => readHolder(file)));
      if (holder !== null && holder !== process.pid && isRunning(holder)) {
        throw new LanspreadError('ALREADY_RUNNING', `Another Lanspread peer (pid ${holder}) already uses the state directory ${stateDir}; stop it first, or give this one another --state-dir`);
      }
      // Stale: renamed aside first, so of two starting at once only one removes it.
      const aside = `${file}.stale.${process.pid}`;
      await rename(file, aside).then(
        () => rm(aside, { force: true }),
        () => undefined,
      );
    }
    throw new LanspreadError('ALREADY_RUNNING', `Could not take the lock ${file}: another peer is starting on the same state directory`);
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    if ((await readHolder(this.file)) === process.pid) await rm(this.file, { force: true });
  }
}

async function readHolder(file: string): Promise<number | null> {
  try {
    const pid = (JSON.parse(await readFile(file, 'utf8')) as { pid?: unknown }).pid;
    return Number.isSafeInteger(pid) && (pid as number) > 0 ? (pid as number) : null;
  } catch {
    // Missing, or written only partly by a holder that died while creating it: stale.
    return null;
  }
}

/** Signal 0 checks existence only; EPERM means it exists under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}
