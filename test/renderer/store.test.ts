import { describe, expect, it } from 'vitest';
import type { GameView, PeerView } from '../../src/shared/api';
import { applyEvent, applyGamesSnapshot, initialLauncherState, pushToast, type AnyEvent, type LauncherState } from '../../src/renderer/store/state';
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
const progress = (gameId: string, bytesDone: number, totalBytes = 1000): AnyEvent => ({
  event: 'game-download-progress',
  payload: { gameId, bytesDone, totalBytes, bytesPerSecond: 100, etaSeconds: 5, activePeers: 2 },
});

describe('applyEvent: streamed installs', () => {
  it('shows a streamed install as its own operation and ends it on finished', () => {
    const state = fold(loaded(), [
      { event: 'game-install-begin', payload: { gameId: 'quake', mode: 'streamed' } },
      { event: 'game-install-progress', payload: { gameId: 'quake', bytesDone: 300, totalBytes: 1000, bytesPerSecond: 100, etaSeconds: 7, activePeers: 1 } },
    ]);
    expect(state.games.quake?.operation).toMatchObject({ kind: 'stream-install', bytesDone: 300, activePeers: 1 });
    expect(badgeOf(state.games.quake!).label).toBe('Streaming install');
    expect(primaryActionOf(state.games.quake!).kind).toBe('cancel');
    const done = applyEvent(state, { event: 'game-install-finished', payload: { gameId: 'quake', version: '1.0' } });
    expect(done.games.quake?.operation).toBeNull();
  });

  it('ends a cancelled streamed install without an error toast, but toasts a real failure', () => {
    const begun = applyEvent(loaded(), { event: 'game-install-begin', payload: { gameId: 'quake', mode: 'streamed' } });
    const cancelled = applyEvent(begun, { event: 'game-install-failed', payload: { gameId: 'quake', error: { code: 'REQUEST_CANCELLED', message: 'cancelled' } } });
    expect(cancelled.games.quake?.operation).toBeNull();
    expect(cancelled.toasts).toEqual([]);
    const failed = applyEvent(begun, { event: 'game-install-failed', payload: { gameId: 'quake', error: { code: 'STREAM_CRC_MISMATCH', message: 'bad' } } });
    expect(failed.toasts.map((t) => t.error.code)).toEqual(['STREAM_CRC_MISMATCH']);
  });
});

