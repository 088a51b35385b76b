import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LibraryMonitor, type MonitorTimers } from '../../../src/main/peer/library/library-monitor';
import { silentLogger } from '../../../src/main/peer/util/logger';
import { makeWorkDir } from '../../support/temp-dir';

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Real timers that remember which ones are still pending, to prove stop() clears them all. */
function trackedTimers(): MonitorTimers & { live: Set<NodeJS.Timeout> } {
  const live = new Set<NodeJS.Timeout>();
  return {
    live,
    setTimeout(callback, ms) {
      const timer = setTimeout(() => {
        live.delete(timer);
        callback();
      }, ms);
      live.add(timer);
      return timer;
    },
    clearTimeout(timer) {
      live.delete(timer);
      clearTimeout(timer);
    },
    setInterval(callback, ms) {
      const timer = setInterval(callback, ms);
      live.add(timer);
      return timer;
    },
    clearInterval(timer) {
      live.delete(timer);
      clearInterval(timer);
    },
  };
}

describe('LibraryMonitor', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let monitor: LibraryMonitor | null = null;
  let timers: ReturnType<typeof trackedTimers>;
  const busy = new Set<string>();
  let changes: string[];

  beforeEach(async () => {
    work = await makeWorkDir('monitor');
    await mkdir(path.join(work.dir, 'demo-arena', 'local', 'deep'), { recursive: true });
    changes = [];
    busy.clear();
    timers = trackedTimers();
    monitor = new LibraryMonitor({ gameDir: work.dir, isCatalogId: (id) => id.startsWith('demo-'), debounceMs: 100, fallbackScanMs: 600_000, isBusy: (id) => busy.has(id), busyPollMs: 60_000, logger: silentLogger, timers });
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
    await writeFile(path.join(work.dir, 'other-folder', 'version.ini'), '1\n');
    await waitFor(() => changes.length > 0);
    await settle(300);
    expect(changes).toEqual(['demo-arena']);
  });

  it('picks up a game root created after start', async () => {
    await mkdir(path.join(work.dir, 'demo-racer'));
    await waitFor(() => changes.includes('demo-racer'));
    changes = [];
    await settle(200);
    await writeFile(path.join(work.dir, 'demo-racer', 'version.ini'), '1\n');
    await waitFor(() => changes.includes('demo-racer'));
  });

  it('does not look inside local/', async () => {
    await writeFile(path.join(work.dir, 'demo-arena', 'local', 'deep', 'save.dat'), 'x');
    await writeFile(path.join(work.dir, 'demo-arena', 'local', 'config.cfg'), 'x');
    await settle(400);
    expect(changes).toEqual([]);
  });

  it("holds a busy game's change until it is idle", async () => {
    busy.add('demo-arena');
    await writeFile(path.join(work.dir, 'demo-arena', 'version.ini'), '2\n');
    await settle(400);
    expect(changes).toEqual([]);
    busy.delete('demo-arena');
    monitor!.notifyIdle('demo-arena');
    await waitFor(() => changes.length === 1);
    expect(changes).toEqual(['demo-arena']);
  });

  it('stops watching a game root while an operation runs on it, then watches it again and reports it once', async () => {
    busy.add('demo-arena');
    monitor!.notifyBusy('demo-arena');
    for (let i = 0; i < 20; i++) await writeFile(path.join(work.dir, 'demo-arena', 'game.rar'), `write ${i}`);
    await settle(400);
    expect(changes).toEqual([]);
    busy.delete('demo-arena');
    monitor!.notifyIdle('demo-arena');
    await waitFor(() => changes.length === 1);
    await settle(300);
    expect(changes).toEqual(['demo-arena']);
    // Watched again: a later change is seen as usual.
    changes = [];
    await writeFile(path.join(work.dir, 'demo-arena', 'version.ini'), '4\n');
    await waitFor(() => changes.includes('demo-arena'));
  });

  it('stop() clears every timer, including a pending debounce, and is idempotent', async () => {
    expect(timers.live.size).toBeGreaterThan(0);
    await writeFile(path.join(work.dir, 'demo-arena', 'version.ini'), '3\n');
    await waitFor(() => timers.live.size > 2);
    await monitor!.stop();
    await monitor!.stop();
    expect(timers.live.size).toBe(0);
    monitor!.notifyIdle('demo-arena');
    await writeFile(path.join(work.dir, 'demo-arena', 'game.rar'), 'late');
    await settle(300);
    expect(changes).toEqual([]);
    expect(timers.live.size).toBe(0);
  });
});

it('asks for a full rescan every fallbackScanMs', async () => {
  const work = await makeWorkDir('monitor-fallback');
  const monitor = new LibraryMonitor({ gameDir: work.dir, isCatalogId: () => true, fallbackScanMs: 50, isBusy: () => false, logger: silentLogger });
  let fullScans = 0;
  monitor.on('rescan-all', () => fullScans++);
  try {
    await monitor.start();
    await waitFor(() => fullScans >= 2);
  } finally {
    await monitor.stop();
    await work.cleanup();
  }
});
