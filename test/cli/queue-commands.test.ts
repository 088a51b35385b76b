import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DownloadsView } from '../../src/shared/api';
import { killCliPeers, makeWorkDir, runCliToEnd as runCli, spawnCliPeer, startTestPeer, waitFor, type CliPeer, type CliRun, type TestPeer } from '../support/runtime-harness';

const GAMES = ['demo-arena', 'demo-racer', 'demo-tanks'];
// At the player's 1 MB/s cap the first game takes ~32 s: time for the CLI calls (about a second
// each) that queue, list and move before it is paused. The two behind it take ~2 s each.
const SIZES: Record<string, number> = { 'demo-arena': 32_000_000, 'demo-racer': 2_000_000, 'demo-tanks': 2_000_000 };

describe('lanspread-peer queue, queue move, pause and resume against a running serve with a real seed', () => {
  const children: CliPeer[] = [];
  const runtimes: TestPeer[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    await killCliPeers(children);
    for (const runtime of runtimes.splice(0)) await runtime.stop();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('lists the queue, moves the last to the top, pauses the running download keeping its bytes and resumes it; refusals carry codes', { timeout: 180_000 }, async () => {
    const work = await makeWorkDir('queue-cli');
    cleanups.push(work.cleanup);
    const seed = await startTestPeer(work.dir, 'seed', {
      catalogIds: GAMES,
      games: GAMES.map((id, index) => ({ id, version: '1.0', seed: index + 1, files: [{ path: `bin/${id}.bin`, size: SIZES[id]! }] })),
    });
    runtimes.push(seed);
    const gameDir = path.join(work.dir, 'player', 'games');
    const stateDir = path.join(work.dir, 'player', 'state');
    await mkdir(gameDir, { recursive: true });
    const player = await spawnCliPeer(['serve', '--game-dir', gameDir, '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--peer', `127.0.0.1:${seed.runtime.port}`, '--download-limit', '1000000']);
    children.push(player);
    const cli = (...args: string[]) => runCli([...args, '--state-dir', stateDir]);
    const queue = async (): Promise<DownloadsView> => JSON.parse((await cli('queue', '--json')).stdout) as DownloadsView;
    const entry = async (gameId: string) => (await queue()).queue.find((operation) => operation.gameId === gameId);
    await waitFor(async () => (await cli('games')).stdout.split('available').length > GAMES.length, 30_000, 'the player to see the three games');

    expect((await cli('queue')).stdout).toBe('The download queue is empty.\n');
    // Three downloads, queued one after the other; each command waits for its game's end.
    const downloads: Array<Promise<CliRun>> = [];
    for (const gameId of GAMES) {
      downloads.push(cli('download', gameId, '--no-install'));
      await waitFor(async () => (await entry(gameId)) !== undefined, 20_000, `${gameId} to be queued`);
    }
    await waitFor(async () => (await entry('demo-arena'))?.state === 'running', 20_000, 'the first download to run');
    // The same request again follows the queued one to its end; another request for the game is refused.
    const again = cli('download', 'demo-arena', '--no-install');
    expect(await cli('download', 'demo-arena')).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error \[OPERATION_IN_PROGRESS\]/) });

    const listed = (await cli('queue')).stdout.trimEnd().split('\n');
    expect(listed).toHaveLength(3);
    expect(listed[0]).toMatch(/^\s+-\s+demo-arena\s+download\s+running/);
    expect(listed[1]).toMatch(/^\s+0\s+demo-racer\s+download\s+queued/);
    expect(listed[2]).toMatch(/^\s+1\s+demo-tanks\s+download\s+queued/);

    const moved = await cli('queue', 'move', 'demo-tanks', '0');
    expect(moved).toMatchObject({ code: 0, stdout: 'demo-tanks moved to position 0.\n' });
    expect((await queue()).queue.map((operation) => [operation.gameId, operation.queuePosition])).toEqual([
      ['demo-arena', null],
      ['demo-tanks', 0],
      ['demo-racer', 1],
    ]);
    // What runs has no place to move to.
    expect(await cli('queue', 'move', 'demo-arena', '1')).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error \[OPERATION_IN_PROGRESS\]/) });

    await waitFor(async () => ((await entry('demo-arena'))?.bytesDone ?? 0) > 0, 20_000, 'the first download to verify some bytes');
    expect(await cli('pause', 'demo-arena')).toMatchObject({ code: 0, stdout: 'demo-arena is paused; what was downloaded is kept.\n' });
    await waitFor(async () => (await entry('demo-arena'))?.state === 'paused', 20_000, 'demo-arena to be paused');
    // The paused one keeps what it verified; its slot goes to the one moved to the top (the finished order below).
    const paused = (await entry('demo-arena'))!;
    expect(paused.bytesDone).toBeGreaterThan(0);
    expect(paused.bytesDone).toBeLessThan(paused.totalBytes);
    expect((await cli('queue')).stdout).toMatch(/demo-arena\s+download\s+paused/);
    // A place must be a whole number; an unknown game is not in the queue.
    expect(await cli('queue', 'move', 'demo-racer', 'first')).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error \[MALFORMED_MESSAGE\]: usage: lanspread-peer queue move/) });
    expect(await cli('pause', 'demo-nothing')).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error \[NOT_DOWNLOADED\]/) });
    // The two behind it run and end while it is paused, in the order the move gave them.
    await waitFor(async () => (await queue()).finished.length === 2, 30_000, 'the two small downloads to end');
    expect((await queue()).finished.map((operation) => operation.gameId)).toEqual(['demo-tanks', 'demo-racer']);
    expect(await entry('demo-arena')).toMatchObject({ state: 'paused', bytesDone: paused.bytesDone });

    expect(await cli('resume', 'demo-arena')).toMatchObject({ code: 0, stdout: 'demo-arena is back in the queue.\n' });
    // Back in the queue with what it had; nothing else waits, so it runs on from there.
    const resumed = (await entry('demo-arena'))!;
    expect(['queued', 'running']).toContain(resumed.state);
    expect(resumed.bytesDone).toBeGreaterThanOrEqual(paused.bytesDone);

    // Every download command ends with its game downloaded (the paused one said so while it waited).
    const results = await Promise.all(downloads);
    for (const [index, gameId] of GAMES.entries()) {
      expect(results[index], gameId).toMatchObject({ code: 0, stderr: '' });
      expect(results[index]!.stdout).toContain(`${gameId} is downloaded`);
      expect(existsSync(path.join(gameDir, gameId, 'version.ini'))).toBe(true);
    }
    expect(await again).toMatchObject({ code: 0, stderr: '', stdout: expect.stringContaining('demo-arena is downloaded') });
    expect(results[0]!.stdout).toContain("demo-arena is paused ('lanspread-peer resume demo-arena' continues it)");
    const finished = (await queue()).finished.map((operation) => [operation.gameId, operation.state]);
    expect(finished).toEqual([
      ['demo-tanks', 'done'],
      ['demo-racer', 'done'],
      ['demo-arena', 'done'],
    ]);
    expect((await cli('queue')).stdout).toBe('The download queue is empty.\n');
  });
});
