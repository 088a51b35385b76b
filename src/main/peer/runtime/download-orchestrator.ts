import { LanspreadError, missingCase, toLanspreadError } from '../../../shared/errors';
import type { GameManifest, PeerId } from '../../../shared/model';
import type { DownloadManager, DownloadOutcome } from '../download/download-manager';
import type { SchedulerTuning } from '../download/chunk-scheduler';
import { journalManifestId } from '../download/resume-journal';
import type { ChunkSource } from '../download/types';
import type { PeerIdentity } from '../identity/identity';
import type { OperationRegistry, SlotOutcome } from '../operations/operation-registry';
import type { PeerGameDB, PeerRecord } from '../peers/peer-game-db';
import type { PeerManager } from '../peers/peer-manager';
import type { PeerTransport } from '../peers/peer-transport';
import type { RuntimeEvents } from '../runtime-types';
import { HaveSubscription } from '../swarm/have-subscription';
import type { PartialShare, PartialShares } from '../swarm/partial-shares';
import type { TransferLedger } from '../swarm/transfer-ledger';
import type { DataLaneClient } from '../transport/data-lane/lane-client';
import type { Logger } from '../util/logger';
import type { TypedEmitter } from '../util/typed-emitter';
import { ensureRoomForDownload } from './disk-preflight';
import { logOperationFailure } from './failure-log';
import { fetchLatestManifest } from './manifest-fetch';

export interface DownloadOptions {
  install: boolean;
  signal?: AbortSignal;
  pause?: AbortSignal;
}

export interface DownloadOrchestratorDeps {
  db: PeerGameDB;
  peers: PeerManager;
  transport: PeerTransport;
  lane: DataLaneClient;
  manager: DownloadManager;
  operations: OperationRegistry;
  events: TypedEmitter<RuntimeEvents>;
  identity: PeerIdentity;
  /** Our own partial shares: a running download serves what it has verified. */
  partials: PartialShares;
  ledger: TransferLedger;
  /**
   * After a download committed and its operation slot is free: makes the library serve the
   * game whole (hands it the verified hashes, rescans), so the partial share can end with
   * nobody ever refused in between.
   */
  servedWhole: (gameId: string, manifest: GameManifest) => Promise<void>;
  /** The manifest of the version downloaded here now, if any: an update keeps its unchanged files. */
  onDisk: (gameId: string) => Promise<GameManifest | null>;
  stateDir: string;
  gameDir: () => string | null;
  tuning?: Partial<SchedulerTuning>;
  logger: Logger;
}

/** How long a partial source may stay silent (it sends a keep-alive well within this). */
const HAVE_IDLE_TIMEOUT_MS = 45_000;
/** Peers asked at a download's start whether they share it in part (a random few of a large room; the rest are re-listed soon). */
const MAX_SWARM_PROBES = 32;
const LANE_CONNECT_TIMEOUT_MS = 10_000;

/**
 * GetGame → the manifest of the latest version → DownloadGameFiles over the data lane from every
 * peer announcing the same manifest id: peers holding the whole game, and peers downloading it
 * too (partial sources, whose have-maps arrive over SubscribeHave). Sources join and leave as
 * peers come and go. Meanwhile this download is itself a partial share, so the room passes
 * pieces around instead of all pulling from one seed. Holds the game's operation slot throughout.
 */
export class DownloadOrchestrator {
  constructor(private readonly deps: DownloadOrchestratorDeps) {}

  /**
   * `install`: an install follows the download, so the preflight counts its space too.
   * `signal` cancels (the payload is discarded), `pause` interrupts (journal and verified payload kept).
   */
  async download(gameId: string, options: DownloadOptions = { install: false }): Promise<DownloadOutcome> {
    let outcome: DownloadOutcome;
    try {
      outcome = await this.run(gameId, options);
    } catch (error) {
      logOperationFailure(this.deps.logger, 'download', gameId, toLanspreadError(error).toInfo());
      throw error;
    }
    if (outcome.status === 'failed') logOperationFailure(this.deps.logger, 'download', gameId, outcome.error, outcome.sources);
    if (outcome.status === 'cancelled') {
      logOperationFailure(this.deps.logger, 'download', gameId, { code: 'REQUEST_CANCELLED', message: `Download of ${gameId} was cancelled` }, outcome.sources);
    }
    return outcome;
  }

