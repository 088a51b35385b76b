// Regenerates docs/screenshots/ from the demo as a player sees it: `npm start -- --demo` in web
// UI mode (fresh player folders), driven in Debian's Chromium. Run: node --import tsx scripts/demo-screenshots.ts
// LANSPREAD_DEMO_DIR reuses generated demo games (they take a while to write the first time).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium } from '../e2e/support/chromium';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'docs/screenshots');

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function percent(page: Page): Promise<number> {
  const text = (await page.getByTestId('progress-percent').textContent({ timeout: 500 }).catch(() => '')) ?? '';
  return Number.parseInt(/(\d+)%/.exec(text)?.[1] ?? '0', 10);
}

const player = await mkdtemp(path.join(os.tmpdir(), 'lanspread-shots-'));
const demoDir = process.env.LANSPREAD_DEMO_DIR ?? path.join(player, 'demo');
const start = spawn(process.execPath, [path.join(root, 'scripts/start.mjs'), '--demo', '--no-mdns'], {
  cwd: root,
  detached: true,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, LANSPREAD_NO_ELECTRON: '1', LANSPREAD_WEB_PORT: '0', LANSPREAD_DEMO_DIR: demoDir, LANSPREAD_GAME_DIR: path.join(player, 'games'), LANSPREAD_STATE_DIR: path.join(player, 'state') },
});
try {
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: start.stdout! }).on('line', (line) => {
      const match = /^Web UI: (\S+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    start.once('exit', (code) => reject(new Error(`start.mjs exited with ${code}`)));
  });
  const browser = await launchChromium();
  if (!browser) throw new Error('Chromium is needed');
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    await page.goto(url);
    const badge = (id: string) => page.getByTestId(`game-card-${id}`).getByTestId('game-badge');
    await until(async () => (await badge('demo-arena').textContent()) === 'On 2 peers' && (await badge('demo-tanks').textContent()) === 'On 1 peer', 'the demo games from both seeds');
    await page.screenshot({ path: path.join(out, 'library.png') });

    // A cap so the download is slow enough to be seen.
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('setting-download-cap').fill('12');
    await page.getByTestId('settings-save').click();
    await until(async () => (await page.getByTestId('setting-download-cap').inputValue()) === '12', 'the cap saved');
    await page.screenshot({ path: path.join(out, 'settings.png') });

    await page.getByTestId('nav-library').click();
    await page.getByTestId('game-card-demo-arena').click();
    await page.getByTestId('primary-action').click();
    await until(async () => (await percent(page)) >= 30, 'demo-arena at 30 %');
    await page.screenshot({ path: path.join(out, 'detail-downloading.png') });
    await until(async () => (await badge('demo-arena').textContent())?.startsWith('Installed') ?? false, 'demo-arena installed', 300_000);

    await page.getByTestId('game-card-demo-racer').click();
    await page.getByTestId('mode-streamed').check();
    await page.getByTestId('primary-action').click();
    await until(async () => (await percent(page)) >= 30, 'demo-racer streaming at 30 %');
    await page.screenshot({ path: path.join(out, 'detail-streaming.png') });
    await until(async () => (await badge('demo-racer').textContent())?.startsWith('Installed') ?? false, 'demo-racer installed', 300_000);
    console.log(`screenshots written to ${out}`);
  } finally {
    await browser.close();
  }
} finally {
  if (start.pid !== undefined) process.kill(-start.pid, 'SIGTERM');
  await new Promise((resolve) => start.once('exit', resolve));
  await rm(player, { recursive: true, force: true });
}
