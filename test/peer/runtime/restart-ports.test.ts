import { describe, expect, it } from 'vitest';
import { waitFor } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

/**
 * A seed restarted on the same control port comes back with a new data-lane port (#14). Its
 * pings kept being answered, so the downloader used to keep the old lane port and fail with
 * ECONNREFUSED for minutes; now the new revision (and a refused lane) make it greet the seed
 * again, and the download goes to the new port without restarting the downloader.
 */
describe('a peer restarted on the same control port with a new data port', () => {
  const peers = useTestPeers('restart-ports');
  const game = { id: 'demo-arena', version: '1.0.0', files: [{ path: 'bin/arena.bin', size: 600_000 }] };

  it('is downloaded from at its new data port, the downloader never restarted', async () => {
    const seed = await peers.start('seed', { catalogIds: [game.id], games: [game] });
    const controlPort = seed.runtime.port;
    const downloader = await peers.start('player', { catalogIds: [game.id], manualPeers: [`127.0.0.1:${controlPort}`] });
    await waitFor(() => downloader.runtime.remoteGames().has(game.id), 20_000, 'the player to list the seed');
    const oldDataPort = downloader.runtime.peers()[0]?.info.dataPort;
    expect(oldDataPort).toBeDefined();

    await peers.stop(seed);
    const restarted = await peers.start('seed', { catalogIds: [game.id], games: [game], port: controlPort });
    expect(restarted.runtime.port).toBe(controlPort);
    expect(restarted.runtime.peerId).toBe(seed.runtime.peerId);

    const started = Date.now();
    const result = await downloader.runtime.download(game.id, { install: false });
    console.log(`downloaded from the restarted seed ${Date.now() - started} ms after its restart`);
    expect(result.version).toBe('1.0.0');
    const newDataPort = downloader.runtime.peers()[0]?.info.dataPort;
    expect(newDataPort).toBeDefined();
    expect(newDataPort).not.toBe(oldDataPort);
    expect(result.sources.find((source) => source.peerId === seed.runtime.peerId)?.bytes).toBeGreaterThan(0);
  });
});
