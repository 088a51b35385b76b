import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeLauncherBackend, type SettingsAccess } from '../../../src/main/peer/launcher/launcher-backend';
import { dispatchRpc } from '../../../src/main/peer/launcher/rpc-dispatch';
import type { DownloadsView, EventName, EventPayload, OperationView } from '../../../src/shared/api';
import { defaultSettings, type Settings } from '../../../src/shared/settings';
import { waitFor, type GameSpec } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

const IDS = ['demo-arena', 'demo-racer', 'demo-tanks'];
const peers = useTestPeers('launcher-backend');
let backend: RuntimeLauncherBackend | null = null;
afterEach(() => backend?.dispose());

function memorySettings(): SettingsAccess {
  let current: Settings = defaultSettings('test');
  return {
    get: () => current,
    update: async (patch) => (current = { ...current, ...patch }),
  };
}

/** A backend over a real runtime with no peer around, and every event it sends. */
async function start() {
  const player = await peers.start('player', { catalogIds: IDS });
  backend = new RuntimeLauncherBackend({ runtime: player.runtime, settings: memorySettings(), listDebounceMs: 10 });
  const events: Array<{ event: EventName; payload: unknown }> = [];
  backend.subscribe((event, payload) => events.push({ event, payload }));
  const changes = (gameId: string) =>
    events
      .filter((e): e is { event: 'operation-changed'; payload: EventPayload<'operation-changed'> } => e.event === 'operation-changed')
      .map((e) => e.payload.operation)
      .filter((operation) => operation.gameId === gameId);
  return { player, backend, events, changes };
}

const brief = (operation: OperationView | null | undefined) => operation && { kind: operation.kind, state: operation.state, queuePosition: operation.queuePosition };

