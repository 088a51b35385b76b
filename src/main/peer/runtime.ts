import { randomInt } from 'node:crypto';
import type { Catalog } from '../../shared/catalog';
import { LanspreadError, missingCase, toLanspreadError } from '../../shared/errors';
import { compareVersions } from '../../shared/version';
import type { LocalGameState } from '../../shared/model';
import { BandwidthLimits } from './bandwidth/bandwidth-limits';
import { UplinkGuard } from './bandwidth/uplink-guard';
import { throttle } from './bandwidth/throttle';
import { ManualPeers } from './discovery/manual-peers';
import { MdnsDiscovery } from './discovery/mdns-discovery';
import { ownAddresses } from './discovery/own-addresses';
import { preparePrivateStateDir } from './fs/private-files';
import { loadOrCreateIdentity } from './identity/identity';
import { InstallService } from './install/install-service';
import { bundledCatalogPath, loadCatalog } from './library/catalog';
import { ChunkHasher } from './library/chunk-hasher';
import { GameDescriptions } from './library/game-descriptions';
import { LocalLibrary } from './library/local-library';
import { shareGame, unshareGame } from './library/share-game';
import { OperationRegistry } from './operations/operation-registry';
import { PeerGameDB } from './peers/peer-game-db';
import { PeerManager } from './peers/peer-manager';
import { PROTOCOL_VERSION, type HelloBody } from './protocol/messages';
import { CancellableRuns } from './runtime/cancellable-runs';
import { createInstallEventAdapter } from './runtime/install-event-adapter';
import { fetchLatestManifest } from './runtime/manifest-fetch';
import type { PeerConfig, PeerRuntime, RuntimeEvents } from './runtime-types';
import { createRequestHandler, servedSummaries } from './server/request-handler';
import { ServedFileReader } from './server/served-file-reader';
import { DownloadManager } from './download/download-manager';
import { DownloadOrchestrator } from './runtime/download-orchestrator';
import { DownloadResumer } from './runtime/download-resumer';
import { DownloadQueue, type QueuedKind, type TransferControl, type TransferOutcome } from './runtime/download-queue';
import { discardJournaledDownload } from './download/discard-journaled';
import { hasJournal } from './download/resume-journal';
import { logOperationFailure } from './runtime/failure-log';
import { StreamInstallOrchestrator } from './runtime/stream-install-orchestrator';
import { createStreamInstallHandler } from './stream/stream-sender';
import { UnrarStreamProvider } from './stream/unrar-stream-provider';
import { DataLaneClient } from './transport/data-lane/lane-client';
import { DataLaneServer } from './transport/data-lane/lane-server';
import { createQuicTransport } from './transport/quic/quic-transport';
import { WorkerUnpacker } from './unpack/worker-unpacker';
import { createHavePublisher } from './swarm/have-publisher';
import { PartialShares } from './swarm/partial-shares';
import { ServedRevision } from './swarm/served-revision';
import { TransferLedger } from './swarm/transfer-ledger';
import { createLogger } from './util/logger';
import { addressInUse, portInUse } from './util/port-in-use';
import { TypedEmitter } from './util/typed-emitter';

export type { PeerConfig, PeerRuntime, RuntimeEvents } from './runtime-types';

/** How long a download waits with every source gone before it fails (and resumes on its own later). */
const NO_SOURCE_GRACE_MS = 120_000;
/** Changes to what we serve within this window go out as one announcement. */
const ANNOUNCE_DEBOUNCE_MS = 50;
/** After start-up, when the hash worker is started if nothing needed it yet (a short-lived runtime never pays for one). */
const HASHER_WARM_UP_MS = 3_000;

/**
 * The control port the launcher (Electron, `serve`) asks for, so an address typed in on another
 * machine stays right across restarts; when it is taken they fall back to a free one and say so.
 */
export const DEFAULT_CONTROL_PORT = 7400;

/**
 * Boots a peer: identity, pre-start migration and recovery, library, QUIC control server, TLS
 * data lane, discovery, liveness. Everything the UI or the CLI can do is a method of the
 * returned handle; everything they can see is one of its events.
 */
export async function startPeer(config: PeerConfig): Promise<PeerRuntime> {
  // A start that fails half-way (a port taken) stops what it had started: no socket, worker or
  // watcher of a peer that never ran may keep the process alive.
  const undo: Array<() => unknown> = [];
  try {
    return await buildPeer(config, undo);
  } catch (error) {
    for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => undefined);
    throw portInUse(error);
  }
}

