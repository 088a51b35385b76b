import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import { defaultSettings, type Settings } from '../../../shared/settings';
import { ControlSocketServer, controlSocketPath } from '../../peer/launcher/control-socket';
import { createGameLauncher } from '../../peer/launcher/game-launcher';
import { RuntimeLauncherBackend, type SettingsAccess } from '../../peer/launcher/launcher-backend';
import { loadCatalog } from '../../peer/library/catalog';
import { startPeer } from '../../peer/runtime';
import { createLogger, type LogLevel } from '../../peer/util/logger';
import { flag, flagList, numberFlag, parseArgs } from '../args';
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
  const settings = new MemorySettings({
    ...defaultSettings(flag(args, 'name') ?? os.hostname()),
    gameDir,
    manualPeers: flagList(args, 'peer'),
    downloadLimitBytesPerSec: numberFlag(args, 'download-limit') ?? 0,
    uploadLimitBytesPerSec: numberFlag(args, 'upload-limit') ?? 0,
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
  const backend = new RuntimeLauncherBackend({ runtime, settings, launchGame: createGameLauncher(runtime.catalog, runtime.gameDir) });
  const control = new ControlSocketServer(backend, controlSocketPath(stateDir), logger.child('control'));
  await control.start();

  runtime.on('peer-connected', ({ peer }) => logger.info(`peer joined: ${peer.name} ${peer.host}:${peer.port}`));
  runtime.on('peer-disconnected', ({ peerId }) => logger.info(`peer left: ${peerId.slice(0, 16)}`));
  runtime.on('runtime-error', ({ error }) => logger.error(`[${error.code}] ${error.message}`));

  process.stdout.write(`LANSPREAD_READY ${JSON.stringify({ peerId: runtime.peerId, port: runtime.port, stateDir })}\n`);
  logger.info(`serving ${gameDir} as '${runtime.displayName}' on udp port ${runtime.port}, peer id ${runtime.peerId}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`${signal}: stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await control.stop();
  backend.dispose();
  await runtime.stop();
  return 0;
}

/** Settings for a headless peer come from flags; they live as long as the process. */
class MemorySettings implements SettingsAccess {
  constructor(private current: Settings) {}

  get(): Settings {
    return this.current;
  }

  async update(patch: Partial<Omit<Settings, 'schemaVersion'>>): Promise<Settings> {
    this.current = { ...this.current, ...patch };
    return this.current;
  }
}
