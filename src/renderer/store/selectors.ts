import type { DownloadsView, GameView, OperationKind, OperationView } from '../../shared/api';
import { missingCase } from '../../shared/errors';
import { isActive } from '../../shared/operation';

export type LibraryFilter = 'all' | 'installed' | 'available' | 'updates';
export type LibrarySort = 'title' | 'size' | 'year' | 'peers';

export interface LibraryQuery {
  search: string;
  filter: LibraryFilter;
  sort: LibrarySort;
}

export function matchesFilter(game: GameView, filter: LibraryFilter): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'installed':
      return game.installed;
    case 'available':
      // Something the player can get: on the LAN (or downloaded) and not yet installed.
      return !game.installed && (game.sourcePeers.length > 0 || game.downloaded);
    case 'updates':
      return game.updateAvailable;
  }
}

function matchesSearch(game: GameView, search: string): boolean {
  const needle = search.trim().toLowerCase();
  if (!needle) return true;
  return game.title.toLowerCase().includes(needle) || game.genres.some((g) => g.toLowerCase().includes(needle)) || game.id.toLowerCase().includes(needle);
}

const COMPARATORS: Record<LibrarySort, (a: GameView, b: GameView) => number> = {
  title: (a, b) => a.title.localeCompare(b.title),
  size: (a, b) => b.sizeBytes - a.sizeBytes,
  year: (a, b) => b.releaseYear - a.releaseYear,
  peers: (a, b) => b.sourcePeers.length - a.sourcePeers.length,
};

export function visibleGames(games: Record<string, GameView>, order: string[], query: LibraryQuery): GameView[] {
  const list: GameView[] = [];
  for (const id of order) {
    const game = games[id];
    if (game && matchesFilter(game, query.filter) && matchesSearch(game, query.search)) list.push(game);
  }
  const compare = COMPARATORS[query.sort];
  return list.sort((a, b) => compare(a, b) || a.title.localeCompare(b.title));
}

export type BadgeTone = 'running' | 'busy' | 'update' | 'installed' | 'local' | 'downloaded' | 'available' | 'none';

/** The one state badge a card shows, most important first. */
export function badgeOf(game: GameView): { tone: BadgeTone; label: string } {
  if (game.running) return { tone: 'running', label: 'Running' };
  if (game.operation) return { tone: 'busy', label: operationLabel(game.operation) };
  if (game.updateAvailable) return { tone: 'update', label: 'Update available' };
  if (game.installed && game.availability === 'LocalOnly') return { tone: 'local', label: 'Installed · local only' };
  if (game.installed) return { tone: 'installed', label: 'Installed' };
  if (game.downloaded) return { tone: 'downloaded', label: 'Downloaded' };
  const peers = game.sourcePeers.length;
  if (peers > 0) return { tone: 'available', label: `On ${peers} peer${peers === 1 ? '' : 's'}` };
  return { tone: 'none', label: 'No source' };
}

export const OPERATION_LABELS: Record<OperationKind, string> = {
  download: 'Downloading',
  install: 'Installing',
  update: 'Updating',
  uninstall: 'Uninstalling',
  'remove-downloaded': 'Removing files',
  'stream-install': 'Streaming install',
};

/** What the operation is doing, in a few words: its kind while it works, its state while it waits. */
export function operationLabel(operation: Pick<OperationView, 'kind' | 'state' | 'phase'>): string {
  switch (operation.state) {
    case 'queued':
      return 'Queued';
    case 'paused':
      return 'Paused';
    case 'waiting-for-peers':
      return 'Waiting for a peer';
    case 'running':
    case 'finishing':
      // An install whose archives are still arriving is downloading them first.
      return operation.kind === 'install' && operation.phase === 'transfer' ? OPERATION_LABELS.download : OPERATION_LABELS[operation.kind];
    case 'done':
      return 'Done';
    case 'failed':
      return 'Failed';
    case 'cancelled':
      return 'Cancelled';
    default:
      return missingCase(operation.state);
  }
}

export type PrimaryAction =
  | { kind: 'install' | 'update' | 'play' | 'cancel' | 'stop'; label: string }
  | { kind: 'none'; label: string };

