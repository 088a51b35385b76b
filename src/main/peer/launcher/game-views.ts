import type { GameView, OperationView } from '../../../shared/api';
import type { Catalog } from '../../../shared/catalog';
import type { LocalGameState } from '../../../shared/model';
import { compareVersions } from '../../../shared/version';
import type { RemoteGame } from '../peers/peer-game-db';

export interface GameViewInputs {
  catalog: Catalog;
  local: ReadonlyMap<string, LocalGameState>;
  remote: ReadonlyMap<string, RemoteGame>;
  operations: ReadonlyMap<string, OperationView>;
  running: ReadonlySet<string>;
  /** Platform whose launch config decides whether Play is possible. */
  platform: NodeJS.Platform;
}

/**
 * Merges catalog facts, this machine's library and the LAN into what the UI shows. A game
 * appears when anyone has it (locally or on a peer); catalog entries nobody has are left out
 * so the grid shows only what can be played or fetched.
 */
export function buildGameViews(inputs: GameViewInputs): GameView[] {
  const views: GameView[] = [];
  for (const entry of inputs.catalog.games) {
    const local = inputs.local.get(entry.id);
    const remote = inputs.remote.get(entry.id);
    const operation = inputs.operations.get(entry.id) ?? null;
    const present = (local && (local.downloaded || local.installed)) || remote || operation;
    if (!present) continue;
    const localVersion = local?.downloaded ? local.version : null;
    const installedVersion = local?.installed ? (local.installedVersion ?? local.version) : null;
    const latestVersion = newest(localVersion, remote?.latestVersion ?? null);
    const haveVersion = installedVersion ?? localVersion;
    const updateAvailable = Boolean(local?.installed && remote && haveVersion !== null && compareVersions(remote.latestVersion, haveVersion) > 0);
    const launch = entry.launch[inputs.platform as keyof typeof entry.launch];
    views.push({
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
    });
  }
  return views.sort((a, b) => a.title.localeCompare(b.title));
}

function newest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareVersions(a, b) >= 0 ? a : b;
}