describe('applyEvent: downloads', () => {
  it('keeps the swarm figures of a download: full and partial sources, bytes shared', () => {
    const state = fold(loaded(), [
      { event: 'game-download-begin', payload: { gameId: 'quake', version: '1.0', totalBytes: 1000 } },
      { event: 'game-download-progress', payload: { gameId: 'quake', bytesDone: 200, totalBytes: 1000, bytesPerSecond: 100, etaSeconds: 8, activePeers: 3, fullSources: 1, partialSources: 4, uploadedBytes: 150 } },
      progress('quake', 300),
    ]);
    // A later report without the figures keeps the last known ones.
    expect(state.games.quake?.operation).toMatchObject({ bytesDone: 300, fullSources: 1, partialSources: 4, uploadedBytes: 150 });
  });

  it('runs begin -> progress -> finished into a downloaded game', () => {
    const state = fold(loaded(), [
      { event: 'game-download-begin', payload: { gameId: 'quake', version: '1.0', totalBytes: 1000 } },
      progress('quake', 400),
    ]);
    expect(state.games.quake?.operation).toMatchObject({ kind: 'download', bytesDone: 400, totalBytes: 1000, activePeers: 2 });
    const done = applyEvent(state, { event: 'game-download-finished', payload: { gameId: 'quake', version: '1.0' } });
    expect(done.games.quake).toMatchObject({ operation: null, downloaded: true, localVersion: '1.0' });
    expect(done.games.doom).toBe(state.games.doom);
  });

  it('does not resurrect a finished download from a late progress or a late begin', () => {
    const finished = fold(loaded(), [
      { event: 'game-download-begin', payload: { gameId: 'quake', version: '1.0', totalBytes: 1000 } },
      { event: 'game-download-finished', payload: { gameId: 'quake', version: '1.0' } },
    ]);
    const late = fold(finished, [progress('quake', 900), { event: 'game-download-begin', payload: { gameId: 'quake', version: '1.0', totalBytes: 1000 } }]);
    expect(late.games.quake?.operation).toBeNull();
    expect(late).toBe(finished);
  });

  it('ignores progress that arrives before its begin, and never moves progress backwards', () => {
    const early = applyEvent(loaded(), progress('quake', 300));
    expect(early.games.quake?.operation).toBeNull();
    const running = fold(early, [{ event: 'game-download-begin', payload: { gameId: 'quake', version: '1.0', totalBytes: 1000 } }, progress('quake', 700), progress('quake', 500)]);
    expect(running.games.quake?.operation?.bytesDone).toBe(700);
  });

  it('is idempotent under duplicated events', () => {
    const begin: AnyEvent = { event: 'game-download-begin', payload: { gameId: 'quake', version: '1.0', totalBytes: 1000 } };
    const once = fold(loaded(), [begin, progress('quake', 500)]);
    const twice = fold(loaded(), [begin, begin, progress('quake', 500), begin, progress('quake', 500)]);
    expect(twice.games).toEqual(once.games);

    const failed: AnyEvent = { event: 'game-download-failed', payload: { gameId: 'quake', error: { code: 'NO_SOURCE', message: 'nobody' } } };
    const failedTwice = fold(once, [failed, failed]);
    expect(failedTwice.toasts).toHaveLength(1);
    expect(failedTwice.toasts[0]).toMatchObject({ gameId: 'quake', error: { code: 'NO_SOURCE' } });
    expect(failedTwice.games.quake?.operation).toBeNull();
  });

  it('says on the toast when a failed download keeps its progress, also when the rejected command toasted first', () => {
    const begin: AnyEvent = { event: 'game-download-begin', payload: { gameId: 'quake', version: '1.0', totalBytes: 1000 } };
    const running = fold(loaded(), [begin, progress('quake', 500)]);
    const error = { code: 'NO_SOURCE' as const, message: 'every peer left' };
    const keeps = fold(running, [{ event: 'game-download-failed', payload: { gameId: 'quake', error, resumes: true } }]);
    expect(keeps.toasts).toEqual([expect.objectContaining({ gameId: 'quake', resumes: true })]);
    const lost = fold(running, [{ event: 'game-download-failed', payload: { gameId: 'quake', error: { code: 'DISK_FULL', message: 'full' } } }]);
    expect(lost.toasts[0]?.resumes).toBeUndefined();
    // The install_game command rejects with the same error, sometimes before the event arrives.
    const commandFirst = pushToast(running, error, 'quake');
    const both = fold(commandFirst, [{ event: 'game-download-failed', payload: { gameId: 'quake', error, resumes: true } }]);
    expect(both.toasts).toEqual([expect.objectContaining({ resumes: true })]);
  });

  it('creates nothing for games it does not know', () => {
    const state = loaded();
    const after = fold(state, [
      { event: 'game-download-begin', payload: { gameId: 'ghost', version: '1', totalBytes: 5 } },
      progress('ghost', 3),
      { event: 'game-download-finished', payload: { gameId: 'ghost', version: '1' } },
      { event: 'game-download-failed', payload: { gameId: 'ghost', error: { code: 'INTERNAL', message: 'x' } } },
      { event: 'game-install-finished', payload: { gameId: 'ghost', version: '1' } },
      { event: 'game-running-changed', payload: { gameId: 'ghost', running: true } },
      { event: 'game-uninstall-finished', payload: { gameId: 'ghost' } },
    ]);
    expect(after).toBe(state);
    expect(Object.keys(after.games)).toEqual(['quake', 'doom']);
  });

  it('drops events before the first snapshot and ignores unknown event names', () => {
    const before = fold(initialLauncherState, [{ event: 'game-download-begin', payload: { gameId: 'quake', version: '1', totalBytes: 5 } }]);
    expect(before.games).toEqual({});
    const unknown = applyEvent(loaded(), { event: 'game-teleported', payload: {} } as unknown as AnyEvent);
    expect(unknown.games).toEqual(loaded().games);
  });

  it('clears the operation on cancel', () => {
    const state = fold(loaded(), [
      { event: 'game-download-begin', payload: { gameId: 'quake', version: '1.0', totalBytes: 1000 } },
      { event: 'game-download-cancelled', payload: { gameId: 'quake' } },
      progress('quake', 800),
    ]);
    expect(state.games.quake?.operation).toBeNull();
    expect(state.games.quake?.downloaded).toBe(false);
  });
});

