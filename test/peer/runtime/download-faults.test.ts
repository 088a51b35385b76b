import { open, readFile, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../../src/main/peer/identity/identity';
import { QuicPeerClient } from '../../../src/main/peer/transport/peer-client';
import { killCliPeers, makeWorkDir, seedGames, spawnCliPeer, startTestPeer, waitFor, type CliPeer, type GameSpec, type TestPeer } from '../../support/runtime-harness';

const IDS = ['demo-arena'];
const GAME: GameSpec = { id: 'demo-arena', version: '1.0', files: [{ path: 'data/big.bin', size: 6_000_000 }], seed: 11 };

async function fileCrc(file: string): Promise<number> {
  return crc32(await readFile(file)) >>> 0;
}

describe('downloads from real peers that misbehave', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  const peers: TestPeer[] = [];
  const children: CliPeer[] = [];

  beforeEach(async () => {
    work = await makeWorkDir('download-faults');
  });
  afterEach(async () => {
    await killCliPeers(children);
    for (const peer of peers.splice(0)) await peer.stop();
    await work.cleanup();
  });

  it('finishes from the remaining peer when a seed is SIGKILLed mid-download', async () => {
    const honest = await startTestPeer(work.dir, 'honest', { catalogIds: IDS, games: [GAME] });
    peers.push(honest);
    const victimGames = path.join(work.dir, 'victim', 'games');
    await seedGames(victimGames, [GAME]);
    const victim = await spawnCliPeer(['serve', '--game-dir', victimGames, '--state-dir', path.join(work.dir, 'victim', 'state'), '--host', '127.0.0.1', '--no-mdns', '--chunk-size', String(64 * 1024)]);
    children.push(victim);
    const player = await startTestPeer(work.dir, 'player', {
      catalogIds: IDS,
      manualPeers: [`127.0.0.1:${honest.runtime.port}`, `127.0.0.1:${victim.port}`],
      downloadLimitBytesPerSec: 3_000_000,
    });
    peers.push(player);
    await waitFor(() => player.runtime.remoteGames().get('demo-arena')?.sources.length === 2, 20_000, 'two sources');

    let killed = false;
    player.runtime.on('game-download-progress', ({ bytesDone, totalBytes }) => {
      if (!killed && bytesDone > totalBytes / 4) {
        killed = true;
        victim.child.kill('SIGKILL');
      }
    });
    const report = await player.runtime.download('demo-arena', { install: false });
    expect(killed).toBe(true);
    const victimReport = report.sources.find((s) => s.peerId === victim.peerId);
    // Its failures were seen: rested (and tried again) until the peer manager pruned it, or dropped by then.
    expect(victimReport?.droppedFor ?? victimReport?.lastError).not.toBeNull();
    const root = (dir: string) => path.join(dir, 'demo-arena');
    for (const file of ['demo-arena.rar', 'version.ini']) {
      expect(await fileCrc(path.join(root(player.gameDir), file))).toBe(await fileCrc(path.join(root(honest.gameDir), file)));
    }
  });

  it('detects a seed serving corrupted bytes, re-fetches them elsewhere and drops that seed', async () => {
    const honest = await startTestPeer(work.dir, 'honest', { catalogIds: IDS, games: [GAME] });
    peers.push(honest);
    const liar = await startTestPeer(work.dir, 'liar', { catalogIds: IDS, games: [GAME] });
    peers.push(liar);
    const player = await startTestPeer(work.dir, 'player', { catalogIds: IDS, manualPeers: [`127.0.0.1:${honest.runtime.port}`, `127.0.0.1:${liar.runtime.port}`] });
    peers.push(player);
    await waitFor(() => player.runtime.remoteGames().get('demo-arena')?.sources.length === 2, 20_000, 'two sources');
    // Make the liar's manifest first (true CRCs), then rot its archive without changing size
    // or mtime: its index keeps the old CRCs, so it serves bad bytes under good CRCs.
    const asker = new QuicPeerClient({ identity: await loadOrCreateIdentity(path.join(work.dir, 'asker')), connectTimeoutMs: 3_000, idleTimeoutMs: 5_000, keepAliveIntervalMs: 500, requestTimeoutMs: 10_000 });
    const answer = await asker.request({ host: '127.0.0.1', port: liar.runtime.port, peerId: liar.runtime.peerId }, { type: 'GetGame', gameId: 'demo-arena' });
    await asker.stop();
    expect(answer.type).toBe('Game');
    const archive = path.join(liar.gameDir, 'demo-arena', 'demo-arena.rar');
    const before = await stat(archive);
    const handle = await open(archive, 'r+');
    try {
      for (let offset = 0; offset < before.size; offset += 64 * 1024) await handle.write(Buffer.from('ROT'), 0, 3, offset + 100);
    } finally {
      await handle.close();
    }
    await utimes(archive, before.atime, before.mtime);

    const report = await player.runtime.download('demo-arena', { install: false });
    const liarReport = report.sources.find((s) => s.peerId === liar.runtime.peerId);
    expect(liarReport?.badChunks).toBe(3);
    expect(liarReport?.droppedFor?.code).toBe('CHUNK_HASH_MISMATCH');
    expect(await fileCrc(path.join(player.gameDir, 'demo-arena', 'demo-arena.rar'))).toBe(await fileCrc(path.join(honest.gameDir, 'demo-arena', 'demo-arena.rar')));
  });
});