async function buildPeer(config: PeerConfig, undo: Array<() => unknown>): Promise<PeerRuntime> {
  const logger = config.logger ?? createLogger('info', 'peer');
  await preparePrivateStateDir(config.stateDir);
  const identity = await loadOrCreateIdentity(config.stateDir, logger.child('identity'));
  const catalog: Catalog = config.catalog ?? (await loadCatalog(bundledCatalogPath()));
  const catalogIds: ReadonlySet<string> = new Set(catalog.games.map((game) => game.id));
  // Games beyond the catalog (described here, or adopted from a peer): known before the library's first scan.
  const descriptions = await GameDescriptions.open(config.stateDir, catalogIds, logger.child('descriptions'));
  const events = new TypedEmitter<RuntimeEvents>();
  const operations = new OperationRegistry();
  const unpacker = config.unpacker ?? new WorkerUnpacker();
  const limits = new BandwidthLimits({ downloadBytesPerSec: config.downloadLimitBytesPerSec ?? 0, uploadBytesPerSec: config.uploadLimitBytesPerSec ?? 0 });
  const reportInstallEvent = createInstallEventAdapter(events, operations);
  operations.on('operation-changed', (payload) => events.emit('operation-changed', payload));
  // Archive installs (after a download, or asked for): stop() aborts them, and each rolls back its staging.
  const archiveInstalls = new CancellableRuns();

  let installService: InstallService | null = null;
  const installs = (): InstallService => {
    const gameDir = library.gameDir();
    if (gameDir === null) throw new LanspreadError('GAME_DIR_NOT_SET', 'Choose a game folder first');
    if (!installService || installService.gameDirectory !== gameDir) {
      installService = new InstallService({ gameDir, stateDir: config.stateDir, unpacker, operations, catalog, isDescribed: (id) => descriptions.has(id), passwords: config.archivePassword });
    }
    return installService;
  };

  const hasher = new ChunkHasher();
  undo.push(() => hasher.stop());
  const library = new LocalLibrary({
    hasher,
    stateDir: config.stateDir,
    gameDir: config.gameDir,
    catalog,
    descriptions,
    chunkSize: config.chunkSize,
    debounceMs: config.libraryDebounceMs,
    fallbackScanMs: config.fallbackScanMs,
    isBusy: (gameId) => operations.isBusy(gameId),
    // Installing, updating or uninstalling only reads the archives (or not at all): the game stays shared meanwhile.
    isServable: (gameId) => {
      const kind = operations.get(gameId)?.kind;
      return kind === undefined || kind === 'install' || kind === 'update' || kind === 'uninstall';
    },
    installedVersion: (gameId) => installs().installedVersion(gameId),
    logger: logger.child('library'),
  });
  // What we serve changed (a game downloaded, a download started or ended): the room hears it
  // now, not at its next ping. Nothing is announced before the peer manager exists.
  // mDNS peers read the revisions in our TXT record; the peer manager tells the others.
  let announceTo: PeerManager | null = null;
  let discovery: MdnsDiscovery | null = null;
  let announceTimer: NodeJS.Timeout | undefined;
  // A new display name is a new catalog revision too: peers re-list us at once, and greet us again then.
  let displayName = config.displayName;
  const announceSoon = () => {
    announceTimer ??= setTimeout(() => {
      announceTimer = undefined;
      const now = advertised();
      discovery?.setAdvertisement(now);
      announceTo?.announce(now.libraryRevision);
    }, ANNOUNCE_DEBOUNCE_MS);
  };
  const partials = new PartialShares(announceSoon);
  const served = new ServedRevision(() => servedSummaries({ library, partials }), randomInt(2 ** 40));
  const revision = () => served.current().revision;
  const advertised = () => {
    const { revision: libraryRevision, catalogRevision, swarming } = served.current();
    return { libraryRevision, catalogRevision, swarming };
  };
  library.on('library-changed', (payload) => {
    events.emit('library-changed', payload);
    announceSoon();
  });

  // Migration and recovery run before the library is first scanned or served.
  if (config.gameDir !== null) await prepareGameDir(installs(), logger);

  let busyBefore = new Set<string>();
  operations.on('changed', ({ active }) => {
    const busyNow = new Set(active.map((operation) => operation.gameId));
    for (const gameId of busyNow) if (!busyBefore.has(gameId)) library.notifyBusy(gameId);
    for (const gameId of busyBefore) {
      if (busyNow.has(gameId)) continue;
      library.notifyIdle(gameId);
      void library.rescanGame(gameId).catch(() => undefined);
    }
    busyBefore = busyNow;
    events.emit('operations-changed', { active });
  });

  const ledger = new TransferLedger();
  // While this peer's uploads slow its own download (its ACKs queued behind them), they are kept under its uplink.
  const uplinkGuard = new UplinkGuard({ sent: () => ledger.uploadedTotal, received: () => ledger.downloadedTotal, cap: (rate) => limits.guardUpload(rate), downloadCapped: () => limits.download.bytesPerSec > 0 });
  uplinkGuard.start();
  undo.push(() => uplinkGuard.stop());

  const db = new PeerGameDB();
  // Known once the sockets are bound; Hello reads them lazily.
  const ports: { control: number; data?: number } = { control: 0 };
  const ownHello = (): HelloBody => ({
    protocolVersion: PROTOCOL_VERSION,
    peerId: identity.peerId,
    name: displayName,
    port: ports.control,
    ...(ports.data === undefined ? {} : { dataPort: ports.data }),
    libraryRevision: revision(),
  });

  const transport = await createQuicTransport({ identity, logger: logger.child('quic') });
  undo.push(() => transport.stop());
  const peers = new PeerManager({
    db,
    transport: transport.client,
    ownHello,
    logger: logger.child('peers'),
    timings: config.timings,
    downloading: () => partials.downloading,
  });
  announceTo = peers;
  // Closed after the lane stopped (undo runs backwards), which ends every read of it.
  const servedFiles = new ServedFileReader();
  undo.push(() => servedFiles.close());
  const handler = createRequestHandler({
    library,
    files: servedFiles,
    ownHello,
    onHello: (hello, context) =>
      void peers.addCandidate({ peerId: hello.peerId, host: context.remoteHost, port: hello.port, source: 'manual', name: hello.name, ...(hello.dataPort === undefined ? {} : { dataPort: hello.dataPort }) }),
    onAnnounce: (peerId, announced) => peers.announced(peerId, announced),
    partials,
    revision,
    // Upload accounting: every chunk byte served passes here, after the upload cap.
    throttleUpload: (payload, upload) => throttle(payload, limits.upload, (bytes) => ledger.uploaded(bytes, upload.gameId, upload.to)),
  });
  const streamHandler = createStreamInstallHandler({
    library,
    provider: config.streamProvider ?? new UnrarStreamProvider(),
    passwords: config.archivePassword,
    beforeSend: async (bytes, signal) => {
      await limits.upload.take(bytes, signal);
      ledger.uploaded(bytes);
    },
  });
  const haveHandler = createHavePublisher({ partials, servesWhole: (gameId, id) => library.servesWhole(gameId, id) });
  const lane = new DataLaneServer({
    identity,
    host: config.host ?? '0.0.0.0',
    port: config.dataPort ?? 0,
    handler,
    streamHandler,
    haveHandler,
    servedBytes: (gameId) => library.servedSize(gameId),
    logger: logger.child('lane'),
    ...config.laneTuning,
  });
  ports.data = (await lane.start()).port;
  undo.push(() => lane.stop());
  let portTaken: number | null = null;
  ports.control = await transport.listen({ host: config.host ?? '0.0.0.0', port: config.port ?? 0, handler }).catch(async (error: unknown) => {
    if (!config.portFallback || !config.port || !addressInUse(error)) throw error;
    portTaken = config.port;
    logger.warn(`control port ${config.port} is taken (another Lanspread or another program); using a free port instead`);
    return transport.listen({ host: config.host ?? '0.0.0.0', port: 0, handler });
  });
  // A seed in a crowd accepts slowly: connecting gets time, and a failed connect only rests that source (chunk-scheduler.ts).
  const laneClient = new DataLaneClient({ identity, connectTimeoutMs: 10_000, requestTimeoutMs: 15_000, downloadLimiter: limits.download, logger: logger.child('lane') });

  const downloadManager = new DownloadManager({ hasher });
  const downloads = new DownloadOrchestrator({
    db,
    peers,
    transport: transport.client,
    lane: laneClient,
    manager: downloadManager,
    operations,
    events,
    identity,
    partials,
    ledger,
    servedWhole: (gameId, manifest) => {
      served.downloaded(gameId, manifest.version);
      return library.adoptDownloaded(gameId, manifest);
    },
    // Built from the library index: hashed already when the game was announced, not read again.
    onDisk: (gameId) => library.manifest(gameId).catch(() => null),
    stateDir: config.stateDir,
    gameDir: () => library.gameDir(),
    // Peers that all left (pruned after a few seconds without answering) are waited for, not given up on at once:
    // a seed rebooting, or one too busy to answer pings in a crowd, comes back.
    tuning: { noSourceGraceMs: NO_SOURCE_GRACE_MS, ...config.downloadTuning },
    logger: logger.child('download'),
  });

  const streams = new StreamInstallOrchestrator({
    db,
    identity,
    installs,
    downloadLimiter: limits.download,
    onInstallEvent: reportInstallEvent,
    onSender: (event) => events.emit('stream-install-sender', event),
    logger: logger.child('stream-install'),
    ...(config.streamTuning ? { tuning: config.streamTuning } : {}),
  });

  peers.on('peer-connected', (payload) => events.emit('peer-connected', payload));
  peers.on('peer-disconnected', ({ peerId }) => {
    lane.peerLeft(peerId);
    events.emit('peer-disconnected', { peerId });
  });
  peers.on('peer-count', (payload) => events.emit('peer-count', payload));
  peers.on('peer-games-changed', ({ peerId }) => events.emit('remote-games-changed', { peerId }));
  // The session's peers (validated here, at start) are kept whatever the saved list becomes.
  const sessionPeers = new ManualPeers(config.sessionPeers ?? []).toStrings();
  const applyManualPeers = (saved: readonly string[]) => peers.setManualPeers(new ManualPeers([...saved, ...sessionPeers]).list());
  applyManualPeers(config.manualPeers ?? []);
  peers.start();
  undo.push(() => peers.stop());

  if (config.mdns?.enabled !== false) {
    discovery = new MdnsDiscovery({
      peerId: identity.peerId,
      name: displayName,
      protocolVersion: PROTOCOL_VERSION,
      port: ports.control,
      dataPort: ports.data,
      ...advertised(),
      includeLoopback: config.mdns?.includeLoopback ?? false,
      ...(config.mdns?.requeryIntervalMs === undefined ? {} : { requeryIntervalMs: config.mdns.requeryIntervalMs }),
      logger: logger.child('mdns'),
    });
    discovery.on('peer-heard', ({ peer, ...beat }) => peers.heard(peer, beat));
    discovery.on('peer-goodbye', (peerId) => peers.goodbye(peerId));
    try {
      await discovery.start();
      undo.push(() => discovery?.stop());
    } catch (error) {
      // No multicast (e.g. a container without a LAN): manual peers still work.
      logger.warn('mDNS unavailable; only manual peers will be found', { error: toLanspreadError(error).message });
      events.emit('runtime-error', { error: toLanspreadError(error).toInfo() });
    }
  }

  undo.push(() => library.stop());
  await library.start();
  // The hash worker checks what every download wrote. It starts in an idle moment after
  // start-up, not on the click: in a room of eight starting one game at once, each player spent
  // its first second starting one (from source a worker loads tsx, ~0.2 s of CPU) on two cores.
  const hasherWarmUp = setTimeout(() => hasher.warmUp(), HASHER_WARM_UP_MS);
  hasherWarmUp.unref();
  undo.push(() => clearTimeout(hasherWarmUp));

  let stopped = false;
  const queue = new DownloadQueue({
    stateDir: config.stateDir,
    operations,
    hasSource: (gameId) => db.latestVersion(gameId) !== null,
    needsTransfer: (gameId, kind) => needsTransfer(library.localGames().find((game) => game.id === gameId), db.latestVersion(gameId), kind),
    transfer: (gameId, kind, control) => transferQueued(gameId, kind, control),
    unpack: (gameId) => runtime.installDownloaded(gameId),
    discard: async (gameId) => {
      const gameDir = library.gameDir();
      if (gameDir !== null) await discardJournaledDownload(config.stateDir, gameDir, gameId);
    },
    ...(config.maxConcurrentDownloads === undefined ? {} : { concurrency: config.maxConcurrentDownloads }),
    ...(config.queueRetryAfterMs === undefined ? {} : { retryAfterMs: config.queueRetryAfterMs }),
    logger: logger.child('queue'),
  });
  /** One turn of a queued game: a streamed install (a fresh one, or the update of a game installed that way) or a download. */
  const transferQueued = async (gameId: string, kind: QueuedKind, control: TransferControl): Promise<TransferOutcome> => {
    // A game beyond the catalog is installed under the description of the peers that serve it.
    await adoptDescription(gameId);
    const local = library.localGames().find((game) => game.id === gameId);
    if (kind === 'stream-install' || (kind === 'update' && local?.installed && !local.downloaded)) {
      const onCancel = () => streams.cancel(gameId);
      control.cancel.addEventListener('abort', onCancel, { once: true });
      try {
        await streams.install(gameId);
        return { status: 'finished', installed: true };
      } catch (error) {
        const coded = toLanspreadError(error);
        if (coded.code === 'REQUEST_CANCELLED') return { status: 'cancelled' };
        return { status: 'failed', error: coded.toInfo(), resumes: false };
      } finally {
        control.cancel.removeEventListener('abort', onCancel);
      }
    }
    const outcome = await downloads.download(gameId, { install: kind !== 'download', signal: control.cancel, pause: control.pause });
    switch (outcome.status) {
      case 'finished':
        return { status: 'finished', installed: false };
      case 'cancelled':
        return { status: 'cancelled' };
      case 'failed':
        return { status: 'failed', error: outcome.error, resumes: await hasJournal(config.stateDir, gameId) };
      default:
        return missingCase(outcome);
    }
  };
  const resumer = new DownloadResumer({
    stateDir: config.stateDir,
    gameDir: () => library.gameDir(),
    hasSource: (gameId) => db.latestVersion(gameId) !== null,
    // A game in the queue is the queue's to resume.
    isBusy: (gameId) => operations.isBusy(gameId) || queue.has(gameId),
    download: (gameId) => runtime.download(gameId),
    logger: logger.child('resume'),
  });

  /** A game beyond the catalog keeps the description of the peers serving its newest version. */
  const adoptDescription = (gameId: string): Promise<void> => {
    const version = db.latestVersion(gameId);
    const sources = version === null ? [] : db.sourcesFor(gameId, version);
    return descriptions.adoptFromSources(gameId, sources.map((record) => record.games.find((game) => game.id === gameId)?.description));
  };

  const shareDeps = {
    descriptions,
    catalogIds,
    gameDir: () => library.gameDir(),
    isBusy: (gameId: string) => operations.isBusy(gameId),
    described: (gameId: string) => library.descriptionChanged(gameId),
  };

  const runtime: PeerRuntime = {
    peerId: identity.peerId,
    get displayName() {
      return displayName;
    },
    setDisplayName(name) {
      if (name === displayName) return;
      displayName = name;
      served.renamed();
      const now = advertised();
      discovery?.setAdvertisement({ name, ...now });
      announceTo?.announce(now.libraryRevision);
    },
    port: ports.control,
    portTaken,
    on: (event, listener) => events.on(event, listener),
    onAny: (listener) => events.onAny(listener),
    gameDir: () => library.gameDir(),
    catalog: () => catalog,
    gameCatalog: () => descriptions.withCatalog(catalog),
    descriptions: () => descriptions.all(),
    isKnownGame: (gameId) => catalogIds.has(gameId) || descriptions.has(gameId) || (db.remoteGames().get(gameId)?.descriptions.length ?? 0) > 0,
    shareGame: (request) => shareGame(request, shareDeps),
    unshareGame: (gameId) => unshareGame(gameId, shareDeps),
    localGames: (): LocalGameState[] => library.localGames(),
    remoteGames: () => db.remoteGames(),
    peers: () => db.list(),
    getPeerCount: () => db.size,
    activeOperations: () => operations.active(),
    operations: () => operations.operations(),
    finishedOperations: () => operations.finished(),
    clearFinishedOperations: () => operations.clearFinished(),
    queue,
    reportError: (error) => events.emit('runtime-error', { error }),
    async getGame(gameId) {
      const result = await fetchLatestManifest(db, transport.client, gameId, logger);
      events.emit('got-game-files', { gameId, ...result });
      return result;
    },
    async fetchLatestFromPeers(gameId) {
      const result = await fetchLatestManifest(db, transport.client, gameId, logger);
      events.emit('got-game-files', { gameId, ...result });
      return result;
    },
    async setGameDir(dir) {
      if (dir !== null) await prepareGameDir(new InstallService({ gameDir: dir, stateDir: config.stateDir, unpacker, operations, catalog }), logger);
      await library.setGameDir(dir);
      resumer.poke();
    },
    setManualPeers: (addresses) => applyManualPeers(addresses),
    manualPeerStates: () => peers.manualPeerStates(),
    ownAddresses: () => ownAddresses(config.host ?? '0.0.0.0', ports.control),
    rescan: () => library.rescanAll(),
    async download(gameId, options = {}) {
      await adoptDescription(gameId);
      const outcome = await downloads.download(gameId, { install: options.install !== false });
      if (outcome.status === 'failed') throw LanspreadError.fromInfo(outcome.error);
      if (outcome.status === 'cancelled') throw new LanspreadError('REQUEST_CANCELLED', `Download of ${gameId} was cancelled`);
      // Upstream: a committed download is installed (or updated) right away.
      if (options.install !== false) await runtime.installDownloaded(gameId);
      return {
        version: outcome.version,
        sources: outcome.sources.map((s) => ({
          peerId: s.peerId,
          name: s.name,
          partial: s.partial,
          bytes: s.bytes,
          badChunks: s.badChunks,
          droppedFor: s.dropped?.toInfo() ?? null,
          lastError: s.lastError?.toInfo() ?? null,
        })),
      };
    },
    async streamInstall(gameId) {
      await adoptDescription(gameId);
      return streams.install(gameId);
    },
    cancelDownload: (gameId) => streams.cancel(gameId) || downloads.cancel(gameId),
    async installDownloaded(gameId) {
      const service = installs();
      const installed = library.localGames().find((game) => game.id === gameId)?.installed ?? false;
      await archiveInstalls
        .run(gameId, async (signal) => {
          const call = { signal, onEvent: reportInstallEvent };
          await (installed ? service.update(gameId, call) : service.install(gameId, call));
        })
        .catch((error: unknown) => {
          logOperationFailure(logger.child('install'), 'install', gameId, toLanspreadError(error).toInfo());
          throw error;
        });
    },
    async uninstall(gameId) {
      await installs().uninstall(gameId, { onEvent: reportInstallEvent });
    },
    async removeDownloaded(gameId) {
      await installs().removeDownloaded(gameId);
    },
    setBandwidthLimits: (next) => limits.apply(next),
    uploadedBytes: () => ledger.uploadedTotal,
    transfersWith: (peerId) => ledger.withPeer(peerId),
    async stop() {
      if (stopped) return;
      stopped = true;
      resumer.stop();
      // Before the downloads are interrupted: what was running stays saved as queued.
      await queue.stop();
      clearTimeout(announceTimer);
      await downloadManager.stop();
      partials.endAll();
      await streams.stop();
      await archiveInstalls.stop();
      await peers.stop();
      // The control server goes before the mDNS goodbye: peers check a goodbye with a Ping,
      // and a peer that is leaving must not answer it.
      await transport.stop();
      await discovery?.stop();
      await library.stop();
      clearTimeout(hasherWarmUp);
      await hasher.stop();
      laneClient.stop();
      uplinkGuard.stop();
      await lane.stop();
      events.removeAllListeners();
    },
  };
  events.on('remote-games-changed', () => queue.poke());
  undo.push(() => queue.stop());
  await queue.start();
  if (config.resumeDownloads !== false) {
    // Downloads started outside the queue (runtime.download) are resumed by the resumer; the queue retries its own.
    events.on('game-download-failed', ({ gameId }) => queue.has(gameId) || resumer.downloadFailed(gameId));
    events.on('game-download-finished', ({ gameId }) => resumer.downloadSettled(gameId));
    events.on('game-download-cancelled', ({ gameId }) => resumer.downloadSettled(gameId));
    events.on('remote-games-changed', () => resumer.poke());
    undo.push(() => resumer.stop());
    await resumer.start();
  }
  return runtime;
}

/** Whether a queued game still needs bytes from the network, or only its unpack (its archives are here, and nothing newer is shared). */
function needsTransfer(local: LocalGameState | undefined, latestOnLan: string | null, kind: QueuedKind): boolean {
  const current = local?.downloaded === true && local.version !== null && (latestOnLan === null || compareVersions(latestOnLan, local.version) <= 0);
  switch (kind) {
    case 'stream-install':
      return true;
    case 'install':
      return local?.downloaded !== true;
    case 'download':
    case 'update':
      return !current;
    default:
      return missingCase(kind);
  }
}

async function prepareGameDir(service: InstallService, logger: PeerConfig['logger'] & object): Promise<void> {
  try {
    const { migrated, recovered } = await service.prepareOnStartup();
    if (migrated.length > 0) logger.info('moved legacy launcher files to the state directory', { count: migrated.length });
    if (recovered.length > 0) logger.info('recovered interrupted operations', { actions: recovered.length });
  } catch (error) {
    logger.error('startup recovery failed', { error: toLanspreadError(error).message });
  }
}
