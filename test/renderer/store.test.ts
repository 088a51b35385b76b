import { describe, expect, it } from 'vitest';
import type { GameView, OperationView, PeerView } from '../../src/shared/api';
import { applyDownloadsSnapshot, applyEvent, clearFinished, applyGamesSnapshot, initialLauncherState, type AnyEvent, type LauncherState } from '../../src/renderer/store/state';
import { badgeOf, installSpace, primaryActionOf, visibleGames } from '../../src/renderer/store/selectors';
import { toErrorInfo } from '../../src/renderer/error-text';
import { createActions, createAppStore } from '../../src/renderer/store/store';
import type { ConnectedApi } from '../../src/renderer/api/connection';

function game(id: string, extra: Partial<GameView> = {}): GameView {
  return {
    id,
    title: id.toUpperCase(),
    description: '',
    genres: ['FPS'],
    maxPlayers: 8,
    releaseYear: 2000,
    sizeBytes: 1000,
    downloaded: false,
    installed: false,
    availability: 'None',
    localVersion: null,
    installedVersion: null,
    latestVersion: '1.0',
    sourcePeers: ['peer-a'],
    manifestConflict: false,
    updateAvailable: false,
    operation: null,
    running: false,
    canPlay: false,
    ...extra,
  };
}

const peer = (peerId: string): PeerView => ({ peerId, name: peerId, host: '10.0.0.1', port: 1, source: 'mdns', gameCount: 1, rttMs: null, uploadedBytes: 0, downloadedBytes: 0 });

function fold(state: LauncherState, events: AnyEvent[]): LauncherState {
  return events.reduce(applyEvent, state);
}

const loaded = () => applyGamesSnapshot(initialLauncherState, [game('quake'), game('doom')]);

/** The runtime's operation as the backend projects it. */
function op(gameId: string, seq: number, extra: Partial<OperationView> = {}): OperationView {
  return {
    gameId,
    kind: 'download',
    state: 'running',
    phase: 'transfer',
    error: null,
    createdAt: 1,
    endedAt: null,
    startedAt: 1,
    transferredBytes: 0,
    seq,
    bytesDone: 0,
    totalBytes: 1000,
    bytesPerSecond: 100,
    etaSeconds: 5,
    activePeers: 2,
    queuePosition: null,
    ...extra,
  };
}
const changed = (operation: OperationView): AnyEvent => ({ event: 'operation-changed', payload: { operation } });

describe('applyEvent: streamed installs', () => {
  it('shows a streamed install as its own operation and ends it on done', () => {
    const state = fold(loaded(), [changed(op('quake', 1, { kind: 'stream-install' })), changed(op('quake', 2, { kind: 'stream-install', bytesDone: 300, activePeers: 1 }))]);
    expect(state.games.quake?.operation).toMatchObject({ kind: 'stream-install', bytesDone: 300, activePeers: 1 });
    expect(badgeOf(state.games.quake!).label).toBe('Streaming install');
    expect(primaryActionOf(state.games.quake!).kind).toBe('cancel');
    const done = applyEvent(state, changed(op('quake', 3, { kind: 'stream-install', state: 'done', endedAt: 2 })));
    expect(done.games.quake?.operation).toBeNull();
    expect(done.toasts).toEqual([expect.objectContaining({ gameId: 'quake', done: { kind: 'stream-install' } })]);
  });

  it('ends a cancelled streamed install without an error toast, but toasts a real failure', () => {
    const begun = applyEvent(loaded(), changed(op('quake', 1, { kind: 'stream-install' })));
    const cancelled = applyEvent(begun, changed(op('quake', 2, { kind: 'stream-install', state: 'cancelled' })));
    expect(cancelled.games.quake?.operation).toBeNull();
    expect(cancelled.toasts).toEqual([]);
    const failed = applyEvent(begun, changed(op('quake', 2, { kind: 'stream-install', state: 'failed', error: { code: 'STREAM_CRC_MISMATCH', message: 'bad' } })));
    expect(failed.toasts.map((t) => t.error.code)).toEqual(['STREAM_CRC_MISMATCH']);
  });
});