describe('RuntimeLauncherBackend: the projection of the runtime operation model', () => {
  it('projects each operation change with its place in the queue; games, downloads and the queue commands follow the runtime', async () => {
    const { backend, changes } = await start();
    // Install, update and download resolve once queued.
    await backend.handle('install_game', { gameId: 'demo-arena' });
    await backend.handle('update_game', { gameId: 'demo-racer' });
    await backend.handle('download_game', { gameId: 'demo-tanks' });
    await waitFor(async () => (await backend.handle('request_downloads', undefined)).queue.every((o) => o.state === 'waiting-for-peers'), 10_000, 'all three to wait for peers');
    expect(changes('demo-arena').map(brief)).toEqual([
      { kind: 'install', state: 'queued', queuePosition: 0 },
      { kind: 'install', state: 'waiting-for-peers', queuePosition: 0 },
    ]);
    // An update is an update from the start (the UI's "Updating"), not an install.
    expect(changes('demo-racer').map((o) => o.kind)).toEqual(['update', 'update']);

    await backend.handle('move_download', { gameId: 'demo-tanks', position: 0 });
    await backend.handle('pause_download', { gameId: 'demo-racer' });
    const downloads = await backend.handle('request_downloads', undefined);
    expect(downloads.queue.map(brief)).toEqual([
      { kind: 'download', state: 'waiting-for-peers', queuePosition: 0 },
      { kind: 'install', state: 'waiting-for-peers', queuePosition: 1 },
      { kind: 'update', state: 'paused', queuePosition: 2 },
    ]);
    expect(downloads.concurrency).toBe(1);
    // The library shows each game with its operation, though no peer has it: a waiting download stays visible.
    const games = await backend.handle('request_games', undefined);
    expect(Object.fromEntries(games.map((game) => [game.id, brief(game.operation)]))).toEqual({
      'demo-arena': { kind: 'install', state: 'waiting-for-peers', queuePosition: 1 },
      'demo-racer': { kind: 'update', state: 'paused', queuePosition: 2 },
      'demo-tanks': { kind: 'download', state: 'waiting-for-peers', queuePosition: 0 },
    });

    await backend.handle('resume_download', { gameId: 'demo-racer' });
    await backend.handle('cancel_download', { gameId: 'demo-arena' });
    expect(changes('demo-arena').at(-1)).toMatchObject({ state: 'cancelled', error: null, queuePosition: null });
    const after = await backend.handle('request_downloads', undefined);
    expect(after.queue.map((o) => o.gameId)).toEqual(['demo-tanks', 'demo-racer']);
    expect(after.finished.map((o) => [o.gameId, o.state])).toEqual([['demo-arena', 'cancelled']]);
    expect((await backend.handle('request_games', undefined)).some((game) => game.id === 'demo-arena')).toBe(false);
    await backend.handle('clear_finished_downloads', undefined);
    expect((await backend.handle('request_downloads', undefined)).finished).toEqual([]);
    await waitFor(() => true);
  });

  it('sends a download\'s progress as operation changes alone: new figures bring no games or downloads snapshot', async () => {
    // 4 MB at 1 MB/s: about 16 samples of the progress tracker (every 250 ms) during the transfer.
    const spec: GameSpec = { id: 'demo-arena', version: '1.0', files: [{ path: 'bin/game.bin', size: 4_000_000 }], seed: 5 };
    const seed = await peers.start('seed', { catalogIds: IDS, games: [spec] });
    const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`], downloadLimitBytesPerSec: 1_000_000 });
    backend = new RuntimeLauncherBackend({ runtime: player.runtime, settings: memorySettings(), listDebounceMs: 10 });
    const events: EventName[] = [];
    const operations: OperationView[] = [];
    backend.subscribe((event, payload) => {
      events.push(event);
      if (event === 'operation-changed') operations.push((payload as EventPayload<'operation-changed'>).operation);
    });
    await waitFor(() => player.runtime.remoteGames().has('demo-arena'), 10_000, 'the player to list the seed\'s game');
    await backend.handle('download_game', { gameId: 'demo-arena' });
    await waitFor(() => operations.some((operation) => operation.state === 'done'), 30_000, 'the download to finish');
    await new Promise((resolve) => setTimeout(resolve, 100));

    // A sample: the same state and phase as the change before it, more bytes.
    const samples = operations.filter((operation, index) => {
      const before = operations[index - 1];
      return before !== undefined && before.state === operation.state && before.phase === operation.phase && operation.bytesDone !== before.bytesDone;
    });
    expect(samples.length).toBeGreaterThanOrEqual(8);
    // Every client applies each sample from its operation-changed event: the UI still moves with every one.
    expect(samples.map((operation) => operation.bytesDone)).toEqual([...samples.map((operation) => operation.bytesDone)].sort((a, b) => a - b));
    // Snapshots follow what changes the lists (a new operation, a state or phase, a game that
    // appeared on disk), not the samples: each sample used to bring both.
    const count = (name: EventName) => events.filter((event) => event === name).length;
    expect(count('games-list-updated')).toBeLessThan(samples.length / 2);
    expect(count('downloads-updated')).toBeLessThan(samples.length / 2);
  });

  it('sends a new order of the queue as snapshots while a download runs (no operation changes state)', async () => {
    const specs: GameSpec[] = IDS.map((id, index) => ({ id, version: '1.0', files: [{ path: 'bin/game.bin', size: index === 0 ? 4_000_000 : 100_000 }], seed: 6 + index }));
    const seed = await peers.start('seed', { catalogIds: IDS, games: specs });
    const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`], downloadLimitBytesPerSec: 1_000_000 });
    backend = new RuntimeLauncherBackend({ runtime: player.runtime, settings: memorySettings(), listDebounceMs: 10 });
    const snapshots: DownloadsView[] = [];
    backend.subscribe((event, payload) => event === 'downloads-updated' && snapshots.push((payload as EventPayload<'downloads-updated'>).downloads));
    await waitFor(() => IDS.every((id) => player.runtime.remoteGames().has(id)), 10_000, 'the player to list the seed\'s games');
    await backend.handle('download_game', { gameId: 'demo-arena' });
    await backend.handle('download_game', { gameId: 'demo-racer' });
    await backend.handle('download_game', { gameId: 'demo-tanks' });
    const order = () => snapshots.at(-1)?.queue.map((operation) => `${operation.gameId}:${operation.state}`).join() ?? '';
    await waitFor(() => order() === 'demo-arena:running,demo-racer:queued,demo-tanks:queued', 10_000, 'the first to run and two to wait');
    await backend.handle('move_download', { gameId: 'demo-tanks', position: 0 });
    await waitFor(() => order() === 'demo-arena:running,demo-tanks:queued,demo-racer:queued', 5_000, 'a snapshot in the new order');
  });

  it('sends a new limit of downloads at once to every face, though nothing starts or stops', async () => {
    const { backend, events } = await start();
    await backend.handle('set_settings', { maxConcurrentDownloads: 2 });
    await waitFor(() => events.some((e) => e.event === 'downloads-updated' && (e.payload as EventPayload<'downloads-updated'>).downloads.concurrency === 2), 5_000, 'a downloads snapshot with the new limit');
  });

  it('answers a refusal with a coded reply envelope (code, message, details), and takes the concurrency setting', async () => {
    const { backend } = await start();
    expect(await dispatchRpc(backend, { id: 1, command: 'install_game', args: { gameId: 'not-in-catalog' } })).toEqual({
      id: 1,
      error: { code: 'NOT_IN_CATALOG', message: 'Unknown game not-in-catalog', details: { gameId: 'not-in-catalog' } },
    });
    expect(await dispatchRpc(backend, { id: 2, command: 'pause_download', args: { gameId: 'demo-arena' } })).toMatchObject({ id: 2, error: { code: 'NOT_DOWNLOADED', details: { gameId: 'demo-arena' } } });
    await backend.handle('install_game', { gameId: 'demo-arena' });
    expect(await dispatchRpc(backend, { id: 3, command: 'install_game', args: { gameId: 'demo-arena' } })).toMatchObject({ id: 3, error: { code: 'OPERATION_IN_PROGRESS', details: { gameId: 'demo-arena' } } });
    expect(await dispatchRpc(backend, { id: 4, command: 'set_settings', args: { maxConcurrentDownloads: 0 } })).toMatchObject({ id: 4, error: { code: 'MALFORMED_MESSAGE' } });
    await expect(backend.handle('get_settings', undefined)).resolves.toMatchObject({ maxConcurrentDownloads: 1 });
    await backend.handle('set_settings', { maxConcurrentDownloads: 3 });
    expect((await backend.handle('request_downloads', undefined)).concurrency).toBe(3);
    expect((await backend.handle('get_settings', undefined)).maxConcurrentDownloads).toBe(3);
  });
});
