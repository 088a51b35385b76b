import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebHost, type WebHost } from '../src/main/cli/web-host';
import { RuntimeLauncherBackend } from '../src/main/peer/launcher/launcher-backend';
import { SettingsStore } from '../src/main/peer/settings/settings-store';
import { makeWorkDir, seedGames, startTestPeer, waitFor, type TestPeer } from '../test/support/runtime-harness';
import { chromiumSkipReason, launchChromium } from './support/chromium';

/**
 * The Downloads page in Debian's Chromium over the built web UI, driving a real player runtime
 * that downloads from a real seed runtime (QUIC + the TLS data lane on loopback): three games
 * queued, reordered (buttons, keyboard, drag and drop), paused, resumed, one cancelled after its confirmation, rates and the
 * finished list, an update shown as "Updating", and the end notified (the browser's
 * notification, and the in-app toast). Screenshots go to e2e/artifacts.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const staticDir = path.join(root, 'out/renderer');
const artifacts = path.join(root, 'e2e/artifacts');
const skipReason = chromiumSkipReason() ?? (existsSync(path.join(staticDir, 'index.html')) ? null : 'out/renderer is not built (npm run build)');
if (skipReason) console.warn(`[skip] downloads-flow e2e: ${skipReason}`);

const QUEUED = ['demo-alpha', 'demo-bravo', 'demo-charlie'];
const UPDATED = 'demo-delta';
const IDS = [...QUEUED, UPDATED];
// At 2 MB/s each game takes ~8 s: long enough to act on the one running, short enough for a test.
const GAME_BYTES = 16_000_000;

describe.skipIf(skipReason !== null)('Downloads page over real peers', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let seed: TestPeer;
  let player: TestPeer;
  let backend: RuntimeLauncherBackend;
  let host: WebHost;
  let browser: Browser | null = null;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(artifacts, { recursive: true });
    work = await makeWorkDir('e2e-downloads');
    seed = await startTestPeer(work.dir, 'seed', {
      catalogIds: IDS,
      games: QUEUED.map((id, index) => ({ id, version: '1.0', seed: index + 1, files: [{ path: `bin/${id}.bin`, size: GAME_BYTES }] })),
    });
    player = await startTestPeer(work.dir, 'player', {
      catalogIds: IDS,
      // Version 1.0 of the game to update is downloaded here already; the seed gets 2.0 later.
      games: [{ id: UPDATED, version: '1.0', files: [{ path: 'bin/delta.bin', size: 300_000 }] }],
      manualPeers: [`127.0.0.1:${seed.runtime.port}`],
      downloadLimitBytesPerSec: 2_000_000,
      // A download whose seed left waits for peers at once (by default it waits minutes for the seed first).
      downloadTuning: { noSourceGraceMs: 0 },
    });
    const settings = await SettingsStore.open(player.stateDir, { displayName: 'player' });
    await settings.update({ gameDir: player.gameDir });
    backend = new RuntimeLauncherBackend({ runtime: player.runtime, settings });
    await backend.handle('install_game', { gameId: UPDATED });
    await waitFor(() => player.runtime.localGames().some((game) => game.id === UPDATED && game.installed) && !player.runtime.operations().length, 20_000, `${UPDATED} 1.0 to install`);
    await backend.handle('clear_finished_downloads', undefined);

    host = await startWebHost({ backend, staticDir, host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    context = await browser!.newContext({ viewport: { width: 1360, height: 900 } });
    await context.grantPermissions(['notifications'], { origin: new URL(host.url).origin });
    // A spy on the browser's Notification (the real one still runs): what the page asked to show.
    await context.addInitScript(`(() => {
      const Real = window.Notification;
      window.__notices = [];
      if (!Real) return;
      class Spy extends Real {
        constructor(title, options) {
          window.__notices.push(title);
          super(title, options);
        }
      }
      window.Notification = Spy;
    })()`);
    page = await context.newPage();
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
  const item = (id: string) => page.getByTestId(`download-${id}`);
  const stateOf = (id: string) => item(id).getAttribute('data-state', { timeout: 1_000 }).catch(() => null);
  const queueOrder = () => page.getByTestId('downloads-queue').locator('> li').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-testid')?.replace('download-', '')));
  const notices = () => page.evaluate('window.__notices') as Promise<string[]>;

  it('queues three games from the library; the sidebar counts them', async () => {
    for (const id of QUEUED) await expect.poll(() => card(id).getByTestId('game-badge').textContent(), { timeout: 20_000 }).toBe('On 1 peer');
    for (const id of QUEUED) {
      await card(id).click();
      await page.getByTestId('primary-action').click();
      await expect.poll(() => card(id).getByTestId('game-badge').textContent()).toMatch(/Queued|Downloading/);
      await page.keyboard.press('Escape');
    }
    await expect.poll(() => page.getByTestId('downloads-count').textContent()).toBe('3');
    await page.getByTestId('nav-downloads').click();
    await expect.poll(() => stateOf('demo-alpha')).toBe('running');
    expect(await queueOrder()).toEqual(['demo-bravo', 'demo-charlie']);
  });

  it('turns the browser notifications on from the page (the permission was granted to this origin)', async () => {
    await page.getByTestId('notifications-toggle').check();
    await expect.poll(() => page.getByTestId('notifications-toggle').isChecked()).toBe(true);
  });

  it('shows the running download with network and disk rate, ETA, sources and bytes per peer', async () => {
    const running = item('demo-alpha');
    await expect.poll(() => running.getByTestId('download-net-rate').textContent(), { timeout: 10_000 }).toMatch(/^[1-9][\d.]* (KiB|MiB)\/s$/);
    await expect.poll(() => running.getByTestId('download-disk-rate').textContent(), { timeout: 10_000 }).toMatch(/^[1-9][\d.]* (KiB|MiB)\/s$/);
    expect(await running.getByTestId('download-eta').textContent()).toMatch(/\d+s/);
    expect(await running.getByTestId('download-sources').textContent()).toBe('1 full · 0 partial');
    await expect.poll(() => running.getByTestId('download-peer').first().textContent()).toMatch(/^ ?seed \d/);
    await page.screenshot({ path: path.join(artifacts, 'downloads.png') });
  });

  it('reorders with the buttons, the keyboard and drag and drop so the last queued runs next, pauses the running one and resumes it without losing its progress', async () => {
    await item('demo-charlie').getByTestId('download-top').click();
    await expect.poll(queueOrder).toEqual(['demo-charlie', 'demo-bravo']);
    // Keyboard: the Down button of the first one moves it back down, and up again.
    await item('demo-charlie').getByTestId('download-down').focus();
    await page.keyboard.press('Enter');
    await expect.poll(queueOrder).toEqual(['demo-bravo', 'demo-charlie']);
    await item('demo-charlie').getByTestId('download-up').focus();
    await page.keyboard.press('Enter');
    await expect.poll(queueOrder).toEqual(['demo-charlie', 'demo-bravo']);
    // Drag and drop: a row dropped on another takes its place.
    await item('demo-bravo').dragTo(item('demo-charlie'));
    await expect.poll(queueOrder).toEqual(['demo-bravo', 'demo-charlie']);
    await item('demo-charlie').getByTestId('download-top').click();
    await expect.poll(queueOrder).toEqual(['demo-charlie', 'demo-bravo']);

    await expect.poll(async () => Number(await item('demo-alpha').getByTestId('download-bar').getAttribute('data-percent')), { timeout: 10_000 }).toBeGreaterThan(0);
    await item('demo-alpha').getByTestId('download-pause').click();
    // The slot goes to the one moved to the top; the paused one waits with what it verified.
    await expect.poll(() => stateOf('demo-alpha'), { timeout: 10_000 }).toBe('paused');
    await expect.poll(() => stateOf('demo-charlie'), { timeout: 10_000 }).toBe('running');
    const kept = Number(await item('demo-alpha').getByTestId('download-bar').getAttribute('data-percent'));
    expect(kept).toBeGreaterThan(0);
    expect(await item('demo-alpha').getByTestId('download-label').textContent()).toMatch(/^Paused/);
    await page.screenshot({ path: path.join(artifacts, 'downloads-paused.png') });

    await item('demo-alpha').getByTestId('download-resume').click();
    await expect.poll(() => stateOf('demo-alpha')).toBe('queued');
    expect(Number(await item('demo-alpha').getByTestId('download-bar').getAttribute('data-percent'))).toBe(kept);
  });

  it('cancels a queued download only after its confirmation, with no error toast', async () => {
    await item('demo-bravo').getByTestId('download-cancel').click();
    await page.getByTestId('download-cancel-no').click();
    expect(await stateOf('demo-bravo')).toBe('queued');
    await item('demo-bravo').getByTestId('download-cancel').click();
    expect(await item('demo-bravo').getByTestId('download-cancel-confirm').textContent()).toMatch(/delete what was downloaded/);
    await item('demo-bravo').getByTestId('download-cancel-yes').click();
    await expect.poll(() => item('demo-bravo').count()).toBe(0);
    await expect.poll(() => page.getByTestId('finished-demo-bravo').getAttribute('data-state')).toBe('cancelled');
    expect(await page.getByTestId('toast').count()).toBe(0);
    await expect.poll(() => page.getByTestId('downloads-count').textContent()).toBe('2');
  });

  it('lists what finished with its time and average rate, notifies the end, and clears the list', async () => {
    for (const id of ['demo-charlie', 'demo-alpha']) {
      await expect.poll(() => page.getByTestId(`finished-${id}`).getAttribute('data-state', { timeout: 1_000 }).catch(() => null), { timeout: 60_000 }).toBe('done');
    }
    const charlie = page.getByTestId('finished-demo-charlie');
    expect(await charlie.getByTestId('finished-label').textContent()).toBe('Installed');
    expect(await charlie.getByTestId('finished-took').textContent()).toMatch(/^took \d+s$/);
    expect(await charlie.getByTestId('finished-rate').textContent()).toMatch(/^average [1-9][\d.]* (KiB|MiB)\/s$/);
    expect(existsSync(path.join(player.gameDir, 'demo-charlie', 'local', 'bin', 'demo-charlie.bin'))).toBe(true);
    expect(existsSync(path.join(player.gameDir, 'demo-bravo'))).toBe(false);
    // Notified both ways: the browser's notification, and the in-app toast.
    await expect.poll(notices).toEqual(expect.arrayContaining(['demo charlie installed', 'demo alpha installed']));
    expect(await page.getByTestId('toast-done').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('demo charlie: installed.')]));
    expect(await page.getByTestId('downloads-empty').count()).toBe(1);
    await page.screenshot({ path: path.join(artifacts, 'downloads-finished.png') });
    await page.getByTestId('downloads-clear').click();
    await expect.poll(() => page.getByTestId('downloads-finished').count()).toBe(0);
  });

  it('shows an update as "Updating" on the Downloads page', async () => {
    await seedGames(seed.gameDir, [{ id: UPDATED, version: '2.0', seed: 9, files: [{ path: 'bin/delta.bin', size: GAME_BYTES }] }]);
    await seed.runtime.rescan();
    await page.getByTestId('nav-library').click();
    await expect.poll(() => card(UPDATED).getByTestId('game-badge').textContent(), { timeout: 20_000 }).toBe('Update available');
    await card(UPDATED).click();
    await page.getByTestId('primary-action').click();
    await page.keyboard.press('Escape');
    await page.getByTestId('nav-downloads').click();
    await expect.poll(() => item(UPDATED).getByTestId('download-label').textContent({ timeout: 1_000 }).catch(() => null), { timeout: 10_000 }).toBe('Updating');
    await page.screenshot({ path: path.join(artifacts, 'downloads-updating.png') });
    await expect.poll(() => page.getByTestId(`finished-${UPDATED}`).getAttribute('data-state', { timeout: 1_000 }).catch(() => null), { timeout: 60_000 }).toBe('done');
    expect(await page.getByTestId(`finished-${UPDATED}`).getByTestId('finished-label').textContent()).toBe('Updated');
    await expect.poll(notices).toContain('demo delta updated');
  });

  it('keeps a download whose only seed left on the page with its progress, waiting for a peer that has it', async () => {
    await page.getByTestId('nav-library').click();
    await card('demo-bravo').click();
    await page.getByTestId('primary-action').click();
    await page.keyboard.press('Escape');
    await page.getByTestId('nav-downloads').click();
    await expect.poll(async () => Number(await item('demo-bravo').getByTestId('download-bar').getAttribute('data-percent', { timeout: 1_000 }).catch(() => '0')), { timeout: 10_000 }).toBeGreaterThan(0);
    await seed.stop();
    await expect.poll(() => stateOf('demo-bravo'), { timeout: 20_000 }).toBe('waiting-for-peers');
    expect(await item('demo-bravo').getByTestId('download-waiting').textContent()).toMatch(/^Waiting for a peer that has it\..*what was downloaded is kept/);
    expect(Number(await item('demo-bravo').getByTestId('download-bar').getAttribute('data-percent'))).toBeGreaterThan(0);
    expect(await page.getByTestId('downloads-count').textContent()).toBe('1');
    expect(await page.getByTestId('toast').count()).toBe(0);
    await page.screenshot({ path: path.join(artifacts, 'downloads-waiting.png') });
    // The library's Cancel asks first too; keeping it changes nothing.
    await page.getByTestId('nav-library').click();
    await card('demo-bravo').click();
    expect(await page.getByTestId('detail-panel').getByTestId('game-badge').textContent()).toBe('Waiting for a peer');
    await page.getByTestId('primary-action').click();
    expect(await page.getByTestId('download-cancel-confirm').textContent()).toMatch(/delete what was downloaded/);
    await page.getByTestId('download-cancel-no').click();
    expect(await page.getByTestId('primary-action').getAttribute('data-action')).toBe('cancel');
    expect((await backend.handle('request_downloads', undefined)).queue.map((operation) => [operation.gameId, operation.state])).toEqual([['demo-bravo', 'waiting-for-peers']]);
    expect(pageErrors).toEqual([]);
  });
});
