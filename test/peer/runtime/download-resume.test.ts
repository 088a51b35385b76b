import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { expect, it } from 'vitest';
import type { LauncherEvents } from '../../../src/shared/api';
import { journalPath } from '../../../src/main/peer/download/resume-journal';
import { waitFor, type GameSpec, type TestPeer } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

const GAME = 'demo-arena';
const IDS = [GAME];
const SPEC: GameSpec = { id: GAME, version: '1.0', files: [{ path: 'bin/game.bin', size: 3_000_000 }, { path: 'data/level.pak', size: 1_000_000 }], seed: 11 };
/** Slow enough to stop the download part-way, at 64 KiB chunks. */
const SLOW = 1_000_000;

const peers = useTestPeers('download-resume');

function watch(target: TestPeer) {
  const events: string[] = [];
  const progress: LauncherEvents['game-download-progress'][] = [];
  target.runtime.onAny((event, payload) => {
    if (event.startsWith('game-')) events.push(event);
    if (event === 'game-download-progress') progress.push(payload as LauncherEvents['game-download-progress']);
  });
  return { events, progress };
}

async function crcOfArchives(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of await readdir(root)) if (name.endsWith('.rar') || name === 'version.ini') out.set(name, crc32(await readFile(path.join(root, name))) >>> 0);
  return out;
}

/** Starts the player's download and waits until a quarter of it is verified; `outcome` settles with its result or error. */
async function startAndWaitForAQuarter(player: TestPeer): Promise<{ outcome: Promise<unknown> }> {
  const { progress } = watch(player);
  const outcome = player.runtime.download(GAME).catch((error: unknown) => error);
  await waitFor(() => progress.some((sample) => sample.bytesDone >= sample.totalBytes / 4), 20_000, 'a quarter of the download');
  // Wrapped: an async function returning the promise itself would wait for it.
  return { outcome };
}

/** A seed, and a player that quit (stopped its runtime) a quarter of the way through downloading from it. */
async function quitPartWay(): Promise<{ seed: TestPeer; options: { catalogIds: string[]; manualPeers: string[] }; first: TestPeer }> {
  const seed = await peers.start('seed', { catalogIds: IDS, games: [SPEC] });
  const options = { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`] };
  const first = await peers.start('player', { ...options, downloadLimitBytesPerSec: SLOW });
  await waitFor(() => first.runtime.remoteGames().has(GAME), 20_000, 'the player to see the seed');
  const { outcome } = await startAndWaitForAQuarter(first);
  await peers.stop(first);
  expect(await outcome).toMatchObject({ code: 'REQUEST_CANCELLED' });
  return { seed, options, first };
}

it('a download interrupted by quitting resumes on its own at the next start, from where it stopped, and installs', async () => {
  const { seed, options } = await quitPartWay();

  // The next start: nobody asks for the download again.
  const second = await peers.start('player', options);
  const { events, progress } = watch(second);
  await waitFor(() => events.includes('game-install-finished'), 30_000, 'the resumed download to be installed');
  expect(events.filter((event) => event === 'game-download-begin')).toHaveLength(1);
  expect(events).toContain('game-download-finished');
  expect(progress[0]!.bytesDone).toBeGreaterThan(0);
  const root = path.join(second.gameDir, GAME);
  expect(await crcOfArchives(root)).toEqual(await crcOfArchives(path.join(seed.gameDir, GAME)));
  expect((await readdir(path.join(root, 'local'))).length).toBeGreaterThan(0);
  await expect(readFile(journalPath(second.stateDir, GAME))).rejects.toMatchObject({ code: 'ENOENT' });
});

it('a download whose every source vanished resumes on its own when a source comes back', async () => {
  const seed = await peers.start('seed', { catalogIds: IDS, games: [SPEC] });
  const seedPort = seed.runtime.port;
  // Fails as soon as the seed is gone (a running download waits minutes for it by default).
  const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seedPort}`], downloadLimitBytesPerSec: SLOW, downloadTuning: { noSourceGraceMs: 0 } });
  await waitFor(() => player.runtime.remoteGames().has(GAME), 20_000, 'the player to see the seed');
  const { events, progress } = watch(player);
  const { outcome } = await startAndWaitForAQuarter(player);
  // The rest would now take half a minute: the seed is gone long before, however busy the machine.
  player.runtime.setBandwidthLimits({ downloadBytesPerSec: 100_000 });
  await peers.stop(seed);
  expect(await outcome).toMatchObject({ code: expect.stringMatching(/^(NO_SOURCE|PEER_GONE)$/) });

  // The seed is gone long enough for the player to forget it, then comes back (same identity,
  // same address); nobody asks the player again.
  await waitFor(() => !player.runtime.remoteGames().has(GAME), 20_000, 'the player to forget the seed');
  player.runtime.setBandwidthLimits({ downloadBytesPerSec: 0 });
  await peers.start('seed', { catalogIds: IDS, port: seedPort });
  await waitFor(() => events.includes('game-install-finished'), 30_000, 'the resumed download to be installed');
  expect(events.filter((event) => event === 'game-download-begin')).toHaveLength(2);
  const resumedAt = progress.find((sample, i) => i > 0 && sample.bytesDone < progress[i - 1]!.bytesDone)?.bytesDone;
  // Progress never went back to 0: the second run started from the journal.
  expect(resumedAt === undefined || resumedAt > 0).toBe(true);
  expect(await crcOfArchives(path.join(player.gameDir, GAME))).toEqual(await crcOfArchives(path.join(seed.gameDir, GAME)));
});

it('does not resume a download whose game folder the player deleted', async () => {
  const { options, first } = await quitPartWay();
  await rm(path.join(first.gameDir, GAME), { recursive: true });

  const second = await peers.start('player', options);
  const { events } = watch(second);
  await waitFor(() => second.runtime.remoteGames().has(GAME), 20_000, 'the player to see the seed again');
  // The resumer looked when the seed's games arrived; a wrong resume would have begun within
  // one manifest round trip on loopback, far less than this.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(events).not.toContain('game-download-begin');
  expect(await readdir(second.gameDir)).toEqual([]);
});
