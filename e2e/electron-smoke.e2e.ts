import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { findElectronBinary } from './support/electron-binary';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binary = findElectronBinary(repoRoot);
if ('reason' in binary) console.warn(`[skip] electron smoke: ${binary.reason}`);

describe.skipIf('reason' in binary)('Electron app', () => {
  it('opens the library window with the preload bridge and no Node in the renderer', async () => {
    // The app runs from the build output: build it the way a release is built.
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: repoRoot, stdio: 'inherit' });
    const userData = await mkdtemp(path.join(os.tmpdir(), 'lanspread-electron-'));
    const app = await electron.launch({
      executablePath: (binary as { path: string }).path,
      args: [path.join(repoRoot, 'out/main/index.js'), `--user-data-dir=${userData}`],
      cwd: repoRoot,
    });
    try {
      const window = await app.firstWindow();
      await window.waitForSelector('h1');
      expect(await window.title()).toBe('Lanspread');
      expect(await window.evaluate(() => typeof (window as unknown as { lanspread?: unknown }).lanspread)).toBe('object');
      expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
      const games = await window.evaluate(() => (window as unknown as { lanspread: { invoke(c: string): Promise<unknown[]> } }).lanspread.invoke('request_games'));
      expect(Array.isArray(games)).toBe(true);
    } finally {
      await app.close();
      await rm(userData, { recursive: true, force: true });
    }
  });
});
