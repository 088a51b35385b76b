import os from 'node:os';
import path from 'node:path';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import { ControlSocketServer, controlSocketPath } from '../../peer/launcher/control-socket';
import { InstanceLock } from '../../peer/launcher/instance-lock';
import { ProcessGuard } from '../../peer/launcher/process-guard';
import { createGameLauncher } from '../../peer/launcher/game-launcher';
import { checkGameDir } from '../../peer/launcher/game-dir-check';
import { RuntimeLauncherBackend } from '../../peer/launcher/launcher-backend';
import { SettingsStore } from '../../peer/settings/settings-store';
import { loadCatalog } from '../../peer/library/catalog';
import { DEFAULT_CONTROL_PORT, startPeer } from '../../peer/runtime';
import { createLogger, type Logger, type LogLevel } from '../../peer/util/logger';
import { portInUse } from '../../peer/util/port-in-use';
import { flag, flagList, numberFlag, parseArgs, sizeFlag } from '../args';
import { findRendererDir } from '../web/renderer-dir';
import { startWebHost } from '../web-host';
import { stateDirOf } from './shared-flags';

const SERVE_FLAGS = {
  'game-dir': { value: true },
  'default-game-dir': { value: true },
  'state-dir': { value: true },
  name: { value: true },
  port: { value: true },
  host: { value: true },
  peer: { value: true, repeat: true },
  'no-mdns': {},
  'mdns-loopback': {},
  web: {},
  'web-host': { value: true },
  'web-port': { value: true },
  'download-limit': { value: true },
  'upload-limit': { value: true },
  'log-level': { value: true },
  catalog: { value: true },
  'chunk-size': { value: true },
} as const;

/**
 * Runs a peer until SIGINT/SIGTERM; prints one `LANSPREAD_READY {json}` line once serving.
 * One peer per state directory (InstanceLock). A start that fails (the lock is held, a port is
 * taken) stops whatever it had started, so the process exits with the error instead of
 * lingering with half its sockets open.
 */
export async function runServe(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SERVE_FLAGS);
  // A malformed size or port is refused before anything starts.
  for (const name of ['download-limit', 'upload-limit', 'chunk-size']) sizeFlag(args, name);
  for (const name of ['port', 'web-port']) numberFlag(args, name);
  const stateDir = stateDirOf(args);
  const lock = await InstanceLock.acquire(stateDir);
  const logger = createLogger((flag(args, 'log-level') ?? 'info') as LogLevel, 'peer');
  const guard = new ProcessGuard(logger.child('guard')).install();
  // What was started, stopped in reverse order at the end (or when a later start fails).
  const stops: Array<() => unknown> = [() => guard.uninstall(), () => lock.release()];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await Promise.resolve().then(stop).catch((error: unknown) => logger.warn(`stopping: ${toLanspreadError(error).message}`));
  };
  try {
    await serveUntilSignal(args, { stateDir, logger, guard, stops });
  } finally {
    await stopAll();
  }
  return 0;
}

interface ServeContext {
  stateDir: string;
  logger: Logger;
  guard: ProcessGuard;
  stops: Array<() => unknown>;
}

