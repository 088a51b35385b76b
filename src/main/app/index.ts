import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, session } from 'electron';
import { toLanspreadError } from '../../shared/errors';
import { InstanceLock } from '../peer/launcher/instance-lock';
import { ProcessGuard } from '../peer/launcher/process-guard';
import { createGameLauncher } from '../peer/launcher/game-launcher';
import { RuntimeLauncherBackend } from '../peer/launcher/launcher-backend';
import { DEFAULT_CONTROL_PORT, startPeer, type PeerRuntime } from '../peer/runtime';
import { SettingsStore } from '../peer/settings/settings-store';
import { createLogger } from '../peer/util/logger';
import { forwardEvents, registerIpc } from './ipc';
import { notifyDownloadEnds } from './notifications';

/**
 * Electron main process: one window, the peer runtime in this process (heavy work runs in its
 * worker threads), and the LauncherApi over IPC. State lives in userData.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
/** How long quitting waits for the runtime to stop (downloads journaled, the queue saved, installs rolled back). */
const QUIT_WAIT_MS = 10_000;
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'";

if (!app.requestSingleInstanceLock()) {
  // The first one gets focused (second-instance below); this one says so and fails.
  console.error(`Lanspread is already running with the state folder ${app.getPath('userData')}; switching to its window.`);
  app.exit(1);
}

const logger = createLogger('info', 'lanspread');
// Installed before anything starts: an error no operation caught is logged and reported, not fatal.
const guard = new ProcessGuard(logger.child('guard')).install();

let runtime: PeerRuntime | null = null;
let window: BrowserWindow | null = null;

/**
 * `npm start -- --demo` runs seed peers on loopback and names them here (comma-separated
 * host:port). They are added for this session only, never saved, so the player's settings do not
 * keep addresses that die with the demo; saving Settings replaces the saved list and keeps them.
 */
function demoPeers(): string[] {
  return (process.env.LANSPREAD_DEMO_PEERS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

async function boot(): Promise<void> {
  const stateDir = app.getPath('userData');
  // Electron's own lock covers a second window; this one also a CLI `serve` on the same folder.
  const lock = await InstanceLock.acquire(stateDir);
  const settings = await SettingsStore.open(stateDir, { displayName: os.hostname() });
  const current = settings.get();
  runtime = await startPeer({
    stateDir,
    gameDir: current.gameDir,
    displayName: current.displayName,
    port: DEFAULT_CONTROL_PORT,
    portFallback: true,
    manualPeers: current.manualPeers,
    sessionPeers: demoPeers(),
    downloadLimitBytesPerSec: current.downloadLimitBytesPerSec,
    maxConcurrentDownloads: current.maxConcurrentDownloads,
    uploadLimitBytesPerSec: current.uploadLimitBytesPerSec,
    logger,
  });
  const started = runtime;
  guard.reportTo((error) => started.reportError(error));
  const backend = new RuntimeLauncherBackend({ runtime, settings, launchGame: createGameLauncher(runtime.gameCatalog, runtime.gameDir) });

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  window = new BrowserWindow({
    width: 1280,
    height: 800,
    backgroundColor: '#0d1017',
    title: 'Lanspread',
    webPreferences: { preload: path.join(here, '../preload/index.cjs'), contextIsolation: true, sandbox: true, nodeIntegration: false },
  });
  registerIpc(backend, {
    pick_game_directory: async () => {
      const result = await dialog.showOpenDialog(window!, { properties: ['openDirectory', 'createDirectory'] });
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
  });
  forwardEvents(backend, window.webContents);
  notifyDownloadEnds(backend, window, (gameId) => started.catalog().games.find((game) => game.id === gameId)?.title ?? gameId);
  if (process.env.ELECTRON_RENDERER_URL) await window.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await window.loadFile(path.join(here, '../renderer/index.html'));

  // Quitting waits for the runtime to stop (downloads journaled, installs rolled back, sockets
  // closed): the first before-quit is held back, and the quit is asked again once all is down.
  let shutdown: 'running' | 'stopping' | 'stopped' = 'running';
  app.on('before-quit', (event) => {
    if (shutdown === 'stopped') return;
    event.preventDefault();
    if (shutdown === 'stopping') return;
    shutdown = 'stopping';
    const stopAll = async () => {
      await settings.flush().catch((error: unknown) => logger.error('settings not saved on quit', { error: String(error) }));
      await started.stop().catch((error: unknown) => logger.error('runtime did not stop cleanly', { error: String(error) }));
      await lock.release().catch(() => undefined);
    };
    // Bounded: a runtime that cannot stop (a disk that hangs) must not keep the app from quitting.
    // The queue is saved on every change and journals as chunks verify, so a forced quit loses at most the last moments.
    const bounded = Promise.race([stopAll(), new Promise<void>((resolve) => setTimeout(() => {
      logger.warn(`runtime did not stop within ${QUIT_WAIT_MS} ms; quitting anyway`);
      resolve();
    }, QUIT_WAIT_MS).unref())]);
    void bounded.finally(() => {
      shutdown = 'stopped';
      app.quit();
    });
  });
}

app.on('second-instance', () => {
  if (window?.isMinimized()) window.restore();
  window?.focus();
});
app.on('window-all-closed', () => app.quit());
app
  .whenReady()
  .then(boot)
  .catch((error: unknown) => {
    // A start that fails (the state folder in use, a port taken) says why and ends, instead of
    // leaving a process without a window.
    const coded = toLanspreadError(error);
    logger.error(`start failed: [${coded.code}] ${coded.message}`);
    dialog.showErrorBox('Lanspread could not start', coded.message);
    app.exit(1);
  });
