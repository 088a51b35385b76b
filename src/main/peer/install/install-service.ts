import { mkdir, readFile } from 'node:fs/promises';
import type { InstallMode } from '../../../shared/api';
import type { Catalog } from '../../../shared/catalog';
import { toLanspreadError } from '../../../shared/errors';
import type { OperationRegistry } from '../operations/operation-registry';
import type { Unpacker } from '../unpack/unpacker';
import { TypedEmitter } from '../util/typed-emitter';
import type { InstallEvent, InstallEventListener, InstallEventMap } from './install-events';
import { archiveSource, installGame, updateGame } from './install-transaction';
import type { InstallOutcome, StagingSource } from './install-transaction';
import { isRealDirectory, removeIfEmpty } from './fs-checks';
import { readInstalledRecord } from './intent-store';
import { gamePaths } from './layout';
import type { GamePaths } from './layout';
import { migrateLegacyFiles } from './legacy-migration';
import type { MigratedFile } from './legacy-migration';
import { recoverAll } from './recovery';
import type { RecoveryAction } from './recovery';
import { removeDownloadedGame } from './remove-downloaded';
import type { CheckpointName, TransactionContext } from './transaction-context';
import { uninstallGame } from './uninstall-transaction';

export interface InstallServiceOptions {
  gameDir: string;
  stateDir: string;
  unpacker: Unpacker;
  operations: OperationRegistry;
  /** Gates remove-downloaded (which deletes a whole folder); without it any valid id passes. */
  catalog?: Catalog;
  /** Games beyond the catalog that this machine knows (described here or adopted): they pass the catalog gate too. */
  isDescribed?: (gameId: string) => boolean;
  /** Archive password configured for a game, if any. */
  passwords?: (gameId: string) => string | undefined;
  /** Test hook: called after each durable step (the crash harness kills the process here). */
  checkpoint?: (point: CheckpointName) => Promise<void> | void;
  /** Minimum milliseconds between progress events per operation (the first and last always go). */
  progressIntervalMs?: number;
  now?: () => number;
}

export interface OperationCallOptions {
  signal?: AbortSignal;
  onEvent?: InstallEventListener;
}

/**
 * The install side of the runtime: install, update, uninstall, remove downloaded, recovery and
 * legacy migration, each holding the game's slot in the OperationRegistry while it runs. Every
 * event is emitted on this service (by its type name) and to the call's own `onEvent`.
 */