/** Exactly one primary action per state. */
export function primaryActionOf(game: GameView): PrimaryAction {
  const op = game.operation;
  if (op) {
    // Transfers, and what waits in the queue, can be cancelled; unpacking and removing are short and crash-safe, so they run to the end.
    const cancellable = op.state !== 'finishing' && (op.phase === 'transfer' || op.state !== 'running') && op.kind !== 'uninstall' && op.kind !== 'remove-downloaded';
    return cancellable ? { kind: 'cancel', label: 'Cancel' } : { kind: 'none', label: `${operationLabel(op)}…` };
  }
  if (game.running) return { kind: 'stop', label: 'Stop' };
  if (game.installed && game.updateAvailable && game.sourcePeers.length > 0) return { kind: 'update', label: 'Update' };
  if (game.installed) return game.canPlay ? { kind: 'play', label: 'Play' } : { kind: 'none', label: 'Installed' };
  if (game.downloaded || game.sourcePeers.length > 0) return { kind: 'install', label: 'Install' };
  return { kind: 'none', label: 'Unavailable' };
}

/**
 * Disk each install mode needs. A normal install keeps the archives (so this machine can share
 * the game) and unpacks beside them; a streamed install writes only the unpacked game. The
 * unpacked size is not known before unpacking, so the archive size stands in for it.
 */
export function installSpace(game: GameView): { normal: number; streamed: number } {
  const archives = game.downloaded ? 0 : game.sizeBytes;
  return { normal: archives + game.sizeBytes, streamed: game.sizeBytes };
}

/** Who shares a game beyond the catalog, in a few words ("Shared by you", "Shared by alice, bob"). */
export function sharedText(shared: NonNullable<GameView['shared']>): string {
  const names = [...(shared.own ? ['you'] : []), ...shared.sharedBy];
  return names.length > 0 ? `Shared by ${names.join(', ')}` : 'Shared by a peer (none online)';
}

/** The sidebar's count: every download not ended yet (running, queued, paused or waiting for a peer). */
export function downloadsCount(downloads: DownloadsView | null): number {
  return downloads?.queue.length ?? 0;
}

/** The Downloads page: what works now (transferring, unpacking), and what waits for its turn, in queue order. */
export function splitQueue(queue: OperationView[]): { now: OperationView[]; next: OperationView[] } {
  const now: OperationView[] = [];
  const next: OperationView[] = [];
  for (const operation of queue) (isActive(operation.state) ? now : next).push(operation);
  next.sort((a, b) => (a.queuePosition ?? Number.MAX_SAFE_INTEGER) - (b.queuePosition ?? Number.MAX_SAFE_INTEGER));
  return { now, next };
}

/** What a download shows where it stands; a waiting one says what it waits for. */
export function downloadStateText(operation: Pick<OperationView, 'kind' | 'state' | 'phase'>): string {
  switch (operation.state) {
    case 'waiting-for-peers':
      return 'Waiting for a peer that has it';
    case 'queued':
      return 'Queued';
    case 'paused':
      return 'Paused — what was downloaded is kept';
    case 'finishing':
      return operation.phase === 'unpack' ? 'Unpacking' : 'Finishing';
    case 'running':
    case 'done':
    case 'failed':
    case 'cancelled':
      return operationLabel(operation);
    default:
      return missingCase(operation.state);
  }
}

export interface DownloadControls {
  pause: boolean;
  resume: boolean;
  /** Cancel (asks first): discards what was fetched. */
  cancel: boolean;
  /** Reorder (up, down, to the top): only what waits for its turn. */
  move: boolean;
}

/** Which buttons a download has, as the runtime would accept them (a streamed install keeps nothing to pause; an unpack runs to its end). */
export function downloadControls(operation: Pick<OperationView, 'kind' | 'state' | 'phase'>): DownloadControls {
  switch (operation.state) {
    case 'running': {
      const transfer = operation.phase === 'transfer';
      return { pause: transfer && operation.kind !== 'stream-install', resume: false, cancel: transfer, move: false };
    }
    case 'queued':
    case 'waiting-for-peers':
      return { pause: true, resume: false, cancel: true, move: true };
    case 'paused':
      return { pause: false, resume: true, cancel: true, move: true };
    case 'finishing':
    case 'done':
    case 'failed':
    case 'cancelled':
      return { pause: false, resume: false, cancel: false, move: false };
    default:
      return missingCase(operation.state);
  }
}
