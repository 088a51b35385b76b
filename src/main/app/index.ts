import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, session } from 'electron';
import { createGameLauncher } from '../peer/launcher/game-launcher';
import { RuntimeLauncherBackend } from '../peer/launcher/launcher-backend';
import { startPeer, type PeerRuntime } from '../peer/runtime';
import { SettingsStore } from '../peer/settings/settings-store';
import { createLogger } from '../peer/util/logger';
import { forwardEvents, registerIpc } from './ipc';

/**
 * Electron main process: one window, the peer runtime in this process (heavy work runs in its
 * worker threads), and the LauncherApi over IPC. State lives in userData.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'";

if (!app.requestSingleInstanceLock()) app.quit();

let runtime: PeerRuntime | null = null;
let window: BrowserWindow | null = null;

/**
 * `npm start -- --demo` runs seed peers on loopback and names them here (comma-separated
 * host:port). They are added for this session only, never saved, so the player's settings do not
 * keep addresses that die with the demo; saving Settings replaces the list, demo peers included.
 */
function demoPeers(): string[] {
  return (process.env.LANSPREAD_DEMO_PEERS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

async function boot(): Promise<void> {
  const logger = createLogger('info', 'lanspread');
  const stateDir = app.getPath('userData');
  const settings = await SettingsStore.open(stateDir, { displayName: os.hostname() });
  const current = settings.get();
  runtime = await startPeer({
    stateDir,
    gameDir: current.gameDir,
    displayName: current.displayName,
    manualPeers: [...current.manualPeers, ...demoPeers()],
    downloadLimitBytesPerSec: current.downloadLimitBytesPerSec,
    uploadLimitBytesPerSec: current.uploadLimitBytesPerSec,
    logger,
  });
  const backend = new RuntimeLauncherBackend({ runtime, settings, launchGame: createGameLauncher(runtime.catalog, runtime.gameDir) });

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
  if (process.env.ELECTRON_RENDERER_URL) await window.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await window.loadFile(path.join(here, '../renderer/index.html'));

  app.on('before-quit', () => {
    void settings.flush();
    void runtime?.stop();
  });
}

app.on('second-instance', () => {
  if (window?.isMinimized()) window.restore();
  window?.focus();
});
app.on('window-all-closed', () => app.quit());
app.whenReady().then(boot, (error: unknown) => {
  console.error(error);
  app.exit(1);
});