export class InstallService extends TypedEmitter<InstallEventMap> {
  private readonly ctx: TransactionContext;
  private readonly catalogIds: ReadonlySet<string> | null;
  private readonly progressIntervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: InstallServiceOptions) {
    super();
    this.ctx = {
      gameDir: options.gameDir,
      stateDir: options.stateDir,
      unpacker: options.unpacker,
      checkpoint: options.checkpoint ?? (() => undefined),
    };
    this.catalogIds = options.catalog ? new Set(options.catalog.games.map((game) => game.id)) : null;
    this.progressIntervalMs = options.progressIntervalMs ?? 250;
    this.now = options.now ?? Date.now;
  }

  /** The game directory this service operates on (the runtime makes a new service when it changes). */
  get gameDirectory(): string {
    return this.options.gameDir;
  }

  install(gameId: string, call: OperationCallOptions = {}): Promise<InstallOutcome> {
    return this.runInstall(gameId, 'install', archiveSource(this.ctx), 'normal', call);
  }

  update(gameId: string, call: OperationCallOptions = {}): Promise<InstallOutcome> {
    return this.runInstall(gameId, 'update', archiveSource(this.ctx), 'normal', call);
  }

  /**
   * Streamed install (or update, when `local/` exists): the same transaction, with the staging
   * directory filled by `source` (peers streaming the unpacked files) instead of local archives.
   * The game root is created if needed and removed again if the install fails and left it empty.
   */
  async installStreamed(gameId: string, source: StagingSource, call: OperationCallOptions = {}): Promise<InstallOutcome> {
    const paths = this.paths(gameId);
    const operation = (await isRealDirectory(paths.local)) ? 'update' : 'install';
    const createdRoot = (await mkdir(paths.root, { recursive: true })) !== undefined;
    try {
      return await this.runInstall(gameId, operation, source, 'streamed', call);
    } catch (error) {
      if (createdRoot) await removeIfEmpty(paths.root).catch(() => false);
      throw error;
    }
  }

  async uninstall(gameId: string, call: OperationCallOptions = {}): Promise<void> {
    const paths = this.paths(gameId);
    await this.options.operations.run(gameId, 'uninstall', async () => {
      this.report(call, { type: 'game-uninstall-begin', gameId });
      try {
        await uninstallGame(this.ctx, paths);
      } catch (error) {
        const coded = toLanspreadError(error);
        this.report(call, { type: 'game-uninstall-failed', gameId, error: coded.toInfo() });
        throw coded;
      }
      this.report(call, { type: 'game-uninstall-finished', gameId });
    });
  }

  async removeDownloaded(gameId: string): Promise<void> {
    const paths = this.paths(gameId);
    const inCatalog = (id: string) => this.catalogIds === null || this.catalogIds.has(id) || this.options.isDescribed?.(id) === true;
    await this.options.operations.run(gameId, 'remove-downloaded', async () => {
      try {
        await removeDownloadedGame(this.options.gameDir, paths, inCatalog);
      } catch (error) {
        throw toLanspreadError(error);
      }
    });
  }

  /** Version recorded when local/ was last installed, so the library can tell an update is due. */
  async installedVersion(gameId: string): Promise<string | null> {
    return (await readInstalledRecord(this.paths(gameId)))?.version ?? null;
  }

  /** Run once before the runtime starts: legacy files first, then interrupted transactions. */
  async prepareOnStartup(): Promise<{ migrated: MigratedFile[]; recovered: RecoveryAction[] }> {
    const migrated = await migrateLegacyFiles(this.options.gameDir, this.options.stateDir);
    const recovered = await this.recover();
    return { migrated, recovered };
  }

  recover(): Promise<RecoveryAction[]> {
    return recoverAll(this.ctx);
  }

  private paths(gameId: string): GamePaths {
    return gamePaths(this.options.gameDir, this.options.stateDir, gameId);
  }

  private async runInstall(gameId: string, operation: 'install' | 'update', source: StagingSource, mode: InstallMode, call: OperationCallOptions): Promise<InstallOutcome> {
    const paths = this.paths(gameId);
    return this.options.operations.run(gameId, mode === 'streamed' ? 'stream-install' : operation, async () => {
      let lastProgress = -Infinity;
      const activePeers = mode === 'streamed' ? 1 : 0;
      const onProgress = (bytesDone: number, bytesTotal: number) => {
        const now = this.now();
        if (bytesDone < bytesTotal && now - lastProgress < this.progressIntervalMs) return;
        lastProgress = now;
        this.report(call, { type: 'game-install-progress', gameId, bytesDone, bytesTotal, activePeers });
      };
      const run = operation === 'install' ? installGame : updateGame;
      const extract = { password: this.options.passwords?.(gameId), signal: call.signal, onProgress };
      const version = source.version ?? (await this.peekVersion(paths));
      this.report(call, { type: 'game-install-begin', gameId, operation, mode, version });
      let outcome: InstallOutcome;
      try {
        outcome = await run(this.ctx, paths, extract, source);
      } catch (error) {
        const coded = toLanspreadError(error);
        this.report(call, { type: 'game-install-failed', gameId, operation, error: coded.toInfo() });
        throw coded;
      }
      this.report(call, { type: 'game-install-finished', gameId, operation, version: outcome.version, skippedLinks: outcome.unpacked.skippedLinks });
      return outcome;
    });
  }

  private async peekVersion(paths: GamePaths): Promise<string | null> {
    try {
      return (await readFile(paths.versionIni, 'utf8')).trim();
    } catch {
      return null;
    }
  }

  private report(call: OperationCallOptions, event: InstallEvent): void {
    call.onEvent?.(event);
    this.emit(event.type, event as never);
  }
}
