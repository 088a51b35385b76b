import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlSocketClient, controlSocketPath } from '../src/main/peer/launcher/control-socket';
import { killCliPeers, makeWorkDir, repoRoot, seedGames, spawnCliPeer, type CliPeer } from '../test/support/runtime-harness';
import { chromiumSkipReason, launchChromium } from './support/chromium';
import { groupAlive } from '../test/support/procfs';

/**
 * Settings that stick, as a player meets them: `npm start` (scripts/start.mjs, web UI mode) in
 * Debian's Chromium with a real seed peer. Choose a folder in Settings, install a game, quit in
 * the middle of a download, start again the same way: the same folder, the game installed, the
 * download finished from where it stopped.
 */
const artifacts = path.join(repoRoot, 'e2e/artifacts');
const skipReason = chromiumSkipReason() ?? (existsSync(path.join(repoRoot, 'out/renderer/index.html')) ? null : 'out/renderer is not built (npm run build)');
if (skipReason) console.warn(`[skip] settings-stick e2e: ${skipReason}`);

const MIB = 1024 * 1024;
const BIG_BYTES = 6 * MIB;

interface Started {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

describe.skipIf(skipReason !== null)('settings survive a restart through npm start', () => {
  const seeds: CliPeer[] = [];
  const starts: Started[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  let browser: Browser | null = null;

  afterEach(async () => {
    await browser?.close();
    for (const start of starts.splice(0)) {
      if (start.child.pid !== undefined && groupAlive(start.child.pid)) process.kill(-start.child.pid, 'SIGKILL');
      await start.exited;
    }
    await killCliPeers(seeds);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function npmStart(env: Record<string, string>, args: string[]): Promise<Started> {
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts/start.mjs'), ...args], {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LANSPREAD_NO_ELECTRON: '1', LANSPREAD_WEB_PORT: '0', ...env },
    });
    const output: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        output.push(line);
        const match = /^Web UI: (\S+)/.exec(line);
        if (match) resolve(match[1]!);
      });
      void exited.then((code) => reject(new Error(`start.mjs exited with ${code}:\n${output.join('\n')}`)));
    });
    const started = { child, url, exited };
    starts.push(started);
    return started;
  }

  it('keeps the chosen game folder, its installed game and its interrupted download', async () => {
    const work = await makeWorkDir('e2e-settings-stick');
    cleanups.push(work.cleanup);
    const seedDir = path.join(work.dir, 'seed', 'games');
    await seedGames(seedDir, [
      { id: 'demo-arena', version: '1.0' },
      { id: 'demo-racer', version: '2.0', files: [{ path: 'data/tracks.pak', size: BIG_BYTES }] },
    ]);
    const seed = await spawnCliPeer(['serve', '--game-dir', seedDir, '--state-dir', path.join(work.dir, 'seed', 'state'), '--host', '127.0.0.1', '--port', '0', '--no-mdns', '--chunk-size', String(64 * 1024), '--upload-limit', String(MIB)]);
    seeds.push(seed);
    const stateDir = path.join(work.dir, 'player', 'state');
    const chosenDir = path.join(work.dir, 'my games');
    await mkdir(chosenDir);
    const env = { LANSPREAD_GAME_DIR: path.join(work.dir, 'player', 'games'), LANSPREAD_STATE_DIR: stateDir };
    const args = ['--no-mdns', '--peer', `127.0.0.1:${seed.port}`];
    browser = await launchChromium();

    const first = await npmStart(env, args);
    let page: Page = await browser!.newPage({ viewport: { width: 1360, height: 860 } });
    await page.goto(first.url);
    const badge = (id: string) => page.getByTestId(`game-card-${id}`).getByTestId('game-badge');
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('game-dir-input').fill(chosenDir);
    await page.getByTestId('game-dir-apply').click();
    await expect.poll(() => page.getByTestId('game-dir-input').inputValue()).toBe(chosenDir);
    await page.getByTestId('nav-library').click();
    await page.getByTestId('game-card-demo-arena').click();
    await page.getByTestId('primary-action').click();
    await expect.poll(() => badge('demo-arena').textContent(), { timeout: 60_000 }).toBe('Installed');
    await page.keyboard.press('Escape');
    await page.getByTestId('game-card-demo-racer').click();
    await page.getByTestId('primary-action').click();
    // Quit part-way through the download (1 MiB/s from the seed).
    const client = await ControlSocketClient.connect(controlSocketPath(stateDir));
    let verified = 0;
    client.on('game-download-progress', (p) => p.gameId === 'demo-racer' && (verified = p.bytesDone));
    await expect.poll(() => verified, { timeout: 60_000 }).toBeGreaterThanOrEqual(MIB);
    client.close();
    await page.close();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    // The same command again.
    const second = await npmStart(env, args);
    page = await browser!.newPage({ viewport: { width: 1360, height: 860 } });
    await page.goto(second.url);
    await expect.poll(() => badge('demo-arena').textContent(), { timeout: 30_000 }).toBe('Installed');
    await expect.poll(() => badge('demo-racer').textContent(), { timeout: 90_000 }).toBe('Installed');
    await page.screenshot({ path: path.join(artifacts, 'settings-stick-after-restart.png') });
    await page.getByTestId('nav-settings').click();
    expect(await page.getByTestId('game-dir-input').inputValue()).toBe(chosenDir);
    // Resumed, not started over: this run fetched less than the game from the seed.
    const again = await ControlSocketClient.connect(controlSocketPath(stateDir));
    cleanups.push(async () => again.close());
    const fromSeed = (await again.invoke('request_peers')).find((p) => p.peerId === seed.peerId);
    expect(fromSeed!.downloadedBytes).toBeLessThan(BIG_BYTES - 512 * 1024);
    expect(existsSync(path.join(chosenDir, 'demo-racer', 'local', 'data', 'tracks.pak'))).toBe(true);
  }, 300_000);
});
