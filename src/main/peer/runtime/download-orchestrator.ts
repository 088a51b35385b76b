import { LanspreadError } from '../../../shared/errors';
import type { PeerId } from '../../../shared/model';
import type { DownloadManager, DownloadOutcome } from '../download/download-manager';
import type { SchedulerTuning } from '../download/chunk-scheduler';
import type { ChunkSource } from '../download/types';
import type { OperationRegistry } from '../operations/operation-registry';
import type { PeerGameDB, PeerRecord } from '../peers/peer-game-db';
import type { PeerManager } from '../peers/peer-manager';
import type { PeerTransport } from '../peers/peer-transport';
import type { RuntimeEvents } from '../runtime-types';
import type { DataLaneClient } from '../transport/data-lane/lane-client';
import type { Logger } from '../util/logger';
import type { TypedEmitter } from '../util/typed-emitter';
import { ensureRoomForDownload } from './disk-preflight';
import { fetchLatestManifest } from './manifest-fetch';

export interface DownloadOrchestratorDeps {
  db: PeerGameDB;
  peers: PeerManager;
  transport: PeerTransport;
  lane: DataLaneClient;
  manager: DownloadManager;
  operations: OperationRegistry;
  events: TypedEmitter<RuntimeEvents>;
  stateDir: string;
  gameDir: () => string | null;
  tuning?: Partial<SchedulerTuning>;
  logger: Logger;
}

/**
 * GetGame → manifest from the latest-version peers → DownloadGameFiles over the data lane, with
 * sources joining and leaving as peers come and go. Holds the game's operation slot throughout.
 */
export class DownloadOrchestrator {
  constructor(private readonly deps: DownloadOrchestratorDeps) {}

  /** `install`: an install follows the download, so the preflight counts its space too. */
  async download(gameId: string, options: { install: boolean } = { install: false }): Promise<DownloadOutcome> {
    const { deps } = this;
    const gameDir = deps.gameDir();
    if (gameDir === null) throw new LanspreadError('GAME_DIR_NOT_SET', 'Choose a game folder first');
    const slot = deps.operations.begin(gameId, 'download');
    const offPeers: (() => void)[] = [];
    try {
      const { manifest, sources } = await fetchLatestManifest(deps.db, deps.transport, gameId, deps.logger);
      deps.events.emit('got-game-files', { gameId, manifest, sources });
      await ensureRoomForDownload(manifest, gameDir, options);
      const chunkSources = sources.map((peerId) => deps.db.get(peerId)).filter((record): record is PeerRecord => record !== undefined).map((record) => this.sourceOf(record)).filter((source): source is ChunkSource => source !== null);
      // Peers that show up with the same version join the swarm; pruned ones leave it.
      offPeers.push(
        deps.peers.on('peer-games-changed', ({ peerId }) => {
          const record = deps.db.get(peerId);
          if (record?.games.some((g) => g.id === gameId && g.version === manifest.version)) {
            const source = this.sourceOf(record);
            if (source) deps.manager.addSource(gameId, source);
          }
        }),
        deps.peers.on('peer-disconnected', ({ peerId }) => void deps.manager.removeSource(gameId, peerId)),
      );
      return await deps.manager.download({
        gameId,
        gameDir,
        stateDir: deps.stateDir,
        manifest,
        sources: chunkSources,
        onEvent: (event) => deps.events.emit(event.type, event.payload as never),
        ...(deps.tuning ? { tuning: deps.tuning } : {}),
      });
    } finally {
      for (const off of offPeers) off();
      slot.release();
    }
  }

  cancel(gameId: string): boolean {
    return this.deps.manager.cancel(gameId);
  }

  /** A chunk source over the TLS data lane of a peer, or null when it announced no lane. */
  private sourceOf(record: PeerRecord): ChunkSource | null {
    const { dataPort, host, peerId, name } = record.info;
    if (dataPort === undefined) return null;
    const target: { host: string; dataPort: number; peerId: PeerId } = { host, dataPort, peerId };
    return { peerId, name, fetchChunk: (request, sink, signal) => this.deps.lane.fetchChunk(target, request, sink, { signal }) };
  }
}
