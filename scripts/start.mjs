#!/usr/bin/env node
// `npm start`: the Electron launcher when its binary is here; otherwise the same peer runtime
// headless, sharing ./games (or LANSPREAD_GAME_DIR) with the LAN, driven by `lanspread-peer`.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const extra = process.argv.slice(2);

/** Looks for the Electron binary without require('electron'), which would start a download. */
function electronBinary() {
  const dir = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

function run(command, args) {
  return spawnSync(command, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
}

/** Electron 42+ fetches its binary on first use; try once (it fails fast where there is no network). */
function fetchElectron() {
  const install = path.join(root, 'node_modules', 'electron', 'install.js');
  if (!existsSync(install)) return null;
  spawnSync(process.execPath, [install], { cwd: root, stdio: 'ignore', timeout: 120_000 });
  return electronBinary();
}

if (electronBinary() ?? fetchElectron()) {
  process.exit(run(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'preview', ...extra]));
}

const gameDir = path.resolve(process.env.LANSPREAD_GAME_DIR ?? path.join(root, 'games'));
const stateDir = path.resolve(process.env.LANSPREAD_STATE_DIR ?? path.join(root, '.lanspread-state'));
mkdirSync(gameDir, { recursive: true });
console.log(`Electron is not available on this machine (its binary is fetched on first run and could not be).
Starting the headless Lanspread peer instead: it shares ${gameDir} and finds peers on the LAN.

In another terminal:
  npx lanspread-peer games --state-dir ${stateDir}       # games on this machine and the LAN
  npx lanspread-peer peers --state-dir ${stateDir}       # peers found
  npx lanspread-peer download <gameId> --state-dir ${stateDir}
Ctrl-C stops it.
`);
const child = spawn(process.execPath, [path.join(root, 'bin/lanspread-peer.mjs'), 'serve', '--game-dir', gameDir, '--state-dir', stateDir, ...extra], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
