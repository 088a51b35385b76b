import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { GameManifest, PeerId } from '../../../shared/model';
import type { PeerGameDB } from '../peers/peer-game-db';
import type { PeerTransport } from '../peers/peer-transport';
import type { Logger } from '../util/logger';

export interface FetchedManifest {
  manifest: GameManifest;
  /** Peers that advertise exactly this version: the only download sources. */
  sources: PeerId[];
}

/**
 * Asks the sources of a game's latest version for its manifest, one after another until one
 * answers with that exact version. Each answering peer's manifest is cached in the DB.
 */
export async function fetchLatestManifest(db: PeerGameDB, transport: PeerTransport, gameId: string, logger: Logger): Promise<FetchedManifest> {
  const version = db.latestVersion(gameId);
  if (version === null) throw new LanspreadError('NO_SOURCE', `No peer offers ${gameId}`);
  const sources = db.sourcesFor(gameId, version);
  let lastError: unknown = null;
  for (const source of sources) {
    const target = { host: source.info.host, port: source.info.port, peerId: source.info.peerId };
    try {
      const response = await transport.request(target, { type: 'GetGame', gameId });
      if (response.type === 'Error') throw LanspreadError.fromInfo(response);
      if (response.type !== 'Game') throw new LanspreadError('MALFORMED_MESSAGE', `Unexpected ${response.type}`);
      if (response.manifest.gameId !== gameId || response.manifest.version !== version) {
        throw new LanspreadError('VERSION_CHANGED', `${source.info.name} now offers ${response.manifest.version}`);
      }
      db.setManifest(source.info.peerId, response.manifest);
      return { manifest: response.manifest, sources: sources.map((s) => s.info.peerId) };
    } catch (error) {
      lastError = error;
      logger.debug('manifest request failed', { gameId, peer: source.info.name, error: toLanspreadError(error).message });
    }
  }
  throw new LanspreadError('NO_SOURCE', `No peer could send the file list of ${gameId}`, { cause: lastError });
}
