import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import { ControlSocketServer, controlSocketPath } from '../../peer/launcher/control-socket';
import { ProcessGuard } from '../../peer/launcher/process-guard';
import { createGameLauncher } from '../../peer/launcher/game-launcher';
import { RuntimeLauncherBackend } from '../../peer/launcher/launcher-backend';
import { SettingsStore } from '../../peer/settings/settings-store';
import { loadCatalog } from '../../peer/library/catalog';
import { startPeer } from '../../peer/runtime';
import { createLogger, type LogLevel } from '../../peer/util/logger';
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

/** Runs a peer until SIGINT/SIGTERM; prints one `LANSPREAD_READY {json}` line once serving. */
export async function runServe(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SERVE_FLAGS);
  const gameDirFlag = flag(args, 'game-dir');
  if (!gameDirFlag) throw new LanspreadError('GAME_DIR_NOT_SET', 'serve needs --game-dir DIR');
  const gameDir = path.resolve(gameDirFlag);
  const stateDir = stateDirOf(args);
  await mkdir(stateDir, { recursive: true });
  const logger = createLogger((flag(args, 'log-level') ?? 'info') as LogLevel, 'peer');
  const guard = new ProcessGuard(logger.child('guard')).install();
  // Settings persist in the state dir (the web UI can change them); flags given now win.
  const settings = await SettingsStore.open(stateDir, { displayName: os.hostname() });
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
    uploadLimitBytesPerSec: settings.get().uploadLimitBytesPerSec,
    logger,
  });
  guard.reportTo((error) => runtime.reportError(error));
  const backend = new RuntimeLauncherBackend({ runtime, settings, launchGame: createGameLauncher(runtime.catalog, runtime.gameDir) });
  const control = new ControlSocketServer(backend, controlSocketPath(stateDir), logger.child('control'));
  await control.start();

  const web = args.flags.has('web')
    ? await startWebHost({
        backend,
        host: flag(args, 'web-host') ?? '127.0.0.1',
        port: numberFlag(args, 'web-port') ?? 7420,
        staticDir: requireRendererDir(),
        logger: logger.child('web'),
      })
    : null;

  runtime.on('peer-connected', ({ peer }) => logger.info(`peer joined: ${peer.name} ${peer.host}:${peer.port}`));
  runtime.on('peer-disconnected', ({ peerId }) => logger.info(`peer left: ${peerId.slice(0, 16)}`));
  runtime.on('runtime-error', ({ error }) => logger.error(`[${error.code}] ${error.message}`));

  process.stdout.write(`LANSPREAD_READY ${JSON.stringify({ peerId: runtime.peerId, port: runtime.port, stateDir, ...(web ? { web: web.url } : {}) })}\n`);
  if (web) process.stdout.write(`Web UI: ${web.url}${web.token ? '  (the token in this URL is required from other machines)' : ''}\n`);
  logger.info(`serving ${gameDir} as '${runtime.displayName}' on udp port ${runtime.port}, peer id ${runtime.peerId}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`${signal}: stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await web?.stop();
  await control.stop();
  await settings.flush();
  backend.dispose();
  await runtime.stop();
  guard.uninstall();
  return 0;
}

function requireRendererDir(): string {
  const dir = findRendererDir();
  if (!dir) throw new LanspreadError('INTERNAL', 'The web UI is not built: run `npm run build` first');
  return dir;
}
