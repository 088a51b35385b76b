import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateGame } from '../src/main/peer/demo/generate-game';
import { bundledCatalogPath, loadCatalog } from '../src/main/peer/library/catalog';
import { startPeer, type PeerRuntime } from '../src/main/peer/runtime';
import { silentLogger } from '../src/main/peer/util/logger';
import type { BenchFigure } from './figures';
import { measure, type Measured } from './support/measure';
import { startSeedProcess } from './support/seed-process';

/**
 * stream.*: a streamed install of a 1 GiB game from a seed process (QUIC control, TLS data lane,
 * unrar stream worker in the seed, verifying receiver here) against download-then-install of the
 * same game in the same run. The receiver's games live on a tmpfs of their own, so statfs sees
 * only what the receiver writes: the peak is sampled every 20 ms during each install.
 */
const GAME_BYTES = Number(process.env.LANSPREAD_BENCH_GAME_BYTES ?? 1024 ** 3);
const GAME_ID = 'demo-arena';
const MB = 1024 * 1024;
const SLACK_BYTES = 64 * MB;

interface DiskRun extends Measured {
  peakDiskBytes: number;
}

export async function runStreamBench(): Promise<BenchFigure[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lanspread-stream-bench-'));
  const seedGames = path.join(dir, 'seed', 'games');
  const fileCount = 4;
  const files = Array.from({ length: fileCount }, (_, i) => ({ path: `data/pak${i}.bin`, size: Math.floor(GAME_BYTES / fileCount) }));
  await generateGame({ gameDir: seedGames, gameId: GAME_ID, version: '1.0', files, seed: 9 });
  const installedBytes = files.reduce((sum, file) => sum + file.size, 0);
  const seed = await startSeedProcess(seedGames, path.join(dir, 'seed', 'state'));
  const disk = path.join(dir, 'receiver-disk');
  await mkdir(disk, { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil((installedBytes * 3) / MB)}m`, 'tmpfs', disk], { encoding: 'utf8' }).status === 0;
  if (!mounted) process.stderr.write('stream bench: no tmpfs (needs root); disk figures include whatever else writes to the temp filesystem\n');
  const catalog = await loadCatalog(bundledCatalogPath());

  async function receiverRun(name: string, install: (runtime: PeerRuntime) => Promise<unknown>): Promise<DiskRun> {
    const base = path.join(disk, name);
    await mkdir(path.join(base, 'games'), { recursive: true });
    const runtime = await startPeer({ stateDir: path.join(base, 'state'), gameDir: path.join(base, 'games'), displayName: name, catalog, host: '127.0.0.1', mdns: { enabled: false }, manualPeers: [`127.0.0.1:${seed.port}`], logger: silentLogger });
    try {
      while (!runtime.remoteGames().has(GAME_ID)) await new Promise((resolve) => setTimeout(resolve, 50));
      const used = async () => {
        const stats = await statfs(disk);
        return (stats.blocks - stats.bfree) * stats.bsize;
      };
      const before = await used();
      let peak = before;
      const sampler = setInterval(() => void used().then((now) => (peak = Math.max(peak, now))), 20);
      let measured: Measured;
      try {
        measured = await measure(async () => void (await install(runtime)));
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, await used());
      return { ...measured, peakDiskBytes: peak - before };
    } finally {
      await runtime.stop();
      await rm(base, { recursive: true, force: true });
    }
  }

  try {
    const streamed = await receiverRun('streamed', (runtime) => runtime.streamInstall(GAME_ID));
    const senderRss = await seed.peakRssMb();
    const classic = await receiverRun('classic', (runtime) => runtime.download(GAME_ID));
    const budget = installedBytes + SLACK_BYTES;
    const size = `${(installedBytes / 1024 ** 3).toFixed(2)} GiB`;
    return [
      {
        id: 'stream.peak_disk_vs_budget',
        value: streamed.peakDiskBytes / MB,
        unit: 'MB',
        baseline: budget / MB,
        ratio: streamed.peakDiskBytes / budget,
        note: `receiver disk growth (statfs, 20 ms samples${mounted ? ', own tmpfs' : ''}) during a streamed install of a ${size} game; baseline installed size + 64 MiB. Download-then-install peaked at ${(classic.peakDiskBytes / MB).toFixed(0)} MB`,
      },
      {
        id: 'stream.time_to_installed',
        value: streamed.seconds,
        unit: 's',
        baseline: classic.seconds,
        ratio: streamed.seconds / classic.seconds,
        note: `${size} game from 1 seed process, click to installed; baseline download-then-install of the same game in the same run (lower is better)`,
      },
      { id: 'stream.receiver_peak_rss', value: streamed.peakRssMb, unit: 'MB', baseline: classic.peakRssMb, ratio: streamed.peakRssMb / classic.peakRssMb, note: 'receiver process peak RSS; baseline the same process during download-then-install' },
      { id: 'stream.receiver_event_loop_lag_p99', value: streamed.lagP99Ms, unit: 'ms', baseline: 50, ratio: streamed.lagP99Ms / 50, note: 'receiver main-thread event-loop delay p99; baseline is the 50 ms budget' },
      { id: 'stream.sender_peak_rss', value: senderRss, unit: 'MB', baseline: 300, ratio: senderRss / 300, note: 'seed process (with its unrar stream worker) VmHWM after streaming; baseline is the 300 MB extraction budget' },
    ];
  } finally {
    await seed.stop();
    if (mounted) spawnSync('umount', [disk]);
    await rm(dir, { recursive: true, force: true });
  }
}
