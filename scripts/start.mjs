#!/usr/bin/env node
// `npm start`: the Electron launcher when its binary is here (or can be fetched); otherwise the
// same peer runtime headless with the web UI, sharing ./games (or LANSPREAD_GAME_DIR).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const extra = process.argv.slice(2);
const electronVite = path.join(root, 'node_modules/electron-vite/bin/electron-vite.js');

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

/** Electron fetches its binary on first use; try once (it fails fast where there is no network). */
function fetchElectron() {
  if (process.env.LANSPREAD_NO_ELECTRON === '1') return null;
  const install = path.join(root, 'node_modules', 'electron', 'install.js');
  if (!existsSync(install)) return null;
  spawnSync(process.execPath, [install], { cwd: root, stdio: 'ignore', timeout: 120_000 });
  return electronBinary();
}

if (process.env.LANSPREAD_NO_ELECTRON !== '1' && (electronBinary() ?? fetchElectron())) {
  // `preview` builds, then runs the built app, so the window always matches the source.
  process.exit(run(process.execPath, [electronVite, 'preview', ...extra]));
}

const gameDir = path.resolve(process.env.LANSPREAD_GAME_DIR ?? path.join(root, 'games'));
const stateDir = path.resolve(process.env.LANSPREAD_STATE_DIR ?? path.join(root, '.lanspread-state'));
const webHost = process.env.LANSPREAD_WEB_HOST ?? '127.0.0.1';
const webPort = process.env.LANSPREAD_WEB_PORT ?? '7420';
mkdirSync(gameDir, { recursive: true });

// The web UI is the built renderer; build it once if this checkout has never been built.
if (!existsSync(path.join(root, 'out/renderer/index.html'))) {
  console.log('Building the web UI (first run)…');
  const built = run(process.execPath, [electronVite, 'build']);
  if (built !== 0) {
    console.error('Building the web UI failed; see the errors above.');
    process.exit(built);
  }
}

const shownHost = webHost === '0.0.0.0' || webHost === '::' ? '127.0.0.1' : webHost;
console.log(`Electron is not available on this machine (its binary is fetched on first run and could not be).
Starting the headless Lanspread peer with the web UI instead: it shares ${gameDir} and finds peers on the LAN.

  Open the launcher in a browser: http://${shownHost}:${webPort}/
  ${webHost === '127.0.0.1' ? '(only this machine can open it; set LANSPREAD_WEB_HOST=0.0.0.0 to allow others, with the token the peer prints)' : '(off loopback the peer prints a URL with ?token=…: use that one)'}

Ctrl-C stops it.
`);
const child = spawn(
  process.execPath,
  [path.join(root, 'bin/lanspread-peer.mjs'), 'serve', '--game-dir', gameDir, '--state-dir', stateDir, '--web', '--web-host', webHost, '--web-port', webPort, ...extra],
  { cwd: root, stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
