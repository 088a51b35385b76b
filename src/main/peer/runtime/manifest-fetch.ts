import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { GameManifest, PeerId } from '../../../shared/model';
import type { PeerGameDB, PeerRecord } from '../peers/peer-game-db';
import type { PeerTransport } from '../peers/peer-transport';
import { manifestId } from '../protocol/manifest-id';
import type { Logger } from '../util/logger';

export interface FetchedManifest {
  manifest: GameManifest;
  /** Its content address: only peers announcing this id are mixed as sources. */
  manifestId: string;
  /** Peers that announce exactly this manifest (whole or partial): the only download sources. */
  sources: PeerId[];
}

/**
 * Picks the manifest of a game's latest version and asks its sources for it. Peers that
 * announce the same version with different manifest ids serve different bytes: they are
 * separate source sets and never mixed. The set preferred is the one an interrupted download
 * was fetching (its journal), then the one with the most peers holding the whole game, then
 * the largest. A peer that has not announced an id yet (it is still hashing its copy) is asked
 * for its manifest, and joins the set whose id that manifest has. Each answering peer's
 * manifest is cached in the DB.
 */
export async function fetchLatestManifest(db: PeerGameDB, transport: PeerTransport, gameId: string, logger: Logger, preferredManifestId: string | null = null): Promise<FetchedManifest> {
  const version = db.latestVersion(gameId);
  if (version === null) throw new LanspreadError('NO_SOURCE', `No peer offers ${gameId}`);
  const candidates = db.sourcesFor(gameId, version);
  const groups = groupByManifest(candidates, gameId);
  if (groups.size > 1) logger.warn('peers share different manifests of the same version; they are not mixed', { gameId, version, manifests: groups.size });
  const ordered = [...groups.entries()].sort(([idA, a], [idB, b]) => rank(idB, b, gameId, preferredManifestId) - rank(idA, a, gameId, preferredManifestId));
  const unannounced = candidates.filter((record) => announced(record, gameId) === undefined);
  let lastError: unknown = null;
  const matchingUnannounced = async (records: PeerRecord[], id: string): Promise<PeerRecord[]> => {
    const ids = await Promise.all(records.map((record) => getGame(transport, record, gameId, version).then(manifestId, () => null)));
    return records.filter((_, index) => ids[index] === id);
  };
  const tryPeer = async (record: PeerRecord, expectedId: string | null): Promise<FetchedManifest | null> => {
    try {
      const manifest = await getGame(transport, record, gameId, version);
      const id = manifestId(manifest);
      if (expectedId !== null && id !== expectedId) throw new LanspreadError('VERSION_CHANGED', `${record.info.name} sent a manifest other than the one it announced`);
      db.setManifest(record.info.peerId, manifest);
      const sameBytes = candidates.filter((other) => announced(other, gameId) === id || other === record);
      const joining = await matchingUnannounced(unannounced.filter((other) => other !== record), id);
      return { manifest, manifestId: id, sources: [...sameBytes, ...joining].map((other) => other.info.peerId) };
    } catch (error) {
      lastError = error;
      logger.debug('manifest request failed', { gameId, peer: record.info.name, error: toLanspreadError(error).message });
      return null;
    }
  };
  for (const [id, members] of ordered) {
    // Whole copies first: they answer from their library, partial ones from a running download.
    for (const record of [...members].sort((a, b) => Number(isPartial(a, gameId)) - Number(isPartial(b, gameId)))) {
      const fetched = await tryPeer(record, id);
      if (fetched) return fetched;
    }
  }
  for (const record of unannounced) {
    const fetched = await tryPeer(record, null);
    if (fetched) return fetched;
  }
  throw new LanspreadError('NO_SOURCE', `No peer could send the file list of ${gameId}`, { cause: lastError });
}

async function getGame(transport: PeerTransport, record: PeerRecord, gameId: string, version: string): Promise<GameManifest> {
  const target = { host: record.info.host, port: record.info.port, peerId: record.info.peerId };
  const response = await transport.request(target, { type: 'GetGame', gameId });
  if (response.type === 'Error') throw LanspreadError.fromInfo(response);
  if (response.type !== 'Game') throw new LanspreadError('MALFORMED_MESSAGE', `Unexpected ${response.type}`);
  if (response.manifest.gameId !== gameId || response.manifest.version !== version) {
    throw new LanspreadError('VERSION_CHANGED', `${record.info.name} now offers ${response.manifest.version}`);
  }
  return response.manifest;
}

function announced(record: PeerRecord, gameId: string): string | undefined {
  return record.games.find((game) => game.id === gameId)?.manifestId;
}

function isPartial(record: PeerRecord, gameId: string): boolean {
  return record.games.find((game) => game.id === gameId)?.partial === true;
}

function groupByManifest(records: PeerRecord[], gameId: string): Map<string, PeerRecord[]> {
  const groups = new Map<string, PeerRecord[]>();
  for (const record of records) {
    const id = announced(record, gameId);
    if (id === undefined) continue;
    const members = groups.get(id) ?? [];
    members.push(record);
    groups.set(id, members);
  }
  return groups;
}

function rank(id: string, members: PeerRecord[], gameId: string, preferred: string | null): number {
  const whole = members.filter((record) => !isPartial(record, gameId)).length;
  return (id === preferred ? 1e9 : 0) + whole * 1e4 + members.length;
}
