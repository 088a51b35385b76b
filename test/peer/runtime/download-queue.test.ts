import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { expect, it } from 'vitest';
import { journalPath } from '../../../src/main/peer/download/resume-journal';
import { QUEUE_FILE } from '../../../src/main/peer/runtime/download-queue';
import type { Operation } from '../../../src/shared/operation';
import { waitFor, type GameSpec, type TestPeer } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

const IDS = ['demo-arena', 'demo-racer', 'demo-tanks'];
const small = (id: string, seed: number): GameSpec => ({ id, version: '1.0', files: [{ path: 'bin/game.bin', size: 300_000 }], seed });
const BIG: GameSpec = { id: 'demo-arena', version: '1.0', files: [{ path: 'bin/game.bin', size: 3_000_000 }, { path: 'data/level.pak', size: 1_000_000 }], seed: 21 };
/** Slow enough to pause the download part-way, at 64 KiB chunks. */
const SLOW = 1_000_000;
const CHUNK = 64 * 1024;

const peers = useTestPeers('download-queue');

/** Every operation change of `target`, in order. */
function watch(target: TestPeer): Operation[] {
  const seen: Operation[] = [];
  target.runtime.on('operation-changed', ({ operation }) => seen.push(operation));
  return seen;
}

const states = (seen: Operation[], gameId: string) => seen.filter((o) => o.gameId === gameId).map((o) => o.state).filter((s, i, all) => s !== all[i - 1]);

async function crcOfArchives(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of await readdir(root)) if (name.endsWith('.rar') || name === 'version.ini') out.set(name, crc32(await readFile(path.join(root, name))) >>> 0);
  return out;
}

/** Verified bytes recorded in a download journal (bit i of each file's bitset = chunk i verified). */
async function journaledBytes(stateDir: string, gameId: string, spec: GameSpec, archiveSizes: Map<string, number>): Promise<number> {
  const journal = JSON.parse(await readFile(journalPath(stateDir, gameId), 'utf8')) as { verified: Record<string, string> };
  let bytes = 0;
  for (const [file, encoded] of Object.entries(journal.verified)) {
    const size = archiveSizes.get(file) ?? 0;
    const bits = Buffer.from(encoded, 'base64');
    for (let chunk = 0; chunk * CHUNK < size; chunk += 1) if ((bits[chunk >> 3]! >> (chunk & 7)) & 1) bytes += Math.min(CHUNK, size - chunk * CHUNK);
  }
  expect(spec.id).toBe(gameId);
  return bytes;
}

