import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { journalPath } from '../../../src/main/peer/download/resume-journal';
import { DownloadResumer } from '../../../src/main/peer/runtime/download-resumer';
import { silentLogger } from '../../../src/main/peer/util/logger';
import { makeWorkDir } from '../../support/temp-dir';

let work: { dir: string; cleanup: () => Promise<void> };
let stateDir: string;
let gameDir: string | null;
let sources: Set<string>;
let busy: Set<string>;
let started: string[];
/** What a started download does after it was counted; resolving = finished. */
let outcome: (gameId: string) => Promise<void>;
let resumer: DownloadResumer;

beforeEach(async () => {
  work = await makeWorkDir('download-resumer');
  stateDir = path.join(work.dir, 'state');
  gameDir = path.join(work.dir, 'games');
  sources = new Set();
  busy = new Set();
  started = [];
  outcome = async () => undefined;
  resumer = new DownloadResumer({
    stateDir,
    gameDir: () => gameDir,
    hasSource: (gameId) => sources.has(gameId),
    isBusy: (gameId) => busy.has(gameId),
    download: async (gameId) => {
      started.push(gameId);
      await outcome(gameId);
    },
    logger: silentLogger,
    retryAfterMs: 1_000,
    maxRetryAfterMs: 3_000,
  });
});
afterEach(async () => {
  resumer.stop();
  vi.useRealTimers();
  await work.cleanup();
});

/** A download that stopped short: its journal, and its partial folder unless `folder` is false. */
async function interrupted(gameId: string, { folder = true } = {}): Promise<void> {
  await mkdir(path.dirname(journalPath(stateDir, gameId)), { recursive: true });
  await writeFile(journalPath(stateDir, gameId), '{}');
  if (folder) await mkdir(path.join(work.dir, 'games', gameId), { recursive: true });
}

/** Lets the resumes started so far (their folder checks and the fake downloads) run to their end. */
function settle(): Promise<void> {
  return resumer.settled();
}

/** Moves the fake clock on, then settles what its timers started. */
async function after(ms: number): Promise<void> {
  vi.advanceTimersByTime(ms);
  await settle();
}

it('resumes at start what a previous run left, once a source shares it, and not a game whose folder is gone', async () => {
  await interrupted('demo-arena');
  await interrupted('demo-racer', { folder: false });
  await interrupted('later-game');
  await mkdir(path.join(stateDir, 'games', 'Not_A_Game'), { recursive: true });
  await writeFile(journalPath(stateDir, 'Not_A_Game'), '{}');
  sources = new Set(['demo-arena', 'demo-racer', 'Not_A_Game']);
  await resumer.start();
  await settle();
  expect(started).toEqual(['demo-arena']);
  // later-game has no source yet: it starts with the peer event that brings one.
  sources.add('later-game');
  resumer.poke();
  await settle();
  expect(started).toEqual(['demo-arena', 'later-game']);
  // Each only once.
  resumer.poke();
  await settle();
  expect(started).toEqual(['demo-arena', 'later-game']);
});

it('waits while the game is busy or no game folder is chosen', async () => {
  await interrupted('demo-arena');
  sources.add('demo-arena');
  busy.add('demo-arena');
  gameDir = null;
  await resumer.start();
  await settle();
  busy.clear();
  resumer.poke();
  await settle();
  expect(started).toEqual([]);
  gameDir = path.join(work.dir, 'games');
  resumer.poke();
  await settle();
  expect(started).toEqual(['demo-arena']);
});

it('after a failure, tries again with the next peer event or after a doubling delay, and stops trying once settled', async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  await interrupted('demo-arena');
  sources.add('demo-arena');
  resumer.downloadFailed('demo-arena');
  expect(started).toEqual([]);
  await after(1_000);
  expect(started).toEqual(['demo-arena']);

  resumer.downloadFailed('demo-arena');
  await after(1_999);
  expect(started).toHaveLength(1);
  await after(1);
  expect(started).toHaveLength(2);

  // A peer event does not wait for the delay; the cap holds the delay at 3 s.
  resumer.downloadFailed('demo-arena');
  resumer.poke();
  await settle();
  expect(started).toHaveLength(3);
  resumer.downloadFailed('demo-arena');
  resumer.downloadFailed('demo-arena');
  await after(3_000);
  expect(started).toHaveLength(4);

  resumer.downloadFailed('demo-arena');
  resumer.downloadSettled('demo-arena');
  vi.advanceTimersByTime(10_000);
  resumer.poke();
  await settle();
  expect(started).toHaveLength(4);
});

it('counts one failure once when a resumed download both reports it and throws', async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  await interrupted('demo-arena');
  sources.add('demo-arena');
  // As the runtime does: the failure event first, then the rejected download.
  outcome = async (gameId) => {
    resumer.downloadFailed(gameId);
    throw new Error('no source could deliver the rest');
  };
  await resumer.start();
  await settle();
  expect(started).toHaveLength(1);
  await after(999);
  expect(started).toHaveLength(1);
  // The first delay, not the second: counted once.
  await after(1);
  expect(started).toHaveLength(2);
});

it('ignores failures that left no journal (cancel, disk full) and everything once stopped', async () => {
  sources.add('demo-arena');
  resumer.downloadFailed('demo-arena');
  resumer.poke();
  await settle();
  expect(started).toEqual([]);
  await interrupted('demo-arena');
  resumer.stop();
  resumer.downloadFailed('demo-arena');
  resumer.poke();
  await settle();
  expect(started).toEqual([]);
});
