import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { readIntent } from '../../../src/main/peer/install/intent-store';
import { gamePaths } from '../../../src/main/peer/install/layout';
import { makeWorkDir, repoRoot, startTestPeer } from '../../support/runtime-harness';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

it('stopping a runtime leaves nothing that keeps the process alive', async () => {
  const work = await makeWorkDir('lifecycle');
  cleanups.push(work.cleanup);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/support/runtime-lifecycle-child.ts'), work.dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Generous bound: a leaked handle keeps the child alive forever, a clean stop exits at once.
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exit;
  clearTimeout(timer);
  expect(output).toContain('stopped');
  expect(code, output).toBe(0);
});

it('stop() aborts a running archive install and waits for its rollback: no local/, no staging, the download kept', async () => {
  const work = await makeWorkDir('lifecycle-install');
  cleanups.push(work.cleanup);
  const GAME = 'quit-while-installing';
  const peer = await startTestPeer(work.dir, 'solo', { games: [{ id: GAME, version: '3' }], catalogIds: [GAME] });
  const root = path.join(peer.gameDir, GAME);
  const downloaded = (await readdir(root)).sort();
  let stopping: Promise<void> | null = null;
  // The player quits the moment the unpacking begins.
  peer.runtime.on('game-install-begin', () => {
    stopping ??= peer.runtime.stop();
  });
  let settledBeforeStopReturned = false;
  const install = peer.runtime.installDownloaded(GAME).finally(() => (settledBeforeStopReturned = stopping !== null));
  await expect(install).rejects.toMatchObject({ code: 'REQUEST_CANCELLED' });
  expect(stopping).not.toBeNull();
  await stopping;
  expect(settledBeforeStopReturned).toBe(true);
  // Archives and version.ini as they were: the game is still downloaded, ready to install next time.
  expect((await readdir(root)).sort()).toEqual(downloaded);
  // Nothing left for startup recovery to finish.
  expect(await readIntent(gamePaths(peer.gameDir, peer.stateDir, GAME))).toBeNull();
  await expect(peer.runtime.installDownloaded(GAME)).rejects.toMatchObject({ code: 'REQUEST_CANCELLED' });
});