describe('applyEvent: downloads', () => {
  it('shows the swarm figures of a download: full and partial sources, bytes shared', () => {
    const state = fold(loaded(), [changed(op('quake', 1)), changed(op('quake', 2, { bytesDone: 300, fullSources: 1, partialSources: 4, uploadedBytes: 150 }))]);
    expect(state.games.quake?.operation).toMatchObject({ bytesDone: 300, fullSources: 1, partialSources: 4, uploadedBytes: 150 });
  });

  it('runs queued -> running -> done, and the snapshot after it says downloaded', () => {
    const queued = applyEvent(loaded(), changed(op('quake', 1, { state: 'queued', queuePosition: 0 })));
    expect(badgeOf(queued.games.quake!).label).toBe('Queued');
    expect(primaryActionOf(queued.games.quake!).kind).toBe('cancel');
    const state = applyEvent(queued, changed(op('quake', 2, { bytesDone: 400 })));
    expect(state.games.quake?.operation).toMatchObject({ kind: 'download', state: 'running', bytesDone: 400, totalBytes: 1000, activePeers: 2 });
    const done = applyEvent(state, changed(op('quake', 3, { state: 'done', endedAt: 5 })));
    expect(done.games.quake?.operation).toBeNull();
    expect(done.games.doom).toBe(state.games.doom);
  });

  it('does not bring back an ended operation from an older copy of it', () => {
    const finished = fold(loaded(), [changed(op('quake', 1)), changed(op('quake', 3, { state: 'done' }))]);
    const late = applyEvent(finished, changed(op('quake', 2, { bytesDone: 900 })));
    expect(late.games.quake?.operation).toBeNull();
    const running = fold(loaded(), [changed(op('quake', 5, { bytesDone: 700 })), changed(op('quake', 4, { bytesDone: 500 }))]);
    expect(running.games.quake?.operation?.bytesDone).toBe(700);
  });

  it('is idempotent under duplicated events, and toasts one failure once', () => {
    const once = fold(loaded(), [changed(op('quake', 1)), changed(op('quake', 2, { bytesDone: 500 }))]);
    const twice = fold(loaded(), [changed(op('quake', 1)), changed(op('quake', 1)), changed(op('quake', 2, { bytesDone: 500 })), changed(op('quake', 2, { bytesDone: 500 }))]);
    expect(twice.games).toEqual(once.games);
    const failed = changed(op('quake', 3, { state: 'failed', error: { code: 'DISK_FULL', message: 'full' } }));
    const failedTwice = fold(once, [failed, failed]);
    expect(failedTwice.toasts).toHaveLength(1);
    expect(failedTwice.toasts[0]).toMatchObject({ gameId: 'quake', error: { code: 'DISK_FULL' } });
    expect(failedTwice.games.quake?.operation).toBeNull();
  });

  it('keeps a download that waits for peers on its card with its progress, without an error toast', () => {
    const running = fold(loaded(), [changed(op('quake', 1, { bytesDone: 410 }))]);
    const waiting = applyEvent(running, changed(op('quake', 2, { state: 'waiting-for-peers', bytesDone: 410, error: { code: 'NO_SOURCE', message: 'every peer left' } })));
    expect(waiting.games.quake?.operation).toMatchObject({ state: 'waiting-for-peers', bytesDone: 410 });
    expect(badgeOf(waiting.games.quake!).label).toBe('Waiting for a peer');
    expect(waiting.toasts).toEqual([]);
    const paused = applyEvent(waiting, changed(op('quake', 3, { state: 'paused', bytesDone: 410 })));
    expect(badgeOf(paused.games.quake!).label).toBe('Paused');
  });

  it('labels an update as Updating, while it downloads and while it unpacks', () => {
    const downloading = applyEvent(loaded(), changed(op('quake', 1, { kind: 'update' })));
    expect(badgeOf(downloading.games.quake!).label).toBe('Updating');
    const unpacking = applyEvent(downloading, changed(op('quake', 2, { kind: 'update', state: 'finishing', phase: 'unpack' })));
    expect(badgeOf(unpacking.games.quake!).label).toBe('Updating');
    expect(primaryActionOf(unpacking.games.quake!).kind).toBe('none');
  });

  it('creates nothing for games it does not know, and nothing before the first snapshot', () => {
    const state = loaded();
    const after = fold(state, [changed(op('ghost', 1)), changed(op('ghost', 2, { state: 'failed', error: { code: 'INTERNAL', message: 'x' } })), { event: 'game-running-changed', payload: { gameId: 'ghost', running: true } }]);
    expect(after).toBe(state);
    expect(Object.keys(after.games)).toEqual(['quake', 'doom']);
    const before = fold(initialLauncherState, [changed(op('quake', 1))]);
    expect(before.games).toEqual({});
    const unknown = applyEvent(loaded(), { event: 'game-teleported', payload: {} } as unknown as AnyEvent);
    expect(unknown.games).toEqual(loaded().games);
    // Transfer details are for tools: they change nothing here.
    expect(applyEvent(state, { event: 'game-download-progress', payload: { gameId: 'quake', bytesDone: 1, totalBytes: 2, bytesPerSecond: 1, etaSeconds: 1, activePeers: 1 } })).toBe(state);
  });

  it('moves an ended entry of the Downloads page from the queue to the finished list once', () => {
    const withQueue = applyDownloadsSnapshot(loaded(), { queue: [op('quake', 1), op('doom', 2, { state: 'queued', queuePosition: 0 })], finished: [], concurrency: 1 });
    const progressed = applyEvent(withQueue, changed(op('quake', 3, { bytesDone: 600 })));
    expect(progressed.downloads?.queue[0]?.bytesDone).toBe(600);
    const done = op('quake', 4, { state: 'done', endedAt: 9 });
    const ended = fold(progressed, [changed(done), changed(done)]);
    expect(ended.downloads?.queue.map((entry) => entry.gameId)).toEqual(['doom']);
    expect(ended.downloads?.finished).toEqual([done]);
    // An uninstall that ended is not a download: the finished list leaves it out, as the backend's does.
    const uninstalled = applyEvent(ended, changed(op('doom', 5, { kind: 'uninstall', state: 'done', endedAt: 10 })));
    expect(uninstalled.downloads?.finished).toEqual([done]);
  });

  it('empties the finished list when it is cleared, keeping the queue', () => {
    const withLists = applyDownloadsSnapshot(loaded(), { queue: [op('doom', 2)], finished: [op('quake', 1, { state: 'done', endedAt: 3 })], concurrency: 1 });
    const cleared = clearFinished(withLists);
    expect(cleared.downloads).toEqual({ queue: [op('doom', 2)], finished: [], concurrency: 1 });
    expect(clearFinished(initialLauncherState)).toBe(initialLauncherState);
  });
});