it('keeps the queue and its order across a restart; queued games wait for peers and start on their own, one at a time, in order', async () => {
  // The player queues three games while no peer has them, reorders, pauses one and quits.
  const first = await peers.start('player', { catalogIds: IDS });
  const seen = watch(first);
  for (const id of IDS) first.runtime.queue.add(id, 'install');
  await waitFor(() => first.runtime.queue.list().every((o) => o.state === 'waiting-for-peers'), 10_000, 'all three to wait for peers');
  expect(first.runtime.queue.list().map((o) => o.error?.code)).toEqual(['NO_SOURCE', 'NO_SOURCE', 'NO_SOURCE']);
  // The last goes first; the middle one is paused.
  first.runtime.queue.move('demo-tanks', 0);
  first.runtime.queue.pause('demo-racer');
  expect(first.runtime.queue.list().map((o) => [o.gameId, o.state])).toEqual([
    ['demo-tanks', 'waiting-for-peers'],
    ['demo-arena', 'waiting-for-peers'],
    ['demo-racer', 'paused'],
  ]);
  expect(first.runtime.queue.positionOf('demo-arena')).toBe(1);
  expect(states(seen, 'demo-racer')).toEqual(['queued', 'waiting-for-peers', 'paused']);
  await peers.stop(first);
  const saved = JSON.parse(await readFile(path.join(first.stateDir, QUEUE_FILE), 'utf8')) as { entries: unknown[] };
  expect(saved.entries).toEqual([
    { gameId: 'demo-tanks', kind: 'install', state: 'queued' },
    { gameId: 'demo-arena', kind: 'install', state: 'queued' },
    { gameId: 'demo-racer', kind: 'install', state: 'paused' },
  ]);

  // A seed appears; the player starts again: the queue is as it was, and runs by itself.
  const seed = await peers.start('seed', { catalogIds: IDS, games: IDS.map((id, i) => small(id, 30 + i)) });
  const second = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`] });
  const again = watch(second);
  expect(second.runtime.queue.list().map((o) => [o.gameId, o.kind])).toEqual([
    ['demo-tanks', 'install'],
    ['demo-arena', 'install'],
    ['demo-racer', 'install'],
  ]);
  await waitFor(() => second.runtime.localGames().filter((g) => g.installed).length === 2, 30_000, 'the two unpaused games to be installed');
  // One transfer at a time, in queue order: tanks ran and left its transfer before arena ran.
  const running = again.filter((o) => o.state === 'running' && o.phase === 'transfer').map((o) => o.gameId).filter((id, i, all) => id !== all[i - 1]);
  expect(running).toEqual(['demo-tanks', 'demo-arena']);
  const arenaStart = again.findIndex((o) => o.gameId === 'demo-arena' && o.state === 'running');
  const tanksFinishing = again.findIndex((o) => o.gameId === 'demo-tanks' && o.state === 'finishing');
  expect(tanksFinishing).toBeGreaterThanOrEqual(0);
  expect(arenaStart).toBeGreaterThan(tanksFinishing);
  // The paused one stayed paused, with nothing fetched.
  expect(second.runtime.queue.list().map((o) => [o.gameId, o.state])).toEqual([['demo-racer', 'paused']]);
  // Both ended done. They end in the order their unpacking ends, which may differ from the queue's:
  // arena's transfer may overlap tanks' unpacking (1 download + the previous one's unpacking at once).
  expect(second.runtime.finishedOperations().map((o) => [o.gameId, o.kind, o.state]).sort()).toEqual([
    ['demo-arena', 'install', 'done'],
    ['demo-tanks', 'install', 'done'],
  ]);
  second.runtime.queue.resume('demo-racer');
  await waitFor(() => second.runtime.localGames().find((g) => g.id === 'demo-racer')?.installed === true, 30_000, 'the resumed game to be installed');
  expect(second.runtime.queue.list()).toEqual([]);
  const saved2 = JSON.parse(await readFile(path.join(second.stateDir, QUEUE_FILE), 'utf8')) as { entries: unknown[] };
  expect(saved2.entries).toEqual([]);
});

it('pause keeps the journal and the verified payload, and resume fetches none of it again', async () => {
  const seed = await peers.start('seed', { catalogIds: IDS, games: [BIG] });
  const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`], downloadLimitBytesPerSec: SLOW });
  await waitFor(() => player.runtime.remoteGames().has(BIG.id), 20_000, 'the player to see the seed');
  const seen = watch(player);
  const archiveSizes = new Map<string, number>();
  for (const name of await readdir(path.join(seed.gameDir, BIG.id))) archiveSizes.set(name, (await stat(path.join(seed.gameDir, BIG.id, name))).size);
  const total = [...archiveSizes.values()].reduce((a, b) => a + b, 0);

  player.runtime.queue.add(BIG.id, 'download');
  await waitFor(() => (player.runtime.queue.list()[0]?.bytesDone ?? 0) >= total / 4, 20_000, 'a quarter of the download');
  player.runtime.queue.pause(BIG.id);
  await waitFor(() => player.runtime.queue.list()[0]?.state === 'paused', 20_000, 'the download to pause');
  const fetchedBeforeResume = player.runtime.transfersWith(seed.runtime.peerId).downloaded;
  const verified = await journaledBytes(player.stateDir, BIG.id, BIG, archiveSizes);
  expect(verified).toBeGreaterThan(0);
  // Paused: its slot is free, nothing runs for the game, and the payload is still there.
  expect(player.runtime.activeOperations()).toEqual([]);
  expect((await readdir(path.join(player.gameDir, BIG.id))).some((name) => name.endsWith('.rar'))).toBe(true);
  expect(await player.runtime.queue.list()[0]?.error).toBeNull();

  player.runtime.setBandwidthLimits({ downloadBytesPerSec: 0 });
  player.runtime.queue.resume(BIG.id);
  await waitFor(() => player.runtime.queue.list().length === 0, 30_000, 'the resumed download to finish');
  const fetchedAfterResume = player.runtime.transfersWith(seed.runtime.peerId).downloaded - fetchedBeforeResume;
  // Not one verified chunk came again: what was fetched after Resume fits in what the journal did not hold.
  expect(fetchedAfterResume).toBeLessThanOrEqual(total - verified);
  expect(fetchedAfterResume).toBeGreaterThan(0);
  expect(states(seen, BIG.id)).toEqual(['queued', 'running', 'paused', 'queued', 'running', 'done']);
  expect(await crcOfArchives(path.join(player.gameDir, BIG.id))).toEqual(await crcOfArchives(path.join(seed.gameDir, BIG.id)));
  await expect(readFile(journalPath(player.stateDir, BIG.id))).rejects.toMatchObject({ code: 'ENOENT' });
});

