import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebHost, type WebHost } from '../src/main/cli/web-host';
import { RuntimeLauncherBackend } from '../src/main/peer/launcher/launcher-backend';
import { SettingsStore } from '../src/main/peer/settings/settings-store';
import { haveRarFixtures, sharedRarFixtures } from '../test/support/install-helpers';
import { makeWorkDir, startTestPeer, type TestPeer } from '../test/support/runtime-harness';
import { chromiumSkipReason, launchChromium } from './support/chromium';

/**
 * A game beyond the catalog through the UI, in Debian's Chromium over two real peers: the
 * organiser describes a folder holding a real WinRAR archive in the Share form of one launcher,
 * and the player's launcher lists it with its title, marked as shared by the organiser, and
 * installs it. Screenshots go to e2e/artifacts.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const staticDir = path.join(root, 'out/renderer');
const artifacts = path.join(root, 'e2e/artifacts');
const FIXTURE = 'rar5/libarchive__test_read_format_rar5_multiple_files/test_read_format_rar5_multiple_files.rar';
const ENTRIES: Record<string, number> = { 'test1.bin': 0x7e13b2c6, 'test2.bin': 0xf166afcb, 'test3.bin': 0x9fb123d9, 'test4.bin': 0x10c43ed4 };
const GAME = 'lan-shooter';
const skipReason =
  chromiumSkipReason() ??
  (existsSync(path.join(staticDir, 'index.html')) ? null : 'out/renderer is not built (npm run build)') ??
  (haveRarFixtures ? null : `${sharedRarFixtures} is absent (the real WinRAR fixtures live beside the project)`);
if (skipReason) console.warn(`[skip] custom-game e2e: ${skipReason}`);

interface Face {
  peer: TestPeer;
  backend: RuntimeLauncherBackend;
  host: WebHost;
  page: Page;
}

describe.skipIf(skipReason !== null)('sharing a game beyond the catalog, in the UI over real peers', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let browser: Browser | null = null;
  let organiser: Face;
  let player: Face;
  const pageErrors: string[] = [];

  async function face(peer: TestPeer, name: string): Promise<Face> {
    const settings = await SettingsStore.open(peer.stateDir, { displayName: name });
    const backend = new RuntimeLauncherBackend({ runtime: peer.runtime, settings });
    // The folder the peer runs with, saved as the player's choice (the library asks for one until then).
    await backend.handle('update_game_directory', { path: peer.gameDir });
    const host = await startWebHost({ backend, staticDir, host: '127.0.0.1', port: 0 });
    const page = await browser!.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // A missing element fails the step with its locator instead of waiting out the test.
    page.setDefaultTimeout(15_000);
    await page.goto(host.url);
    return { peer, backend, host, page };
  }

  beforeAll(async () => {
    await mkdir(artifacts, { recursive: true });
    work = await makeWorkDir('e2e-custom-game');
    browser = await launchChromium();
    const organiserPeer = await startTestPeer(work.dir, 'organiser', { catalogIds: ['demo-arena'] });
    await mkdir(path.join(organiserPeer.gameDir, GAME), { recursive: true });
    await copyFile(path.join(sharedRarFixtures, FIXTURE), path.join(organiserPeer.gameDir, GAME, `${GAME}.rar`));
    organiser = await face(organiserPeer, 'organiser');
    const playerPeer = await startTestPeer(work.dir, 'player', { catalogIds: ['demo-arena'], manualPeers: [`127.0.0.1:${organiserPeer.runtime.port}`] });
    player = await face(playerPeer, 'player');
  });

  afterAll(async () => {
    await browser?.close();
    for (const side of [player, organiser]) {
      await side?.host.stop();
      side?.backend.dispose();
      await side?.peer.stop();
    }
    await work?.cleanup();
  });

  it('refuses a launch path outside local/ with its reason, then shares the folder', async () => {
    const { page } = organiser;
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('share-id').fill(GAME);
    await page.getByTestId('share-title').fill('LAN Shooter');
    await page.getByTestId('share-version').fill('1.4');
    await page.getByTestId('share-max-players').fill('12');
    await page.getByTestId('share-description').fill('Four files of a real WinRAR archive.');
    await page.getByTestId('share-genres').fill('Shooter, Arena');
    await page.getByTestId('share-launch-linux').fill('../../../bin/sh');
    await page.getByTestId('share-submit').click();
    await expect.poll(() => page.getByTestId('toast').first().getAttribute('data-code'), { timeout: 10_000 }).toBe('DESCRIPTION_INVALID');
    expect(await page.getByTestId('toast').first().textContent()).toMatch(/launch\.linux\.executable/);
    expect(existsSync(path.join(organiser.peer.gameDir, GAME, 'version.ini'))).toBe(false);

    await page.getByTestId('share-launch-linux').fill('test1.bin');
    await page.getByTestId('share-args-linux').fill('--lan --port 27960');
    await page.getByTestId('share-launch-win32').fill('test2.bin');
    await page.getByTestId('share-submit').click();
    await expect.poll(() => page.getByTestId('share-done').textContent(), { timeout: 10_000 }).toBe('Sharing LAN Shooter');
    await page.screenshot({ path: path.join(artifacts, 'share-game-form.png') });
    expect(await readFile(path.join(organiser.peer.gameDir, GAME, 'version.ini'), 'utf8')).toBe('[version]\nversion=1.4\n');
    await page.getByTestId('nav-library').click();
    await expect.poll(() => page.getByTestId(`game-card-${GAME}`).getByTestId('card-shared').textContent(), { timeout: 10_000 }).toBe('Shared by you');
  });

  it('the player lists it with its title, shared by the organiser, and installs it', async () => {
    const { page } = player;
    const card = page.getByTestId(`game-card-${GAME}`);
    await expect.poll(() => card.locator('.card-title').textContent(), { timeout: 20_000 }).toBe('LAN Shooter');
    expect(await card.getByTestId('card-shared').textContent()).toBe('Shared by organiser');
    await card.click();
    expect(await page.getByTestId('detail-title').textContent()).toBe('LAN Shooter');
    expect(await page.getByTestId('detail-description').textContent()).toBe('Four files of a real WinRAR archive.');
    expect(await page.getByTestId('detail-shared-by').textContent()).toBe('Shared by organiser');
    await page.screenshot({ path: path.join(artifacts, 'shared-game-detail.png') });
    await expect.poll(() => page.getByTestId('primary-action').getAttribute('data-action')).toBe('install');
    await page.getByTestId('primary-action').click();
    await expect.poll(() => card.getByTestId('game-badge').textContent(), { timeout: 30_000 }).toBe('Installed');
    const local = path.join(player.peer.gameDir, GAME, 'local');
    for (const [entry, crc] of Object.entries(ENTRIES)) expect(crc32(await readFile(path.join(local, entry))) >>> 0, entry).toBe(crc);
    await expect.poll(() => page.getByTestId('primary-action').getAttribute('data-action')).toBe('play');
    await page.screenshot({ path: path.join(artifacts, 'shared-game-installed.png') });
  });

  it('the organiser stops sharing it: the folder stays, and the player, who installed it, shares it onwards', async () => {
    const { page } = organiser;
    const card = page.getByTestId(`game-card-${GAME}`);
    await card.click();
    await page.getByTestId('action-unshare').click();
    await expect.poll(() => card.getByTestId('card-shared').textContent(), { timeout: 20_000 }).toBe('Shared by player');
    expect(await page.getByTestId('action-unshare').count()).toBe(0);
    expect(existsSync(path.join(organiser.peer.gameDir, GAME, `${GAME}.rar`))).toBe(true);
    await page.screenshot({ path: path.join(artifacts, 'shared-game-unshared.png') });
    expect(pageErrors).toEqual([]);
  });
});
