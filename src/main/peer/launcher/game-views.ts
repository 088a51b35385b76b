import type { GameView, OperationView, SharedGameView } from '../../../shared/api';
import type { Catalog, CatalogEntry } from '../../../shared/catalog';
import type { GameDescription } from '../../../shared/game-description';
import type { LocalGameState, PeerId } from '../../../shared/model';
import { compareVersions } from '../../../shared/version';
import { entryOf, type KnownDescription } from '../library/game-descriptions';
import type { RemoteGame } from '../peers/peer-game-db';

export interface GameViewInputs {
  catalog: Catalog;
  local: ReadonlyMap<string, LocalGameState>;
  remote: ReadonlyMap<string, RemoteGame>;
  operations: ReadonlyMap<string, OperationView>;
  running: ReadonlySet<string>;
  /** Platform whose launch config decides whether Play is possible. */
  platform: NodeJS.Platform;
  /** Games described on this machine or adopted from a peer's description. */
  descriptions?: ReadonlyMap<string, KnownDescription>;
  /** A peer's display name, for "shared by". */
  peerName?: (peerId: PeerId) => string;
}

/**
 * Merges catalog facts, this machine's library and the LAN into what the UI shows. A game
 * appears when anyone has it (locally or on a peer); catalog entries nobody has are left out
 * so the grid shows only what can be played or fetched. Games beyond the catalog appear the same
 * way, with their description: this machine's own (or adopted) one, else the one most peers
 * announce; the catalog always wins for its ids, and other descriptions of an id are listed as
 * conflicts, never merged.
 */
export function buildGameViews(inputs: GameViewInputs): GameView[] {
  const views: GameView[] = [];
  const catalogIds = new Set(inputs.catalog.games.map((entry) => entry.id));
  for (const entry of inputs.catalog.games) {
    const view = viewOf(entry, inputs);
    if (view) views.push(view);
  }
  const describedIds = new Set([...(inputs.descriptions?.keys() ?? [])]);
  for (const [id, remote] of inputs.remote) if (remote.descriptions.length > 0) describedIds.add(id);
  for (const id of describedIds) {
    if (catalogIds.has(id)) continue;
    const described = describedGame(id, inputs);
    if (!described) continue;
    const view = viewOf(entryOf(described.description), inputs);
    if (view) views.push({ ...view, shared: described.shared });
  }
  return views.sort((a, b) => a.title.localeCompare(b.title));
}

function describedGame(id: string, inputs: GameViewInputs): { description: GameDescription; shared: SharedGameView } | null {
  const name = inputs.peerName ?? ((peerId: PeerId) => peerId.slice(0, 12));
  const local = inputs.descriptions?.get(id);
  const announced = inputs.remote.get(id)?.descriptions ?? [];
  const shown = local?.description ?? announced[0]?.description;
  if (!shown) return null;
  const key = JSON.stringify(shown);
  const same = announced.find((entry) => JSON.stringify(entry.description) === key);
  const others = announced.filter((entry) => entry !== same);
  return {
    description: shown,
    shared: {
      own: local?.own ?? false,
      sharedBy: (same?.peers ?? []).map(name),
      conflicts: others.map((entry) => ({ title: entry.description.title, sharedBy: entry.peers.map(name) })),
    },
  };
}

function viewOf(entry: CatalogEntry, inputs: GameViewInputs): GameView | null {
  const local = inputs.local.get(entry.id);
  const remote = inputs.remote.get(entry.id);
  const operation = inputs.operations.get(entry.id) ?? null;
  const present = (local && (local.downloaded || local.installed)) || remote || operation;
  if (!present) return null;
  const localVersion = local?.downloaded ? local.version : null;
  const installedVersion = local?.installed ? (local.installedVersion ?? local.version) : null;
  const latestVersion = newest(localVersion, remote?.latestVersion ?? null);
  const haveVersion = installedVersion ?? localVersion;
  const updateAvailable = Boolean(local?.installed && remote && haveVersion !== null && compareVersions(remote.latestVersion, haveVersion) > 0);
  const launch = entry.launch[inputs.platform as keyof typeof entry.launch];
  return {
    id: entry.id,
    title: entry.title,
    description: entry.description,
    genres: entry.genres,
    maxPlayers: entry.maxPlayers,
    releaseYear: entry.releaseYear,
    sizeBytes: remote?.sizeBytes || local?.sizeBytes || entry.sizeHintBytes,
    downloaded: local?.downloaded ?? false,
    installed: local?.installed ?? false,
    availability: local?.availability ?? 'None',
    localVersion,
    installedVersion,
    latestVersion,
    sourcePeers: remote?.sources ?? [],
    manifestConflict: remote?.manifestConflict ?? false,
    updateAvailable,
    operation,
    running: inputs.running.has(entry.id),
    canPlay: Boolean(local?.installed && launch),
  };
}

function newest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareVersions(a, b) >= 0 ? a : b;
}