describe('applyEvent: running', () => {
  it('tracks running', () => {
    const state = fold(loaded(), [
      { event: 'game-running-changed', payload: { gameId: 'doom', running: true } },
      { event: 'game-running-changed', payload: { gameId: 'doom', running: true } },
    ]);
    expect(state.games.doom?.running).toBe(true);
  });

  it('a snapshot replaces the games, operations included', () => {
    const running = applyEvent(loaded(), changed(op('quake', 1)));
    const fresh = applyEvent(running, { event: 'games-list-updated', payload: { games: [game('quake')] } });
    expect(Object.keys(fresh.games)).toEqual(['quake']);
    expect(fresh.games.quake?.operation).toBeNull();
    const again = applyEvent(fresh, changed(op('quake', 7, { kind: 'install', phase: 'unpack' })));
    expect(again.games.quake?.operation?.kind).toBe('install');
  });
});

describe('applyEvent: peers and misc', () => {
  it('handles peers joining twice, leaving twice and leaving unknown', () => {
    const state = fold(loaded(), [
      { event: 'peer-connected', payload: { peer: peer('a') } },
      { event: 'peer-connected', payload: { peer: peer('a') } },
      { event: 'peer-connected', payload: { peer: peer('b') } },
      { event: 'peer-disconnected', payload: { peerId: 'a' } },
      { event: 'peer-disconnected', payload: { peerId: 'a' } },
      { event: 'peer-disconnected', payload: { peerId: 'zzz' } },
    ]);
    expect(Object.keys(state.peers)).toEqual(['b']);
    expect(state.peerCount).toBe(1);
    expect(applyEvent(state, { event: 'peer-count', payload: { count: 4 } }).peerCount).toBe(4);
  });

  it('turns runtime errors into toasts and keeps at most five', () => {
    let state = loaded();
    for (let i = 0; i < 8; i++) state = applyEvent(state, { event: 'runtime-error', payload: { error: { code: 'PEER_UNREACHABLE', message: `peer ${i}` } } });
    expect(state.toasts).toHaveLength(5);
    expect(state.toasts.at(-1)?.error.message).toBe('peer 7');
  });
});

