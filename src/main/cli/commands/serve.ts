import os from 'node:os';
import path from 'node:path';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import { ControlSocketServer, controlSocketPath } from '../../peer/launcher/control-socket';
import { InstanceLock } from '../../peer/launcher/instance-lock';
import { ProcessGuard } from '../../peer/launcher/process-guard';
import { createGameLauncher } from '../../peer/launcher/game-launcher';
import { RuntimeLauncherBackend } from '../../peer/launcher/launcher-backend';
import { SettingsStore } from '../../peer/settings/settings-store';
import { loadCatalog } from '../../peer/library/catalog';
import { startPeer } from '../../peer/runtime';
import { createLogger, type Logger, type LogLevel } from '../../peer/util/logger';
import { portInUse } from '../../peer/util/port-in-use';
import { flag, flagList, numberFlag, parseArgs } from '../args';
import { findRendererDir } from '../web/renderer-dir';
import { startWebHost } from '../web-host';
import { stateDirOf } from './shared-flags';

const SERVE_FLAGS = {
  'game-dir': { value: true },
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
  const gameDirFlag = flag(args, 'game-dir');
  if (!gameDirFlag) throw new LanspreadError('GAME_DIR_NOT_SET', 'serve needs --game-dir DIR');
  const gameDir = path.resolve(gameDirFlag);
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
    await serveUntilSignal(args, { gameDir, stateDir, logger, guard, stops });
  } finally {
    await stopAll();
  }
  return 0;
}

interface ServeContext {
  gameDir: string;
  stateDir: string;
  logger: Logger;
  guard: ProcessGuard;
  stops: Array<() => unknown>;
}

async function serveUntilSignal(args: ReturnType<typeof parseArgs>, { gameDir, stateDir, logger, guard, stops }: ServeContext): Promise<void> {
  // Settings persist in the state dir (the web UI can change them); flags given now win.
  const settings = await SettingsStore.open(stateDir, { displayName: os.hostname() });
  stops.push(() => settings.flush());
  await settings.updateNow({
    gameDir,
    ...(flag(args, 'name') ? { displayName: flag(args, 'name') } : {}),
    ...(args.flags.has('peer') ? { manualPeers: flagList(args, 'peer') } : {}),
    ...(numberFlag(args, 'download-limit') === undefined ? {} : { downloadLimitBytesPerSec: numberFlag(args, 'download-limit') }),
    ...(numberFlag(args, 'upload-limit') === undefined ? {} : { uploadLimitBytesPerSec: numberFlag(args, 'upload-limit') }),
  });

  const catalogFile = flag(args, 'catalog');
  const runtime = await startPeer({
    ...(catalogFile ? { catalog: await loadCatalog(path.resolve(catalogFile)) } : {}),
    stateDir,
    gameDir,
    displayName: settings.get().displayName,
    host: flag(args, 'host') ?? '0.0.0.0',
    port: numberFlag(args, 'port') ?? 0,
    manualPeers: settings.get().manualPeers,
    mdns: { enabled: !args.flags.has('no-mdns'), includeLoopback: args.flags.has('mdns-loopback') },
    ...(numberFlag(args, 'chunk-size') ? { chunkSize: numberFlag(args, 'chunk-size') } : {}),
    downloadLimitBytesPerSec: settings.get().downloadLimitBytesPerSec,
    maxConcurrentDownloads: settings.get().maxConcurrentDownloads,
    uploadLimitBytesPerSec: settings.get().uploadLimitBytesPerSec,
    logger,
  });
  stops.push(() => runtime.stop());
  guard.reportTo((error) => runtime.reportError(error));
  const backend = new RuntimeLauncherBackend({ runtime, settings, launchGame: createGameLauncher(runtime.catalog, runtime.gameDir) });
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

  runtime.on('peer-connected', ({ peer }) => logger.info(`peer joined: ${peer.name} ${peer.host}:${peer.port}`));
  runtime.on('peer-disconnected', ({ peerId }) => logger.info(`peer left: ${peerId.slice(0, 16)}`));
  runtime.on('runtime-error', ({ error }) => logger.error(`[${error.code}] ${error.message}`));

  process.stdout.write(`LANSPREAD_READY ${JSON.stringify({ peerId: runtime.peerId, port: runtime.port, stateDir, ...(web ? { web: web.url } : {}) })}\n`);
  if (web) process.stdout.write(`Web UI: ${web.url}  (open this URL: the token in it is required)\n`);
  logger.info(`serving ${gameDir} as '${runtime.displayName}' on udp port ${runtime.port}, peer id ${runtime.peerId}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`${signal}: stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

function requireRendererDir(): string {
  const dir = findRendererDir();
  if (!dir) throw new LanspreadError('INTERNAL', 'The web UI is not built: run `npm run build` first');
  return dir;
}
