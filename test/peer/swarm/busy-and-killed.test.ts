import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LanspreadError } from '../../../src/shared/errors';
import { loadOrCreateIdentity } from '../../../src/main/peer/identity/identity';
import { ControlSocketClient, controlSocketPath } from '../../../src/main/peer/launcher/control-socket';
import { DataLaneClient, type LaneTarget } from '../../../src/main/peer/transport/data-lane/lane-client';
import { useCliScope } from '../../support/cli-scope';
import { spawnCliPeer, waitFor, type GameSpec, type TestPeer } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

const IDS = ['demo-arena'];
const CHUNK = 64 * 1024;

async function fileCrc(file: string): Promise<number> {
  return crc32(await readFile(file)) >>> 0;
}

function laneOf(viewer: TestPeer, peerId: string): LaneTarget {
  const info = viewer.runtime.peers().find((record) => record.info.peerId === peerId)?.info;
  if (info?.dataPort === undefined) throw new Error('lane not known yet');
  return { host: info.host, dataPort: info.dataPort, peerId };
}

describe('a crowd and a crash do not fail downloads', () => {
  const peers = useTestPeers('swarm-crowd');
  // Registered second, so its children are killed before the peers stop and the work folder goes.
  const { children } = useCliScope();

  it('a download whose only seed is saturated by 12 requesters waits its turn and completes, and every requester is served', async () => {
    const game: GameSpec = { id: 'demo-arena', version: '1.0', files: [{ path: 'data/game.bin', size: 1024 * 1024 }], seed: 5 };
    const seed = await peers.start('seed', { catalogIds: IDS, games: [game], uploadLimitBytesPerSec: 1024 * 1024 });
    const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`] });
    await waitFor(() => player.runtime.remoteGames().get('demo-arena')?.sources.length === 1, 20_000, 'player sees the seed');
    const target = laneOf(player, seed.runtime.peerId);
    const archive = path.join(seed.gameDir, 'demo-arena', 'demo-arena.rar');
    const bytes = await readFile(archive);

    // Twelve other peers (their own identities) each pull the whole archive, every request pipelined at once.
    // Like real peers they ask again for a chunk the seed says just went to someone else (super-seeding).
    let repeatsRefused = 0;
    const requesters = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => new DataLaneClient({ identity: await loadOrCreateIdentity(path.join(peers.dir, `requester${i}`)), connectTimeoutMs: 10_000, requestTimeoutMs: 15_000 })),
    );
    try {
      const pulls = requesters.map(async (lane) => {
        const received = Buffer.alloc(bytes.byteLength);
        const requests = [];
        for (let offset = 0; offset < bytes.byteLength; offset += CHUNK) {
          const fetchOnce = async (): Promise<void> => {
            let at = offset;
            try {
              await lane.fetchChunk(target, { gameId: 'demo-arena', path: 'demo-arena.rar', offset, length: Math.min(CHUNK, bytes.byteLength - offset) }, (piece) => {
                received.set(piece, at);
                at += piece.byteLength;
              });
            } catch (error) {
              if ((error as LanspreadError).code !== 'CHUNK_NOT_AVAILABLE') throw error;
              repeatsRefused++;
              await new Promise((resolve) => setTimeout(resolve, 200));
              await fetchOnce();
            }
          };
          requests.push(fetchOnce());
        }
        await Promise.all(requests);
        return received;
      });
      const download = player.runtime.download('demo-arena', { install: false });
      const results = await Promise.allSettled(pulls);
      const refused = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as LanspreadError).code] : []));
      expect(refused).toEqual([]);
      console.info(`[busy-seed] repeats refused while the crowd waited: ${repeatsRefused}`);
      for (const result of results) if (result.status === 'fulfilled') expect(result.value.equals(bytes)).toBe(true);
      const report = await download;
      expect(report.sources).toHaveLength(1);
      expect(report.sources[0]).toMatchObject({ peerId: seed.runtime.peerId, droppedFor: null });
      expect(await fileCrc(path.join(player.gameDir, 'demo-arena', 'demo-arena.rar'))).toBe(crc32(bytes) >>> 0);
    } finally {
      for (const lane of requesters) lane.stop();
    }
  });

  it('a partial peer SIGKILLed while others pull from it resumes its own download after a restart, and the others finish', async () => {
    const game: GameSpec = { id: 'demo-arena', version: '1.0', files: [{ path: 'data/game.bin', size: 2 * 1024 * 1024 }], seed: 8 };
    const seed = await peers.start('seed', { catalogIds: IDS, games: [game], uploadLimitBytesPerSec: 512 * 1024 });
    const partialGames = path.join(peers.dir, 'partial', 'games');
    const partialState = path.join(peers.dir, 'partial', 'state');
    await mkdir(partialGames, { recursive: true });
    const partialArgs = ['serve', '--game-dir', partialGames, '--state-dir', partialState, '--host', '127.0.0.1', '--no-mdns', '--chunk-size', String(CHUNK), '--peer', `127.0.0.1:${seed.runtime.port}`];
    const first = await spawnCliPeer(partialArgs);
    children.push(first);
    const control = await ControlSocketClient.connect(controlSocketPath(partialState));
    let gotChunks = 0;
    control.on('game-download-progress', ({ bytesDone }) => (gotChunks = Math.floor(bytesDone / CHUNK)));
    await waitFor(async () => (await control.invoke('request_games')).some((g) => g.id === 'demo-arena' && g.sourcePeers.length === 1), 20_000, 'the partial peer sees the seed');
    void control.invoke('install_game', { gameId: 'demo-arena' }).catch(() => undefined);
    await waitFor(() => gotChunks >= 6, 30_000, 'the partial peer to hold six chunks');

    const player = await peers.start('player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`, `127.0.0.1:${first.port}`] });
    await waitFor(
      () => player.runtime.peers().some((record) => record.info.peerId === first.peerId && record.games.some((g) => g.id === 'demo-arena' && g.partial === true)),
      20_000,
      'player sees the partial peer',
    );
    let receivedFromPartial = 0;
    player.runtime.on('game-download-progress', () => (receivedFromPartial = player.runtime.transfersWith(first.peerId).downloaded));
    const download = player.runtime.download('demo-arena', { install: false });
    await waitFor(() => receivedFromPartial > 0, 30_000, 'the player to pull from the partial peer');
    control.close();
    first.child.kill('SIGKILL');
    await first.exited;

    const report = await download;
    expect(report.sources.find((source) => source.peerId === first.peerId)).toMatchObject({ partial: true });
    expect(await fileCrc(path.join(player.gameDir, 'demo-arena', 'demo-arena.rar'))).toBe(await fileCrc(path.join(seed.gameDir, 'demo-arena', 'demo-arena.rar')));

    // Restarted on the same state: the download resumes by itself from its journal and completes.
    const second = await spawnCliPeer(partialArgs);
    children.push(second);
    const again = await ControlSocketClient.connect(controlSocketPath(partialState));
    try {
      let resumedAt: number | null = null;
      again.on('game-download-progress', ({ bytesDone }) => (resumedAt ??= bytesDone));
      await waitFor(async () => (await again.invoke('request_games')).some((g) => g.id === 'demo-arena' && g.downloaded), 60_000, 'the resumed download to finish');
      expect(resumedAt).toBeGreaterThan(0);
      for (const file of ['demo-arena.rar', 'version.ini']) {
        expect(await fileCrc(path.join(partialGames, 'demo-arena', file))).toBe(await fileCrc(path.join(seed.gameDir, 'demo-arena', file)));
      }
    } finally {
      again.close();
    }
  });
});