it('cancel of a paused download discards its journal and payload, with no peer around', async () => {
  const seed = await peers.start('seed', { catalogIds: IDS, games: [BIG] });
  const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`], downloadLimitBytesPerSec: SLOW });
  await waitFor(() => player.runtime.remoteGames().has(BIG.id), 20_000, 'the player to see the seed');
  player.runtime.queue.add(BIG.id, 'install');
  await waitFor(() => (player.runtime.queue.list()[0]?.bytesDone ?? 0) > 0, 20_000, 'the download to begin');
  player.runtime.queue.pause(BIG.id);
  await waitFor(() => player.runtime.queue.list()[0]?.state === 'paused', 20_000, 'the download to pause');
  await peers.stop(seed);

  await player.runtime.queue.cancel(BIG.id);
  expect(player.runtime.queue.list()).toEqual([]);
  expect(player.runtime.finishedOperations().map((o) => [o.gameId, o.state, o.error])).toEqual([[BIG.id, 'cancelled', null]]);
  await expect(readFile(journalPath(player.stateDir, BIG.id))).rejects.toMatchObject({ code: 'ENOENT' });
  const left = await readdir(path.join(player.gameDir, BIG.id)).catch(() => [] as string[]);
  expect(left.filter((name) => name.endsWith('.rar') || name.startsWith('.version'))).toEqual([]);
});

it('a queued download whose sources all left waits for peers with its progress, and goes on by itself when one is back', async () => {
  const seed = await peers.start('seed', { catalogIds: IDS, games: [BIG] });
  const seedPort = seed.runtime.port;
  const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seedPort}`], downloadLimitBytesPerSec: SLOW, downloadTuning: { noSourceGraceMs: 0 } });
  await waitFor(() => player.runtime.remoteGames().has(BIG.id), 20_000, 'the player to see the seed');
  const seen = watch(player);
  player.runtime.queue.add(BIG.id, 'install');
  await waitFor(() => (player.runtime.queue.list()[0]?.bytesDone ?? 0) >= BIG.files![0]!.size / 4, 20_000, 'a quarter of the download');
  await peers.stop(seed);
  await waitFor(() => player.runtime.queue.list()[0]?.state === 'waiting-for-peers', 20_000, 'the download to wait for peers');
  const waiting = player.runtime.queue.list()[0]!;
  expect(waiting.bytesDone).toBeGreaterThan(0);
  expect(waiting.error?.code).toMatch(/^(NO_SOURCE|PEER_GONE|REQUEST_CANCELLED)$/);

  await waitFor(() => !player.runtime.remoteGames().has(BIG.id), 20_000, 'the player to forget the seed');
  player.runtime.setBandwidthLimits({ downloadBytesPerSec: 0 });
  await peers.start('seed', { catalogIds: IDS, port: seedPort });
  await waitFor(() => player.runtime.localGames().find((g) => g.id === BIG.id)?.installed === true, 30_000, 'the game to be installed');
  expect(states(seen, BIG.id)).toEqual(expect.arrayContaining(['waiting-for-peers', 'queued', 'running', 'finishing', 'done']));
  expect(states(seen, BIG.id).at(-1)).toBe('done');
});

it('a running streamed install cannot be paused (NOT_PAUSABLE: it keeps nothing to resume from) and runs on to the end', async () => {
  // The seed's upload cap keeps the stream running while it is asked to pause.
  const seed = await peers.start('seed', { catalogIds: IDS, games: [BIG], uploadLimitBytesPerSec: SLOW });
  const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`] });
  await waitFor(() => player.runtime.remoteGames().has(BIG.id), 20_000, 'the player to see the seed');
  const seen = watch(player);
  player.runtime.queue.add(BIG.id, 'stream-install');
  await waitFor(() => player.runtime.queue.list()[0]?.state === 'running', 20_000, 'the streamed install to run');
  expect(() => player.runtime.queue.pause(BIG.id)).toThrow(expect.objectContaining({ code: 'NOT_PAUSABLE', details: { gameId: BIG.id } }));
  expect(player.runtime.queue.list()[0]?.state).toBe('running');
  await waitFor(() => player.runtime.queue.list().length === 0, 30_000, 'the streamed install to end');
  expect(states(seen, BIG.id)).toEqual(['queued', 'running', 'done']);
  expect((await stat(path.join(player.gameDir, BIG.id, 'local', 'bin', 'game.bin'))).size).toBe(3_000_000);
});