async function serveUntilSignal(args: ReturnType<typeof parseArgs>, { stateDir, logger, guard, stops }: ServeContext): Promise<void> {
  // Settings persist in the state dir (the web UI can change them). --game-dir, --name and the
  // limits override what is saved (and are saved); --default-game-dir only fills a first start;
  // --peer adds peers for this run without touching the saved list.
  const settings = await SettingsStore.open(stateDir, { displayName: os.hostname() });
  stops.push(() => settings.flush());
  const { gameDir, save } = await chooseGameDir(args, settings.get().gameDir, logger);
  await settings.updateNow({
    ...(save ? { gameDir } : {}),
    ...(flag(args, 'name') ? { displayName: flag(args, 'name') } : {}),
    ...(sizeFlag(args, 'download-limit') === undefined ? {} : { downloadLimitBytesPerSec: sizeFlag(args, 'download-limit') }),
    ...(sizeFlag(args, 'upload-limit') === undefined ? {} : { uploadLimitBytesPerSec: sizeFlag(args, 'upload-limit') }),
  });

  const catalogFile = flag(args, 'catalog');
  const runtime = await startPeer({
    ...(catalogFile ? { catalog: await loadCatalog(path.resolve(catalogFile)) } : {}),
    stateDir,
    gameDir,
    displayName: settings.get().displayName,
    host: flag(args, 'host') ?? '0.0.0.0',
    // A fixed default port keeps typed-in addresses valid; --port is taken as asked or not at all.
    port: numberFlag(args, 'port') ?? DEFAULT_CONTROL_PORT,
    portFallback: !args.flags.has('port'),
    manualPeers: settings.get().manualPeers,
    sessionPeers: flagList(args, 'peer'),
    mdns: { enabled: !args.flags.has('no-mdns'), includeLoopback: args.flags.has('mdns-loopback') },
    ...(sizeFlag(args, 'chunk-size') ? { chunkSize: sizeFlag(args, 'chunk-size') } : {}),
    downloadLimitBytesPerSec: settings.get().downloadLimitBytesPerSec,
    maxConcurrentDownloads: settings.get().maxConcurrentDownloads,
    uploadLimitBytesPerSec: settings.get().uploadLimitBytesPerSec,
    logger,
  });
  stops.push(() => runtime.stop());
  guard.reportTo((error) => runtime.reportError(error));
  const backend = new RuntimeLauncherBackend({ runtime, settings, launchGame: createGameLauncher(runtime.gameCatalog, runtime.gameDir) });
  stops.push(() => backend.dispose());
  const control = new ControlSocketServer(backend, controlSocketPath(stateDir), logger.child('control'));
  await control.start();
  stops.push(() => control.stop());

  const webHost = flag(args, 'web-host') ?? '127.0.0.1';
  const webPort = numberFlag(args, 'web-port') ?? 7420;
  const web = args.flags.has('web')
    ? await startWebHost({ backend, host: webHost, port: webPort, staticDir: requireRendererDir(), logger: logger.child('web') }).catch((error: unknown) =>
        Promise.reject(portInUse(error)),
      )
    : null;
  if (web) stops.push(() => web.stop());

  const joined = (peer: { name: string; host: string; port: number }) => logger.info(`peer joined: ${peer.name} ${peer.host}:${peer.port}`);
  runtime.on('peer-connected', ({ peer }) => joined(peer));
  // A peer given with --peer may have been greeted while the runtime started, before this listener.
  for (const record of runtime.peers()) joined(record.info);
  runtime.on('peer-disconnected', ({ peerId }) => logger.info(`peer left: ${peerId.slice(0, 16)}`));
  runtime.on('runtime-error', ({ error }) => logger.error(`[${error.code}] ${error.message}`));

  process.stdout.write(`LANSPREAD_READY ${JSON.stringify({ peerId: runtime.peerId, port: runtime.port, stateDir, ...(web ? { web: web.url } : {}) })}\n`);
  if (web) process.stdout.write(`Web UI: ${web.url}  (open this URL: the token in it is required)\n`);
  logger.info(`serving ${gameDir} as '${runtime.displayName}' on udp port ${runtime.port}, peer id ${runtime.peerId}`);
  if (runtime.portTaken !== null) process.stdout.write(`Control port ${runtime.portTaken} was taken (another Lanspread or another program): this run listens on udp port ${runtime.port}.\n`);
  const addresses = runtime.ownAddresses();
  process.stdout.write(`Add this peer on another machine (Settings → Manual peers, or serve --peer): ${addresses.join('  ')}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`${signal}: stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/**
 * Which game folder this run shares: --game-dir (an override, saved), else the folder saved in
 * Settings, else --default-game-dir (saved: it was the first start). Every candidate passes the
 * same check as a folder chosen in Settings. A saved folder that is gone (an unplugged drive)
 * is not forgotten: the default serves this run, and the saved one is used again once it is back.
 */
async function chooseGameDir(args: ReturnType<typeof parseArgs>, saved: string | null, logger: Logger): Promise<{ gameDir: string; save: boolean }> {
  const override = flag(args, 'game-dir');
  const fallback = flag(args, 'default-game-dir');
  if (override !== undefined) {
    const gameDir = await checkGameDir(path.resolve(override));
    if (saved !== null && saved !== gameDir) logger.info(`--game-dir overrides the game folder saved in Settings (${saved}); ${gameDir} is saved instead`);
    return { gameDir, save: true };
  }
  if (saved !== null) {
    try {
      return { gameDir: await checkGameDir(saved), save: false };
    } catch (error) {
      if (fallback === undefined) throw error;
      logger.warn(`the game folder saved in Settings cannot be used (${toLanspreadError(error).message}); sharing ${path.resolve(fallback)} for this run`);
      return { gameDir: await checkGameDir(path.resolve(fallback)), save: false };
    }
  }
  if (fallback === undefined) throw new LanspreadError('GAME_DIR_NOT_SET', 'No game folder is saved in this state directory yet: pass --game-dir DIR');
  return { gameDir: await checkGameDir(path.resolve(fallback)), save: true };
}

function requireRendererDir(): string {
  const dir = findRendererDir();
  if (!dir) throw new LanspreadError('INTERNAL', 'The web UI is not built: run `npm run build` first');
  return dir;
}
