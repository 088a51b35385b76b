import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LibraryMonitor } from '../../../src/main/peer/library/library-monitor';
import { silentLogger } from '../../../src/main/peer/util/logger';
import { makeWorkDir } from '../../support/temp-dir';

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('LibraryMonitor', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let monitor: LibraryMonitor | null = null;
  const busy = new Set<string>();
  let changes: string[];

  beforeEach(async () => {
    work = await makeWorkDir('monitor');
    await mkdir(path.join(work.dir, 'demo-arena', 'local', 'deep'), { recursive: true });
    changes = [];
    busy.clear();
    monitor = new LibraryMonitor({ gameDir: work.dir, isCatalogId: (id) => id.startsWith('demo-'), debounceMs: 100, isBusy: (id) => busy.has(id), busyPollMs: 60_000, logger: silentLogger });
    monitor.on('game-changed', ({ gameId }) => changes.push(gameId));
    await monitor.start();
  });

  afterEach(async () => {
    await monitor?.stop();
    await work.cleanup();
  });

  it('reports one debounced change per game root and ignores non-catalog folders', async () => {
    await writeFile(path.join(work.dir, 'demo-arena', 'version.ini'), '1\n');
    await writeFile(path.join(work.dir, 'demo-arena', 'game.rar'), 'x');
    await mkdir(path.join(work.dir, 'other-folder'));
    await waitFor(() => changes.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changes).toEqual(['demo-arena']);
  });

  it('does not look inside local/', async () => {
    await writeFile(path.join(work.dir, 'demo-arena', 'local', 'deep', 'save.dat'), 'x');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(changes).toEqual([]);
  });

  it('holds a busy game\'s change until it is idle', async () => {
    busy.add('demo-arena');
    await writeFile(path.join(work.dir, 'demo-arena', 'version.ini'), '2\n');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(changes).toEqual([]);
    busy.delete('demo-arena');
    monitor!.notifyIdle('demo-arena');
    await waitFor(() => changes.length === 1);
    expect(changes).toEqual(['demo-arena']);
  });
});