  private async run(gameId: string, options: DownloadOptions): Promise<DownloadOutcome> {
    const { deps } = this;
    const gameDir = deps.gameDir();
    if (gameDir === null) throw new LanspreadError('GAME_DIR_NOT_SET', 'Choose a game folder first');
    const slot = deps.operations.begin(gameId, 'download');
    const offPeers: (() => void)[] = [];
    const subscriptions = new Map<PeerId, HaveSubscription>();
    let share: PartialShare | null = null;
    let outcome: DownloadOutcome | null = null;
    let manifest: GameManifest | null = null;
    let thrown: unknown = null;
    try {
      const fetched = await fetchLatestManifest(deps.db, deps.transport, gameId, deps.logger, await journalManifestId(deps.stateDir, gameId));
      // Cancelled or paused while the manifest was asked for: nothing on disk was touched, nothing is.
      if (options.signal?.aborted) return (outcome = { status: 'cancelled', sources: [] });
      if (options.pause?.aborted) return (outcome = { status: 'failed', error: { code: 'REQUEST_CANCELLED', message: `Download of ${gameId} was paused` }, sources: [] });
      manifest = fetched.manifest;
      const { manifestId } = fetched;
      deps.events.emit('got-game-files', { gameId, manifest: fetched.manifest, sources: fetched.sources });
      await ensureRoomForDownload(fetched.manifest, gameDir, options);
      const onDisk = await deps.onDisk(gameId);
      const chunkCount = fetched.manifest.files.reduce((sum, file) => sum + file.chunkHashes.length, 0);
      const sourceOf = (record: PeerRecord, treatAs?: { partial: boolean }) => this.sourceOf(record, gameId, manifestId, chunkCount, subscriptions, treatAs);
      // Peers listed while the manifest was asked for (their listing event came before the
      // subscriptions below) join too: the peers that answered, and every peer announcing it now.
      const announcing = deps.db.sourcesFor(gameId, fetched.manifest.version).filter((record) => record.games.some((game) => game.id === gameId && game.manifestId === manifestId));
      const sources = [...new Set([...fetched.sources, ...announcing.map((record) => record.info.peerId)])]
        .map((peerId) => deps.db.get(peerId))
        .filter((record): record is PeerRecord => record !== undefined)
        .map((record) => sourceOf(record))
        .filter((source): source is ChunkSource => source !== null);
      // Asked straight over the data lane whether it shares this manifest in part: it joins as
      // soon as it answers with its have-map (HaveSubscription), without a QUIC re-listing.
      const probe = (record: PeerRecord) => {
        const source = sourceOf(record, { partial: true });
        if (source) subscriptions.get(record.info.peerId)?.onOpen(() => deps.manager.addSource(gameId, source));
      };
      const leave = (peerId: PeerId) => {
        subscriptions.get(peerId)?.close();
        subscriptions.delete(peerId);
        deps.manager.removeSource(gameId, peerId);
      };
      // Peers that show up with the same manifest join the swarm; pruned ones, and ones that now
      // announce other bytes or none, leave it.
      offPeers.push(
        deps.peers.on('peer-games-changed', ({ peerId }) => {
          const announced = deps.db.get(peerId)?.games.find((game) => game.id === gameId);
          if (announced?.manifestId !== manifestId) return leave(peerId);
          if (subscriptions.has(peerId) && announced.partial) return;
          const record = deps.db.get(peerId);
          const source = record ? sourceOf(record) : null;
          if (source) deps.manager.addSource(gameId, source);
        }),
        deps.peers.on('peer-disconnected', ({ peerId }) => leave(peerId)),
        // A peer whose list changed may have just started sharing this game in part (a room that
        // starts one game at once; the room re-lists it only later, PeerManager.relistLater).
        deps.peers.on('peer-revision-changed', ({ peerId }) => {
          const record = deps.db.get(peerId);
          const announced = record?.games.find((game) => game.id === gameId);
          if (!record || subscriptions.has(peerId) || (announced?.manifestId === manifestId && !announced.partial)) return;
          probe(record);
        }),
      );
      // A player who starts after the crowd: the peers that share what they download (or
      // downloaded in this run) are not all listed yet; those not already sources are asked.
      const known = new Set(sources.map((source) => source.peerId));
      const unlisted = deps.db.list().filter((peer) => peer.swarming && !known.has(peer.info.peerId));
      for (const record of shuffled(unlisted).slice(0, MAX_SWARM_PROBES)) probe(record);
      outcome = await deps.manager.download({
        gameId,
        gameDir,
        stateDir: deps.stateDir,
        manifest: fetched.manifest,
        onDisk,
        sources,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.pause ? { interrupt: options.pause } : {}),
        share: (download) => (share = deps.partials.open(download)),
        onEvent: (event) => {
          if (event.type === 'game-download-progress') {
            event.payload.uploadedBytes = deps.ledger.uploadedFor(gameId);
            deps.operations.progress(gameId, event.payload);
          } else if (event.type === 'game-download-begin') {
            deps.operations.progress(gameId, { bytesDone: 0, totalBytes: event.payload.totalBytes, bytesPerSecond: 0, etaSeconds: null, activePeers: 0 });
          }
          deps.events.emit(event.type, event.payload as never);
        },
        onReceived: (peerId, bytes) => deps.ledger.downloaded(bytes, peerId),
        ...(deps.tuning ? { tuning: deps.tuning } : {}),
      });
      return outcome;
    } catch (error) {
      thrown = error;
      throw error;
    } finally {
      for (const off of offPeers) off();
      for (const subscription of subscriptions.values()) subscription.close();
      slot.release(outcome ? slotOutcomeOf(outcome) : { status: 'failed', error: toLanspreadError(thrown).toInfo() });
      await this.endShare(share, gameId, outcome, manifest);
    }
  }

  cancel(gameId: string): boolean {
    return this.deps.manager.cancel(gameId);
  }

  /** A finished download stays shared (partially, then whole) without a gap; any other end withdraws it at once. */
  private async endShare(share: PartialShare | null, gameId: string, outcome: DownloadOutcome | null, manifest: GameManifest | null): Promise<void> {
    if (!share) return;
    if (outcome?.status === 'finished' && manifest) {
      await this.deps.servedWhole(gameId, manifest).catch((error: unknown) => this.deps.logger.warn('could not serve the finished game whole yet', { gameId, error: String(error) }));
      share.end('complete');
      return;
    }
    share.end('withdrawn');
  }

  /**
   * A chunk source over the TLS data lane of a peer, or null when it announced no lane. A peer
   * that announces the game as partial (or that `treatAs` says to treat as one) gets a have
   * subscription: it is asked only for what it holds.
   */
  private sourceOf(record: PeerRecord, gameId: string, manifestId: string, chunkCount: number, subscriptions: Map<PeerId, HaveSubscription>, treatAs?: { partial: boolean }): ChunkSource | null {
    const { dataPort, host, peerId, name } = record.info;
    if (dataPort === undefined) return null;
    const target: { host: string; dataPort: number; peerId: PeerId } = { host, dataPort, peerId };
    // The peer's address as known now: a peer that restarted with a new data-lane port is
    // greeted again (PeerManager.recheck) when its old port refuses us, and the next try goes there.
    const current = () => {
      const info = this.deps.db.get(peerId)?.info;
      return info?.dataPort === undefined ? target : { host: info.host, dataPort: info.dataPort, peerId };
    };
    const fetchChunk: ChunkSource['fetchChunk'] = (request, sink, signal) =>
      this.deps.lane.fetchChunk(current(), request, sink, { signal }).catch((error: unknown) => {
        if (refused(error)) this.deps.peers.recheck(peerId);
        throw error;
      });
    const partial = treatAs?.partial ?? record.games.find((game) => game.id === gameId)?.partial === true;
    if (!partial) return { peerId, name, fetchChunk };
    subscriptions.get(peerId)?.close();
    const subscription = new HaveSubscription(target, gameId, manifestId, chunkCount, {
      identity: this.deps.identity,
      connectTimeoutMs: LANE_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: HAVE_IDLE_TIMEOUT_MS,
      logger: this.deps.logger.child('have'),
    });
    subscriptions.set(peerId, subscription);
    subscription.onEnd((reason) => {
      if (subscriptions.get(peerId) !== subscription) return;
      subscriptions.delete(peerId);
      if (reason === 'withdrawn') this.deps.manager.removeSource(gameId, peerId);
    });
    subscription.start();
    return { peerId, name, fetchChunk, availability: subscription };
  }
}

/** How the download's own operation ends (when no queue entry owns the game). */
function slotOutcomeOf(outcome: DownloadOutcome): SlotOutcome {
  switch (outcome.status) {
    case 'finished':
      return { status: 'done' };
    case 'failed':
      return { status: 'failed', error: outcome.error };
    case 'cancelled':
      return { status: 'cancelled' };
    default:
      return missingCase(outcome);
  }
}

/** Nothing listens at the peer's data-lane port (a busy peer that is slow to accept is not this). */
function refused(error: unknown): boolean {
  return error instanceof LanspreadError && error.code === 'PEER_UNREACHABLE' && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
