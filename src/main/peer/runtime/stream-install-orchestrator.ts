import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { PeerId } from '../../../shared/model';
import type { RateLimiter } from '../bandwidth/rate-limiter';
import type { PeerIdentity } from '../identity/identity';
import type { InstallEventListener } from '../install/install-events';
import type { InstallService } from '../install/install-service';
import type { PeerGameDB, PeerRecord } from '../peers/peer-game-db';
import type { RuntimeEvents, StreamInstallReport } from '../runtime-types';
import { DEFAULT_MAX_STREAM_ENTRIES } from '../stream/stream-receiver';
import { streamStagingSource } from '../stream/stream-staging';
import { receiveStreamInstall } from '../transport/data-lane/lane-stream';
import type { Logger } from '../util/logger';
import { CancellableRuns } from './cancellable-runs';
import { logOperationFailure } from './failure-log';

/** How a streamed install waits on its senders and what it takes from them (tests shorten the waits). */
export interface StreamInstallTuning {
  /** Senders tried, one after the other, before the install fails. */
  maxAttempts: number;
  connectTimeoutMs: number;
  /** Within every this much time waiting on a sender, `minBytesPerWindow` must arrive; else the next sender is tried. */
  idleTimeoutMs: number;
  minBytesPerWindow: number;
  /** Entries taken from one stream. */
  maxEntries: number;
}

export const DEFAULT_STREAM_INSTALL_TUNING: StreamInstallTuning = {
  maxAttempts: 3,
  connectTimeoutMs: 3_000,
  // A sender unpacking a large solid block can be quiet for a while before the next bytes.
  idleTimeoutMs: 30_000,
  // About 8 KiB/s of waiting: no LAN sender is that slow, and a byte every 20 s is far below it.
  minBytesPerWindow: 256 * 1024,
  maxEntries: DEFAULT_MAX_STREAM_ENTRIES,
};

export interface StreamInstallOrchestratorDeps {
  db: PeerGameDB;
  identity: PeerIdentity;
  installs(): InstallService;
  downloadLimiter: RateLimiter;
  onInstallEvent: InstallEventListener;
  onSender(event: RuntimeEvents['stream-install-sender']): void;
  logger: Logger;
  tuning?: Partial<StreamInstallTuning>;
}

interface Sender {
  peerId: PeerId;
  name: string;
  host: string;
  dataPort: number;
}

/**
 * Runs streamed installs for the runtime: picks the peers that share the latest version (the
 * quickest-answering first), hands the install transaction a staging source that streams from
 * them in turn, and keeps a cancel handle per game.
 */
export class StreamInstallOrchestrator {
  private readonly runs = new CancellableRuns();
  private readonly tuning: StreamInstallTuning;

  constructor(private readonly deps: StreamInstallOrchestratorDeps) {
    this.tuning = { ...DEFAULT_STREAM_INSTALL_TUNING, ...deps.tuning };
  }

  isRunning(gameId: string): boolean {
    return this.runs.isRunning(gameId);
  }

  cancel(gameId: string): boolean {
    return this.runs.cancel(gameId);
  }

  /**
   * Shutdown: cancels every streamed install and waits until each transaction has cleaned up.
   * Its socket is its own (not the lane client's), so nothing else would stop it writing.
   */
  stop(): Promise<void> {
    return this.runs.stop();
  }

  async install(gameId: string): Promise<StreamInstallReport> {
    const version = this.deps.db.latestVersion(gameId);
    if (version === null) throw new LanspreadError('NO_SOURCE', `No peer shares ${gameId}`);
    const senders = this.deps.db
      .sourcesFor(gameId, version)
      .sort(byRoundTrip)
      .map(senderOf)
      .filter((sender): sender is Sender => sender !== null);
    if (senders.length === 0) throw new LanspreadError('NO_SOURCE', `No peer with a data lane shares ${gameId} ${version}`);
    if (this.runs.isRunning(gameId)) throw new LanspreadError('OPERATION_IN_PROGRESS', `${gameId} is already being installed`);
    return this.runs.run(gameId, (signal) => this.run(gameId, version, senders, signal));
  }

  private async run(gameId: string, version: string, senders: Sender[], cancel: AbortSignal): Promise<StreamInstallReport> {
    const { tuning } = this;
    const failedSenders: StreamInstallReport['failedSenders'] = [];
    let used: Sender | null = null;
    try {
      const source = streamStagingSource({
        gameId,
        version,
        senders,
        maxAttempts: tuning.maxAttempts,
        limits: { maxEntries: tuning.maxEntries },
        receive: (sender, visitor, signal) => {
          used = sender;
          this.deps.onSender({ gameId, peerId: sender.peerId, name: sender.name, attempt: failedSenders.length + 1 });
          return receiveStreamInstall(sender, gameId, version, visitor, {
            identity: this.deps.identity,
            connectTimeoutMs: tuning.connectTimeoutMs,
            idleTimeoutMs: tuning.idleTimeoutMs,
            minBytesPerWindow: tuning.minBytesPerWindow,
            downloadLimiter: this.deps.downloadLimiter,
            signal,
          });
        },
        onRetry: (failed, error, next) => {
          failedSenders.push({ peerId: failed.peerId, name: failed.name, error: error.toInfo() });
          this.deps.logger.warn(`streamed install of ${gameId} failed from one peer (${error.code}); trying the next`, {
            gameId,
            sender: `${failed.name} (${failed.peerId})`,
            code: error.code,
            message: error.message,
            next: next.name,
          });
        },
      });
      await this.deps.installs().installStreamed(gameId, source, { signal: cancel, onEvent: this.deps.onInstallEvent });
    } catch (error) {
      const coded = cancel.aborted ? new LanspreadError('REQUEST_CANCELLED', `Streamed install of ${gameId} was cancelled`, { cause: error }) : toLanspreadError(error);
      const last = used as Sender | null;
      logOperationFailure(this.deps.logger, 'streamed install', gameId, coded.toInfo(), last ? [last] : []);
      throw coded;
    }
    const sender = used as Sender | null;
    if (sender === null) throw new LanspreadError('INTERNAL', 'Streamed install finished without a sender');
    return { version, sender: { peerId: sender.peerId, name: sender.name }, failedSenders };
  }
}

function senderOf(record: PeerRecord): Sender | null {
  const { peerId, name, host, dataPort } = record.info;
  return dataPort === undefined ? null : { peerId, name, host, dataPort };
}

function byRoundTrip(a: PeerRecord, b: PeerRecord): number {
  return (a.rttMs ?? Number.MAX_SAFE_INTEGER) - (b.rttMs ?? Number.MAX_SAFE_INTEGER);
}
