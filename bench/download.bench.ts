import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateGame } from '../src/main/peer/demo/generate-game';
import { bundledCatalogPath, loadCatalog } from '../src/main/peer/library/catalog';
import { startPeer } from '../src/main/peer/runtime';
import { silentLogger } from '../src/main/peer/util/logger';
import type { BenchFigure } from './figures';
import { measure, median, type Measured } from './support/measure';
import { startSeedProcess } from './support/seed-process';
import { startTcpFileServer, tcpCopyToDisk } from './support/tcp-baseline';

/**
 * download.loopback.*: the whole product path — a seed CLI process, a player runtime in this
 * process, QUIC control + TLS data lane, scheduler, CRC checks, journal, whole-file check and
 * fdatasync — downloading a 2 GiB game, against a plain TCP copy of the same archive to disk.
 */
const GAME_BYTES = Number(process.env.LANSPREAD_BENCH_GAME_BYTES ?? 2 * 1024 ** 3);
const RUNS = Number(process.env.LANSPREAD_BENCH_RUNS ?? 5);
const GAME_ID = 'demo-arena';

export async function runDownloadBench(): Promise<BenchFigure[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lanspread-download-bench-'));
  const seedGames = path.join(dir, 'seed', 'games');
  const game = await generateGame({ gameDir: seedGames, gameId: GAME_ID, version: '1.0', files: [{ path: 'data/game.bin', size: GAME_BYTES }], seed: 3 });
  const archive = game.archives[0] as string;
  const archiveBytes = (await stat(archive)).size;
  const seed = await startSeedProcess(seedGames, path.join(dir, 'seed', 'state'));
  const tcp = await startTcpFileServer(archive);
  const catalog = await loadCatalog(bundledCatalogPath());
  try {
    // The generator's 2 GiB are still dirty in the page cache: flushed now, the kernel's
    // writeback of them does not land in the middle of a measured run.
    await flushToDisk(archive);
    const tcpRuns: Measured[] = [];
    const peerRuns: Measured[] = [];
    const copy = path.join(dir, 'tcp-copy.bin');
    const tcpRun = async () => {
      await rm(copy, { force: true });
      const measured = await measure(() => tcpCopyToDisk(tcp.port, copy));
      await rm(copy, { force: true });
      return measured;
    };
    const peerRun = (run: number) => downloadOnce(path.join(dir, `player${run}`), seed.port, catalog);
    // One unmeasured pair warms both paths up (JIT, first use of the page cache); then the
    // order alternates, so neither side always runs on the memory the other just freed.
    await tcpRun();
    await peerRun(-1);
    for (let run = 0; run < RUNS; run++) {
      if (run % 2 === 0) {
        tcpRuns.push(await tcpRun());
        peerRuns.push(await peerRun(run));
      } else {
        peerRuns.push(await peerRun(run));
        tcpRuns.push(await tcpRun());
      }
    }
    const mbps = (m: Measured) => archiveBytes / 1e6 / m.seconds;
    const value = median(peerRuns.map(mbps));
    const baseline = median(tcpRuns.map(mbps));
    const rss = Math.max(...peerRuns.map((m) => m.peakRssMb));
    const lag = median(peerRuns.map((m) => m.lagP99Ms));
    const cpu = median(peerRuns.map((m) => m.cpuSeconds));
    const tcpCpu = median(tcpRuns.map((m) => m.cpuSeconds));
    const size = `${(archiveBytes / 1024 ** 3).toFixed(2)} GiB`;
    return [
      { id: 'download.loopback.vs_tcp', value, unit: 'MB/s', baseline, ratio: value / baseline, note: `${size} game, 1 seed process, full runtime path, median of ${RUNS} after a warm-up pair, order alternating; baseline plain TCP copy to disk` },
      { id: 'download.loopback.peak_rss', value: rss, unit: 'MB', baseline: 250, ratio: rss / 250, note: 'downloader process peak RSS; baseline is the 250 MB budget' },
      { id: 'download.loopback.event_loop_lag_p99', value: lag, unit: 'ms', baseline: 50, ratio: lag / 50, note: 'downloader main-thread event-loop delay p99; baseline is the 50 ms budget' },
      { id: 'download.loopback.cpu_seconds', value: cpu, unit: 's', baseline: tcpCpu, ratio: cpu / tcpCpu, note: 'downloader process CPU time; baseline the TCP copy' },
    ];
  } finally {
    tcp.child.stdin?.end();
    tcp.child.kill();
    await seed.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A fresh player runtime downloads the game from the seed; its directory is removed afterwards. */
async function downloadOnce(playerDir: string, seedPort: number, catalog: Awaited<ReturnType<typeof loadCatalog>>): Promise<Measured> {
  await mkdir(path.join(playerDir, 'games'), { recursive: true });
  const player = await startPeer({ stateDir: path.join(playerDir, 'state'), gameDir: path.join(playerDir, 'games'), displayName: 'bench', catalog, host: '127.0.0.1', mdns: { enabled: false }, manualPeers: [`127.0.0.1:${seedPort}`], logger: silentLogger });
  try {
    while (!player.remoteGames().has(GAME_ID)) await new Promise((resolve) => setTimeout(resolve, 50));
    return await measure(async () => void (await player.download(GAME_ID, { install: false })));
  } finally {
    await player.stop();
    await rm(playerDir, { recursive: true, force: true });
  }
}

async function flushToDisk(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
