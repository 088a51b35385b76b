import { existsSync } from 'node:fs';
import { chmod, mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebHost, type WebHost } from '../src/main/cli/web-host';
import { createGameLauncher } from '../src/main/peer/launcher/game-launcher';
import { RuntimeLauncherBackend } from '../src/main/peer/launcher/launcher-backend';
import { SettingsStore } from '../src/main/peer/settings/settings-store';
import { makeWorkDir, seedGames, startTestPeer, type TestPeer } from '../test/support/runtime-harness';
import { chromiumSkipReason, launchChromium } from './support/chromium';

/**
 * The built web UI in Debian's Chromium, driving a real player runtime that downloads from a
 * real seed runtime over QUIC and the TLS data lane on loopback. Screenshots go to e2e/artifacts.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const staticDir = path.join(root, 'out/renderer');
const artifacts = path.join(root, 'e2e/artifacts');
const skipReason = chromiumSkipReason() ?? (existsSync(path.join(staticDir, 'index.html')) ? null : 'out/renderer is not built (npm run build)');
if (skipReason) console.warn(`[skip] library-flow e2e: ${skipReason}`);

const IDS = ['demo-arena', 'demo-tanks'];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(skipReason !== null)('library UI over real peers', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let seed: TestPeer;
  let seedPort = 0;
  let player: TestPeer;
  let settings: SettingsStore;
  let backend: RuntimeLauncherBackend;
  let host: WebHost;
  let browser: Browser | null = null;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(artifacts, { recursive: true });
    work = await makeWorkDir('e2e-flow');
    seed = await startTestPeer(work.dir, 'seed', { catalogIds: IDS, games: [{ id: 'demo-arena', version: '1.0', files: [{ path: 'bin/arena.bin', size: 6_000_000 }] }] });
    // demo-tanks: a damaged archive (bytes rotted before the seed first hashes it, so the
    // download verifies and the unpacker is what finds the damage).
    await seedGames(seed.gameDir, [{ id: 'demo-tanks', version: '1.0', files: [{ path: 'tank.bin', size: 300_000 }] }]);
    const archive = path.join(seed.gameDir, 'demo-tanks', 'demo-tanks.rar');
    const handle = await open(archive, 'r+');
    await handle.write(Buffer.from('DAMAGED'), 0, 7, Math.floor((await stat(archive)).size / 2));
    await handle.close();
    await seed.runtime.rescan();

    // A download whose seed left stops at once here and waits for peers (by default it waits minutes for the seed first).
    player = await startTestPeer(work.dir, 'player', {
      catalogIds: IDS,
      gameDir: null,
      sessionPeers: [`127.0.0.1:${(seedPort = seed.runtime.port)}`],
      downloadLimitBytesPerSec: 2_000_000,
      downloadTuning: { noSourceGraceMs: 0 },
    });
    settings = await SettingsStore.open(player.stateDir, { displayName: 'player' });
    backend = new RuntimeLauncherBackend({ runtime: player.runtime, settings, launchGame: createGameLauncher(player.runtime.catalog, player.runtime.gameDir) });
    host = await startWebHost({ backend, staticDir, host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    page = await browser!.newPage({ viewport: { width: 1360, height: 860 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(host.url);
  });

  afterAll(async () => {
    await browser?.close();
    await host?.stop();
    backend?.dispose();
    await player?.stop();
    await seed?.stop();
    await work?.cleanup();
  });

  const card = (id: string) => page.getByTestId(`game-card-${id}`);
  const badge = (id: string) => card(id).getByTestId('game-badge');
  /**
   * Starts recording every text the progress percentage shows, in the page (a script string:
   * this file is type-checked without the DOM library). Read back with shownPercents().
   */
  const recordPercents = () =>
    page.evaluate(`(() => {
      const seen = (window.__percents = []);
      new MutationObserver(() => {
        for (const element of document.querySelectorAll('[data-testid="progress-percent"]')) {
          const text = (element.textContent || '').trim();
          if (seen[seen.length - 1] !== text) seen.push(text);
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
  /** Percentages recorded since recordPercents() for progress texts starting with `label`. */
  const shownPercents = async (label: string) =>
    ((await page.evaluate('window.__percents')) as string[]).filter((text) => text.startsWith(label) && /\d/.test(text)).map((text) => Number.parseInt(text.replace(/\D+/g, ''), 10));
  /** Every progress text recorded since recordPercents(). */
  const shownTexts = async () => (await page.evaluate('window.__percents')) as string[];
  /** The detail panel's progress percentage (0 while none is shown). */
  const percent = async () => Number.parseInt(((await page.getByTestId('progress-percent').textContent({ timeout: 1_000 }).catch(() => '')) ?? '').replace(/\D+/g, ' ').trim().split(' ')[0] || '0', 10);

  it('picks a game folder and sees the remote games', async () => {
    await page.getByTestId('nav-settings').click();
    const gameDir = path.join(work.dir, 'player', 'chosen-games');
    await mkdir(gameDir, { recursive: true });
    await page.getByTestId('game-dir-input').fill(gameDir);
    await page.getByTestId('game-dir-apply').click();
    await expect.poll(() => settings.get().gameDir, { timeout: 10_000 }).toBe(gameDir);
    await page.screenshot({ path: path.join(artifacts, 'settings.png') });
    await page.getByTestId('nav-library').click();
    await expect.poll(() => badge('demo-arena').textContent(), { timeout: 20_000 }).toBe('On 1 peer');
    await page.screenshot({ path: path.join(artifacts, 'library.png') });

    // Keyboard: arrows move between cards, Enter opens the detail panel, Escape closes it.
    await card('demo-arena').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('detail-title').textContent()).toBe('demo tanks');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('detail-panel').count()).toBe(0);
  });

  it('installs a game with live progress up to Installed, then uninstalls and removes its files', async () => {
    await card('demo-arena').click();
    await expect.poll(() => page.getByTestId('primary-action').getAttribute('data-action')).toBe('install');
    await recordPercents();
    await page.getByTestId('primary-action').click();
    await expect.poll(percent, { timeout: 10_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(artifacts, 'detail-downloading.png') });
    await expect.poll(() => badge('demo-arena').textContent(), { timeout: 30_000 }).toBe('Installed');
    // Every progress text the page showed: the download climbed to 100%, never backwards.
    const downloading = await shownPercents('Downloading');
    expect(downloading.at(-1)).toBe(100);
    expect(downloading).toEqual([...downloading].sort((a, b) => a - b));
    // Progress starts with the first verified chunk: never "0%" (nor a speed) before it.
    expect((await shownTexts()).filter((text) => text.startsWith('Downloading') && /\b0%/.test(text))).toEqual([]);
    const local = path.join(settings.get().gameDir!, 'demo-arena', 'local');
    expect(existsSync(path.join(local, 'bin', 'arena.bin'))).toBe(true);

    // Installed and downloaded: the archives cannot be removed under an installed game; the panel says why.
    expect(await page.getByTestId('action-remove-downloaded').count()).toBe(0);
    expect(await page.getByTestId('remove-explained').textContent()).toMatch(/uninstall the game first/);

    // Play, then Stop: the game and what it started end. (The generated game has no launcher; this one records its pids.)
    await writeFile(path.join(local, 'run.sh'), '#!/bin/sh\necho $$ > "$(dirname "$0")/script.pid"\nsleep 120 &\necho $! > "$(dirname "$0")/child.pid"\nwait\n');
    await chmod(path.join(local, 'run.sh'), 0o755);
    await page.getByTestId('primary-action').click();
    await expect.poll(() => page.getByTestId('primary-action').getAttribute('data-action'), { timeout: 10_000 }).toBe('stop');
    await expect.poll(() => existsSync(path.join(local, 'child.pid')), { timeout: 10_000 }).toBe(true);
    const pids = await Promise.all(['script.pid', 'child.pid'].map(async (file) => Number((await readFile(path.join(local, file), 'utf8')).trim())));
    await page.getByTestId('primary-action').click();
    await expect.poll(() => page.getByTestId('primary-action').getAttribute('data-action'), { timeout: 10_000 }).toBe('play');
    await expect.poll(() => pids.filter((pid) => alive(pid)).length, { timeout: 10_000 }).toBe(0);

    // Uninstall asks first; "Keep it" keeps it.
    await page.getByTestId('action-uninstall').click();
    expect(await page.getByTestId('confirm-uninstall').textContent()).toMatch(/archives stay/);
    await page.getByTestId('confirm-no').click();
    expect(await page.getByTestId('confirm-uninstall').count()).toBe(0);
    expect(existsSync(local)).toBe(true);
    await page.getByTestId('action-uninstall').click();
    await page.getByTestId('confirm-yes').click();
    await expect.poll(() => badge('demo-arena').textContent(), { timeout: 20_000 }).toBe('Downloaded');
    expect(existsSync(path.join(settings.get().gameDir!, 'demo-arena', 'local'))).toBe(false);
    await page.getByTestId('action-remove-downloaded').click();
    expect(await page.getByTestId('confirm-remove').textContent()).toMatch(/stops sharing/);
    expect(existsSync(path.join(settings.get().gameDir!, 'demo-arena', 'version.ini'))).toBe(true);
    await page.getByTestId('confirm-yes').click();
    await expect.poll(() => badge('demo-arena').textContent(), { timeout: 20_000 }).toBe('On 1 peer');
    expect(existsSync(path.join(settings.get().gameDir!, 'demo-arena'))).toBe(false);
    await page.keyboard.press('Escape');
  });

  it('streams a game in low-disk mode: Installed with no archive on this machine', async () => {
    await card('demo-arena').click();
    await page.getByTestId('mode-streamed').check();
    await recordPercents();
    await page.getByTestId('primary-action').click();
    await expect.poll(percent, { timeout: 10_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(artifacts, 'detail-streaming.png') });
    await expect.poll(() => badge('demo-arena').textContent(), { timeout: 30_000 }).toMatch(/^Installed/);
    const streamed = await shownPercents('Streaming install');
    expect(streamed.at(-1)).toBe(100);
    const gameRoot = path.join(settings.get().gameDir!, 'demo-arena');
    expect(existsSync(path.join(gameRoot, 'local', 'bin', 'arena.bin'))).toBe(true);
    expect(existsSync(path.join(gameRoot, 'demo-arena.rar'))).toBe(false);
    expect(existsSync(path.join(gameRoot, 'version.ini'))).toBe(false);
    // Nothing downloaded, so there is nothing to remove; uninstall clears it again.
    expect(await page.getByTestId('action-remove-downloaded').count()).toBe(0);
    await page.getByTestId('action-uninstall').click();
    expect(await page.getByTestId('confirm-uninstall').textContent()).toMatch(/installing it again downloads it again/);
    await page.getByTestId('confirm-yes').click();
    await expect.poll(() => badge('demo-arena').textContent(), { timeout: 20_000 }).toBe('On 1 peer');
    await page.keyboard.press('Escape');
  });

  it('shows a damaged archive as a readable, coded error', async () => {
    await card('demo-tanks').click();
    await page.getByTestId('primary-action').click();
    await expect.poll(() => page.getByTestId('toast').first().getAttribute('data-code'), { timeout: 30_000 }).toBe('ARCHIVE_DAMAGED');
    expect(await page.getByTestId('toast').first().textContent()).toMatch(/damaged/i);
    expect(existsSync(path.join(settings.get().gameDir!, 'demo-tanks', 'local'))).toBe(false);
    await page.screenshot({ path: path.join(artifacts, 'detail-toast.png') });
    await page.keyboard.press('Escape');
  });

  it('keeps a toast about a 5,000-character path inside the window, its close button reachable', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('game-dir-input').fill(`/${'x'.repeat(5_000)}`);
    await page.getByTestId('game-dir-apply').click();
    const toast = page.locator('[data-testid="toast"][data-code="GAME_DIR_INVALID"]');
    await expect.poll(() => toast.count(), { timeout: 10_000 }).toBe(1);
    const viewport = page.viewportSize()!;
    const box = (await toast.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
    const close = (await toast.getByRole('button', { name: 'Dismiss' }).boundingBox())!;
    expect(close.y).toBeGreaterThanOrEqual(0);
    expect(close.y + close.height).toBeLessThanOrEqual(viewport.height);
    await page.screenshot({ path: path.join(artifacts, 'toast-long-path.png') });
    await toast.getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => toast.count()).toBe(0);
    await page.getByTestId('game-dir-input').fill(settings.get().gameDir!);
    await page.getByTestId('nav-library').click();
  });

  it('reflects a peer leaving, and keeps a download it cut short on its card, waiting for a peer with its progress', async () => {
    await expect.poll(() => page.getByTestId('peer-count').textContent()).toMatch(/1/);
    await card('demo-arena').click();
    await page.getByTestId('mode-normal').check();
    await page.getByTestId('primary-action').click();
    await expect.poll(percent, { timeout: 10_000 }).toBeGreaterThan(0);
    await seed.stop();
    // The download keeps its progress and waits for a peer: its card stays, saying so, and no error is shown for it.
    await expect.poll(() => badge('demo-arena').textContent(), { timeout: 20_000 }).toBe('Waiting for a peer');
    expect(await percent()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="toast"][data-code="NO_SOURCE"], [data-testid="toast"][data-code="PEER_GONE"]').count()).toBe(0);
    await page.screenshot({ path: path.join(artifacts, 'detail-download-cut-short.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => badge('demo-arena').textContent(), { timeout: 20_000 }).toBe('Waiting for a peer');
    await page.getByTestId('nav-peers').click();
    await expect.poll(() => page.locator('[data-testid^="peer-row-"]').count(), { timeout: 20_000 }).toBe(0);
    await page.screenshot({ path: path.join(artifacts, 'peers.png') });
    expect(pageErrors).toEqual([]);
  });

  it('shows this machine\'s address to add elsewhere, and a manual peer that does not answer with the reason', async () => {
    await page.getByTestId('nav-peers').click();
    await expect.poll(() => page.getByTestId('own-address-value').first().textContent(), { timeout: 10_000 }).toBe(`127.0.0.1:${player.runtime.port}`);
    await page.getByTestId('nav-settings').click();
    expect(await page.getByTestId('own-address-value').first().textContent()).toBe(`127.0.0.1:${player.runtime.port}`);
    // Port 9 on loopback answers nobody. (Saving the form also saves its caps: this test comes last.)
    await page.getByTestId('setting-manual-peers').fill('127.0.0.1:9');
    await page.getByTestId('settings-save').click();
    await expect.poll(() => page.getByTestId('settings-saved').count(), { timeout: 10_000 }).toBe(1);
    expect(settings.get().manualPeers).toEqual(['127.0.0.1:9']);
    await page.getByTestId('nav-peers').click();
    const unreachable = page.locator('[data-testid="manual-peer-unreachable"][data-address="127.0.0.1:9"]');
    await expect.poll(() => unreachable.count(), { timeout: 30_000 }).toBe(1);
    expect(await unreachable.textContent()).toMatch(/unreachable: .+\[[A-Z_]+\]/);
    // The seed, added for this run and gone since the previous test, is listed the same way.
    await expect.poll(() => page.locator(`[data-testid="manual-peer-unreachable"][data-address="127.0.0.1:${seedPort}"]`).count(), { timeout: 30_000 }).toBe(1);
    expect(await page.locator('[data-testid^="peer-row-"]').count()).toBe(0);
    await page.screenshot({ path: path.join(artifacts, 'peers-manual-unreachable.png') });
    await page.getByTestId('nav-library').click();
    expect(pageErrors).toEqual([]);
  });
});
