import { mkdir } from 'node:fs/promises';
import type { Catalog } from '../../shared/catalog';
import { LanspreadError, toLanspreadError } from '../../shared/errors';
import type { GameManifest, LocalGameState, PeerId } from '../../shared/model';
import { loadOrCreateIdentity } from './identity/identity';
import { bundledCatalogPath, loadCatalog } from './library/catalog';
import { LocalLibrary } from './library/local-library';
import { MdnsDiscovery } from './discovery/mdns-discovery';
import { parsePeerAddress } from './discovery/manual-peers';
import { PeerGameDB } from './peers/peer-game-db';
import { PeerManager } from './peers/peer-manager';
import { PROTOCOL_VERSION, type HelloBody } from './protocol/messages';
import { createRequestHandler } from './server/request-handler';
import { createQuicTransport } from './transport/quic/quic-transport';
import type { ActiveOperation, PeerConfig, PeerRuntime, RuntimeEvents } from './runtime-types';
import { createLogger } from './util/logger';
import { TypedEmitter } from './util/typed-emitter';

export type { PeerConfig, PeerRuntime, RuntimeEvents } from './runtime-types';

/**
 * Boots a peer: identity, library, QUIC server, discovery, liveness. Everything the UI or the
 * CLI can do is a method of the returned handle; everything they can see is one of its events.
 */
export async function startPeer(config: PeerConfig): Promise<PeerRuntime> {
  const logger = config.logger ?? createLogger('info', 'peer');
  await mkdir(config.stateDir, { recursive: true });
  const identity = await loadOrCreateIdentity(config.stateDir, logger.child('identity'));
  const catalog: Catalog = config.catalog ?? (await loadCatalog(bundledCatalogPath()));
  const events = new TypedEmitter<RuntimeEvents>();
  const operations = new Map<string, ActiveOperation>();

  const library = new LocalLibrary({
    stateDir: config.stateDir,
    gameDir: config.gameDir,
    catalog,
    chunkSize: config.chunkSize,
    debounceMs: config.libraryDebounceMs,
    fallbackScanMs: config.fallbackScanMs,
    isBusy: (gameId) => operations.has(gameId),
    logger: logger.child('library'),
  });
  library.on('library-changed', (payload) => events.emit('library-changed', payload));

  const db = new PeerGameDB();
  let controlPort = 0;
  let dataPort: number | undefined;
  const ownHello = (): HelloBody => ({
    protocolVersion: PROTOCOL_VERSION,
    peerId: identity.peerId,
    name: config.displayName,
    port: controlPort,
    ...(dataPort === undefined ? {} : { dataPort }),
  });

  const transport = await createQuicTransport({ identity, logger: logger.child('quic') });
  const peers = new PeerManager({ db, transport: transport.client, ownHello, logger: logger.child('peers'), timings: config.timings });
  const handler = createRequestHandler({
    library,
    ownHello,
    onHello: (hello, context) =>
      void peers.addCandidate({ peerId: hello.peerId, host: context.remoteHost, port: hello.port, source: 'manual', name: hello.name }),
  });
  controlPort = await transport.listen({ host: config.host ?? '0.0.0.0', port: config.port ?? 0, handler });

  peers.on('peer-connected', (payload) => events.emit('peer-connected', payload));
  peers.on('peer-disconnected', ({ peerId }) => events.emit('peer-disconnected', { peerId }));
  peers.on('peer-count', (payload) => events.emit('peer-count', payload));
  peers.on('peer-games-changed', ({ peerId }) => events.emit('remote-games-changed', { peerId }));
  peers.setManualPeers((config.manualPeers ?? []).map(parsePeerAddress));
  peers.start();

  let discovery: MdnsDiscovery | null = null;
  if (config.mdns?.enabled !== false) {
    discovery = new MdnsDiscovery({
      peerId: identity.peerId,
      name: config.displayName,
      protocolVersion: PROTOCOL_VERSION,
      port: controlPort,
      includeLoopback: config.mdns?.includeLoopback ?? false,
      requeryIntervalMs: config.mdns?.requeryIntervalMs,
      logger: logger.child('mdns'),
    });
    discovery.on('peer-discovered', (peer) => void peers.addCandidate(peer));
    discovery.on('peer-goodbye', (peerId) => peers.goodbye(peerId));
    try {
      await discovery.start();
    } catch (error) {
      // No multicast (e.g. a container without a LAN): manual peers still work.
      logger.warn('mDNS unavailable; only manual peers will be found', { error: toLanspreadError(error).message });
      events.emit('runtime-error', { error: toLanspreadError(error).toInfo() });
    }
  }

  await library.start();

  async function fetchManifest(gameId: string): Promise<{ manifest: GameManifest; sources: PeerId[] }> {
    const version = db.latestVersion(gameId);
    if (version === null) throw new LanspreadError('NO_SOURCE', `No peer offers ${gameId}`);
    const sources = db.sourcesFor(gameId, version);
    let lastError: unknown = null;
    for (const source of sources) {
      const target = { host: source.info.host, port: source.info.port, peerId: source.info.peerId };
      try {
        const response = await transport.client.request(target, { type: 'GetGame', gameId });
        if (response.type === 'Error') throw LanspreadError.fromInfo(response);
        if (response.type !== 'Game') throw new LanspreadError('MALFORMED_MESSAGE', `Unexpected ${response.type}`);
        if (response.manifest.gameId !== gameId || response.manifest.version !== version) {
          throw new LanspreadError('VERSION_CHANGED', `${source.info.name} now offers ${response.manifest.version}`);
        }
        db.setManifest(source.info.peerId, response.manifest);
        const result = { manifest: response.manifest, sources: sources.map((s) => s.info.peerId) };
        events.emit('got-game-files', { gameId, ...result });
        return result;
      } catch (error) {
        lastError = error;
        logger.debug('manifest request failed', { gameId, peer: source.info.name, error: toLanspreadError(error).message });
      }
    }
    throw new LanspreadError('NO_SOURCE', `No peer could send the file list of ${gameId}`, { cause: lastError });
  }

  let stopped = false;
  const runtime: PeerRuntime = {
    peerId: identity.peerId,
    displayName: config.displayName,
    port: controlPort,
    on: (event, listener) => events.on(event, listener),
    onAny: (listener) => events.onAny(listener),
    gameDir: () => library.gameDir(),
    catalog: () => catalog,
    localGames: (): LocalGameState[] => library.localGames(),
    remoteGames: () => db.remoteGames(),
    peers: () => db.list(),
    getPeerCount: () => db.size,
    activeOperations: () => [...operations.values()],
    getGame: (gameId) => fetchManifest(gameId),
    fetchLatestFromPeers: (gameId) => fetchManifest(gameId),
    setGameDir: (dir) => library.setGameDir(dir),
    setManualPeers: (addresses) => peers.setManualPeers(addresses.map(parsePeerAddress)),
    rescan: () => library.rescanAll(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await discovery?.stop();
      await peers.stop();
      await library.stop();
      await transport.stop();
      events.removeAllListeners();
    },
  };
  return runtime;
}