describe('applyEvent: installs, uninstalls, running', () => {
  it('streamed install ends installed; uninstall clears it and allows a reinstall', () => {
    const installed = fold(loaded(), [
      { event: 'game-install-begin', payload: { gameId: 'doom', mode: 'streamed' } },
      { event: 'game-install-progress', payload: { gameId: 'doom', bytesDone: 10, totalBytes: 100, bytesPerSecond: 1, etaSeconds: 90, activePeers: 1 } },
    ]);
    expect(installed.games.doom?.operation).toMatchObject({ kind: 'stream-install', bytesDone: 10 });
    const done = fold(installed, [
      { event: 'game-install-finished', payload: { gameId: 'doom', version: '1.0' } },
      { event: 'game-install-begin', payload: { gameId: 'doom', mode: 'streamed' } },
    ]);
    expect(done.games.doom).toMatchObject({ installed: true, installedVersion: '1.0', operation: null });

    const removed = fold(done, [
      { event: 'game-uninstall-begin', payload: { gameId: 'doom' } },
      { event: 'game-uninstall-finished', payload: { gameId: 'doom' } },
      { event: 'game-uninstall-finished', payload: { gameId: 'doom' } },
    ]);
    expect(removed.games.doom).toMatchObject({ installed: false, installedVersion: null, operation: null });
    const again = applyEvent(removed, { event: 'game-install-begin', payload: { gameId: 'doom', mode: 'streamed' } });
    expect(again.games.doom?.operation?.kind).toBe('stream-install');
  });

  it('ignores an uninstall-begin for a game that is not installed', () => {
    const state = loaded();
    expect(applyEvent(state, { event: 'game-uninstall-begin', payload: { gameId: 'quake' } })).toBe(state);
  });

  it('shows an install failure as one toast and tracks running', () => {
    const state = fold(loaded(), [
      { event: 'game-install-begin', payload: { gameId: 'quake', mode: 'normal' } },
      { event: 'game-install-failed', payload: { gameId: 'quake', error: { code: 'ARCHIVE_DAMAGED', message: 'CRC error in data.rar' } } },
      { event: 'game-running-changed', payload: { gameId: 'doom', running: true } },
      { event: 'game-running-changed', payload: { gameId: 'doom', running: true } },
    ]);
    expect(state.toasts.map((t) => t.error.code)).toEqual(['ARCHIVE_DAMAGED']);
    expect(state.games.quake?.operation).toBeNull();
    expect(state.games.doom?.running).toBe(true);
  });

  it('a snapshot replaces the games and forgets tombstones', () => {
    const finished = fold(loaded(), [
      { event: 'game-download-begin', payload: { gameId: 'quake', version: '1.0', totalBytes: 1000 } },
      { event: 'game-download-finished', payload: { gameId: 'quake', version: '1.0' } },
    ]);
    const fresh = applyEvent(finished, { event: 'games-list-updated', payload: { games: [game('quake')] } });
    expect(Object.keys(fresh.games)).toEqual(['quake']);
    const redownload = applyEvent(fresh, { event: 'game-download-begin', payload: { gameId: 'quake', version: '1.0', totalBytes: 1000 } });
    expect(redownload.games.quake?.operation?.kind).toBe('download');
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
    const downloading = game('x', { operation: { kind: 'download', phase: 'transfer', bytesDone: 1, totalBytes: 2, bytesPerSecond: 1, etaSeconds: 1, activePeers: 1 } });
    expect(primaryActionOf(downloading).kind).toBe('cancel');
    expect(primaryActionOf(game('r', { running: true, installed: true, canPlay: true }))).toEqual({ kind: 'stop', label: 'Stop' });
    expect(badgeOf(games[2]!).label).toBe('On 1 peer');
    expect(badgeOf(game('r', { running: true, installed: true })).tone).toBe('running');
    expect(installSpace(games[2]!)).toEqual({ normal: 40, streamed: 20 });
  });

  it('reads coded errors from both faces', () => {
    expect(toErrorInfo({ code: 'DISK_FULL', message: 'full' })).toEqual({ code: 'DISK_FULL', message: 'full' });
    const electron = new Error(`Error invoking remote method 'install_game': Error: {"code":"NO_SOURCE","message":"no peer"}`);
    expect(toErrorInfo(electron)).toEqual({ code: 'NO_SOURCE', message: 'no peer' });
    expect(toErrorInfo(new Error('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' });
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