describe('selectors', () => {
  const games = [
    game('a', { title: 'Alpha', installed: true, canPlay: true, sizeBytes: 10 }),
    game('b', { title: 'Bravo', updateAvailable: true, installed: true, sizeBytes: 30 }),
    game('c', { title: 'Charlie', genres: ['RTS'], sizeBytes: 20 }),
    game('d', { title: 'Delta', sourcePeers: [], sizeBytes: 5 }),
  ];
  const state = applyGamesSnapshot(initialLauncherState, games);

  it('filters, searches and sorts', () => {
    const ids = (list: GameView[]) => list.map((g) => g.id);
    expect(ids(visibleGames(state.games, state.order, { search: '', filter: 'installed', sort: 'title' }))).toEqual(['a', 'b']);
    expect(ids(visibleGames(state.games, state.order, { search: '', filter: 'available', sort: 'title' }))).toEqual(['c']);
    expect(ids(visibleGames(state.games, state.order, { search: '', filter: 'updates', sort: 'title' }))).toEqual(['b']);
    expect(ids(visibleGames(state.games, state.order, { search: 'rts', filter: 'all', sort: 'title' }))).toEqual(['c']);
    expect(ids(visibleGames(state.games, state.order, { search: '', filter: 'all', sort: 'size' }))).toEqual(['b', 'c', 'a', 'd']);
  });

  it('gives one primary action and one badge per state', () => {
    expect(primaryActionOf(games[0]!).kind).toBe('play');
    expect(primaryActionOf(games[1]!).kind).toBe('update');
    expect(primaryActionOf(games[2]!).kind).toBe('install');
    expect(primaryActionOf(games[3]!).kind).toBe('none');
    const downloading = game('x', { operation: op('x', 1) });
    expect(primaryActionOf(downloading).kind).toBe('cancel');
    expect(primaryActionOf(game('r', { running: true, installed: true, canPlay: true }))).toEqual({ kind: 'stop', label: 'Stop' });
    expect(badgeOf(games[2]!).label).toBe('On 1 peer');
    expect(badgeOf(game('r', { running: true, installed: true })).tone).toBe('running');
    expect(installSpace(games[2]!)).toEqual({ normal: 40, streamed: 20 });
  });

  it('reads the coded error both faces reject with, details included', () => {
    expect(toErrorInfo({ code: 'DISK_FULL', message: 'full' })).toEqual({ code: 'DISK_FULL', message: 'full' });
    expect(toErrorInfo({ code: 'NO_SOURCE', message: 'no peer', details: { gameId: 'quake' } })).toEqual({ code: 'NO_SOURCE', message: 'no peer', details: { gameId: 'quake' } });
    // Anything else is not a coded error: it is kept as INTERNAL with its text, never parsed out of a message.
    expect(toErrorInfo(new Error('{"code":"NO_SOURCE","message":"no peer"}'))).toEqual({ code: 'INTERNAL', message: '{"code":"NO_SOURCE","message":"no peer"}' });
    expect(toErrorInfo({ code: 'NOT_A_CODE', message: 'x' })).toEqual({ code: 'INTERNAL', message: '[object Object]' });
  });
});

describe('actions: the Peers page poll', () => {
  it('refreshPeers takes the new figures, and a failed poll toasts nothing', async () => {
    const store = createAppStore();
    let fail = false;
    const listed = { ...peer('peer-a'), uploadedBytes: 42, downloadedBytes: 7 };
    const api: ConnectedApi = {
      invoke: (async () => {
        if (fail) throw new Error('host away');
        return [listed];
      }) as ConnectedApi['invoke'],
      on: () => () => undefined,
      onConnection: () => () => undefined,
      hasNativePicker: false,
    };
    const actions = createActions(store, api);
    await actions.refreshPeers();
    expect(store.getState().peers['peer-a']).toMatchObject({ uploadedBytes: 42, downloadedBytes: 7 });
    fail = true;
    await actions.refreshPeers();
    expect(store.getState().toasts).toEqual([]);
  });
});
