import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LauncherEvents } from '../../../src/shared/api';
import { waitFor, type GameSpec, type TestPeer } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

const IDS = ['demo-arena', 'demo-racer'];
const BIG_GAME: GameSpec = { id: 'demo-arena', version: '1.0', files: [{ path: 'bin/game.bin', size: 3_000_000 }, { path: 'data/level.pak', size: 2_000_000 }], seed: 7 };

async function crcOfTree(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, full).split(path.sep).join('/'), crc32(await readFile(full)) >>> 0);
  }
  return out;
}

describe('download from several real peers over QUIC + the TLS data lane', () => {
  const peers = useTestPeers('download');

  async function seeds(count: number, spec: GameSpec = BIG_GAME): Promise<TestPeer[]> {
    const started: TestPeer[] = [];
    for (let i = 0; i < count; i++) {
      const seed = await peers.start(`seed${i}`, { catalogIds: IDS, games: [spec] });
      started.push(seed);
    }
    return started;
  }

  it('downloads from 3 peers byte-identically, each serving a share, then installs', async () => {
    const sources = await seeds(3);
    const player = await peers.start('player', { catalogIds: IDS, manualPeers: sources.map((s) => `127.0.0.1:${s.runtime.port}`) });
    await waitFor(() => player.runtime.remoteGames().get('demo-arena')?.sources.length === 3, 20_000, 'three sources');

    const events: string[] = [];
    const progress: LauncherEvents['game-download-progress'][] = [];
    player.runtime.onAny((event, payload) => {
      if (event.startsWith('game-')) events.push(event);
      if (event === 'game-download-progress') progress.push(payload as LauncherEvents['game-download-progress']);
    });
    await player.runtime.download('demo-arena');

    const seedRoot = path.join(sources[0]!.gameDir, 'demo-arena');
    const playerRoot = path.join(player.gameDir, 'demo-arena');
    const seedFiles = await crcOfTree(seedRoot);
    const playerFiles = await crcOfTree(playerRoot);
    for (const [file, crc] of seedFiles) expect(playerFiles.get(file), file).toBe(crc);
    // Installed: local/ holds exactly what the generator put in the archive.
    const generated = sources[0]!.games.get('demo-arena')!;
    const local = await crcOfTree(path.join(playerRoot, 'local'));
    expect([...local.keys()].sort()).toEqual(generated.files.map((f) => f.path).sort());
    for (const file of generated.files) expect(local.get(file.path)).toBe(file.crc32);

    expect(events[0]).toBe('game-download-begin');
    expect(events).toContain('game-download-finished');
    expect(events.indexOf('game-download-finished')).toBeLessThan(events.indexOf('game-install-begin'));
    expect(events.at(-1)).toBe('game-install-finished');
    expect(progress.at(-1)?.bytesDone).toBe(progress.at(-1)?.totalBytes);

    // Each seed served part of it (upload counters are on the seeds' side: check their lanes did work).
    const served = sources.map((s) => s.runtime.uploadedBytes());
    for (const bytes of served) expect(bytes).toBeGreaterThan(0);
    expect(served.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual((await stat(path.join(seedRoot, 'demo-arena.rar'))).size);

    // The player now is a source itself: downloaded archives + version.ini.
    await waitFor(() => player.runtime.localGames().some((g) => g.id === 'demo-arena' && g.downloaded && g.installed), 10_000, 'player library updated');
  });
});
