import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateGame } from '../src/main/peer/demo/generate-game';
import { generateIdentity } from '../src/main/peer/identity/identity';
import { bundledCatalogPath, loadCatalog } from '../src/main/peer/library/catalog';
import { startPeer } from '../src/main/peer/runtime';
import { silentLogger } from '../src/main/peer/util/logger';
import type { BenchFigure } from './figures';
import { measure, median, type Measured } from './support/measure';
import { startSeedProcess } from './support/seed-process';
import { startTcpFileServer, tcpCopyToDisk, type CopyTls } from './support/tcp-baseline';
import { crc32Update } from '../src/main/peer/util/crc32';

/**
 * download.loopback.*: the whole product path — a seed CLI process, a player runtime in this
 * process, QUIC control + TLS data lane, scheduler, CRC checks, journal, whole-file check and
 * fdatasync — downloading a 2 GiB game, against a plain TCP copy of the same archive to disk.
 *
 * Twice: into a new file (what a player's first download does), and over a same-sized file
 * whose pages are already in the page cache. This VM hands freed memory back to its host two
 * seconds after it is freed (virtio-balloon free page reporting), and the first write to such
 * a page pays the host's fault: about 0.75 s more system time per GiB (machine.fresh_pages).
 * A copy that ends within those two seconds reuses the pages the previous run freed; a slower
 * one pays for most of its pages, so the new-file ratio depends on the VM's memory policy as
 * much as on the download. The resident run takes page allocation out of both sides.
 *
 * A third copy in each run, the floor: the TCP copy's technique over TLS 1.3 with a CRC32 of
 * every byte. That is the least work the issue asks of any download (a TLS lane, every chunk's
 * CRC checked), done with Node's TLS and CRC and nothing else, so `floor.vs_tcp` is about the
 * best ratio a download in this Node can reach on this machine, and `vs_floor` says how much of
 * it the product path keeps.
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
  const identity = await generateIdentity();
  const tlsKeys: CopyTls = { keyPem: identity.keyPem, certPem: identity.certPem };
  const tls = await startTcpFileServer(archive, tlsKeys);
  const catalog = await loadCatalog(bundledCatalogPath());
  try {
    // The generator's 2 GiB are still dirty in the page cache: flushed now, the kernel's
    // writeback of them does not land in the middle of a measured run.
    await flushToDisk(archive);
    const archiveCrc = await crcOfFile(archive);
    const copy = path.join(dir, 'tcp-copy.bin');
    const playerArchive = (run: string) => path.join(dir, `player-${run}`, 'games', path.relative(seedGames, archive));
    const tcpRun = async (resident: boolean) => {
      await rm(copy, { force: true });
      if (resident) await writeZeros(copy, archiveBytes);
      const measured = await measure(() => tcpCopyToDisk(tcp.port, copy, { overwrite: resident }));
      await rm(copy, { force: true });
      return measured;
    };
    // The floor must have moved the real bytes: its CRC is the archive's.
    const floorRun = async (resident: boolean) => {
      await rm(copy, { force: true });
      if (resident) await writeZeros(copy, archiveBytes);
      let crc = -1;
      const measured = await measure(async () => (crc = await tcpCopyToDisk(tls.port, copy, { overwrite: resident, tls: tlsKeys })));
      await rm(copy, { force: true });
      if (crc !== archiveCrc) throw new Error('the TLS floor copy differs from the archive');
      return measured;
    };
    const peerRun = async (run: string, resident: boolean) => {
      if (resident) await writeZeros(playerArchive(run), archiveBytes);
      return downloadOnce(path.join(dir, `player-${run}`), seed.port, catalog);
    };
    // One unmeasured pair warms both paths up (JIT, first use of the page cache).
    await tcpRun(false);
    await floorRun(false);
    await peerRun('warm-up', false);
    const fresh = await rotate({ tcp: () => tcpRun(false), floor: () => floorRun(false), peer: (run) => peerRun(`${run}`, false) });
    const resident = await rotate({ tcp: () => tcpRun(true), floor: () => floorRun(true), peer: (run) => peerRun(`resident-${run}`, true) });
    const mbps = (m: Measured) => archiveBytes / 1e6 / m.seconds;
    const speed = (runs: Measured[]) => median(runs.map(mbps));
    const versus = (value: Measured[], baseline: Measured[]) => ({ value: speed(value), unit: 'MB/s', baseline: speed(baseline), ratio: speed(value) / speed(baseline) });
    const freshSpeed = versus(fresh.peer, fresh.tcp);
    const residentSpeed = versus(resident.peer, resident.tcp);
    const all = [...fresh.peer, ...resident.peer];
    const rss = Math.max(...all.map((m) => m.peakRssMb));
    const lag = median(all.map((m) => m.lagP99Ms));
    const cpu = median(fresh.peer.map((m) => m.cpuSeconds));
    const tcpCpu = median(fresh.tcp.map((m) => m.cpuSeconds));
    const residentCpu = median(resident.peer.map((m) => m.cpuSeconds));
    const residentTcpCpu = median(resident.tcp.map((m) => m.cpuSeconds));
    const size = `${(archiveBytes / 1024 ** 3).toFixed(2)} GiB`;
    return [
      { id: 'download.loopback.vs_tcp', ...freshSpeed, note: `${size} game into a new file, 1 seed process, full runtime path, median of ${RUNS} after a warm-up round, order rotating; baseline plain TCP copy to disk` },
      { id: 'download.loopback.resident.vs_tcp', ...residentSpeed, note: `the same, both writing over a same-sized file already in the page cache: no fresh pages, whose cost on this VM depends on how long ago they were freed (see machine.fresh_pages)` },
      { id: 'download.loopback.floor.vs_tcp', ...versus(fresh.floor, fresh.tcp), note: 'the floor: the TCP copy over TLS 1.3 with a CRC32 of every byte, the least work the issue asks of a download, with nothing else around it' },
      { id: 'download.loopback.resident.floor.vs_tcp', ...versus(resident.floor, resident.tcp), note: 'the floor over a resident file' },
      { id: 'download.loopback.vs_floor', ...versus(fresh.peer, fresh.floor), note: 'the download against the floor, new file: how much of the reachable speed the product path keeps' },
      { id: 'download.loopback.resident.vs_floor', ...versus(resident.peer, resident.floor), note: 'the same over a resident file' },
      { id: 'download.loopback.peak_rss', value: rss, unit: 'MB', baseline: 250, ratio: rss / 250, note: 'downloader process peak RSS, all runs; baseline is the 250 MB budget' },
      { id: 'download.loopback.event_loop_lag_p99', value: lag, unit: 'ms', baseline: 50, ratio: lag / 50, note: 'downloader main-thread event-loop delay p99, median of all runs; baseline is the 50 ms budget' },
      { id: 'download.loopback.cpu_seconds', value: cpu, unit: 's', baseline: tcpCpu, ratio: cpu / tcpCpu, note: 'downloader process CPU time, new file; baseline the TCP copy' },
      { id: 'download.loopback.resident.cpu_seconds', value: residentCpu, unit: 's', baseline: residentTcpCpu, ratio: residentCpu / residentTcpCpu, note: 'downloader process CPU time over a resident file; baseline the TCP copy' },
    ];
  } finally {
    for (const server of [tcp, tls]) {
      server.child.stdin?.end();
      server.child.kill();
    }
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

interface Round {
  tcp: Measured[];
  floor: Measured[];
  peer: Measured[];
}

/**
 * RUNS measured rounds of the three copies, the order rotating each round, so that none
 * always runs on the memory another just freed.
 */
async function rotate(runs: { tcp: () => Promise<Measured>; floor: () => Promise<Measured>; peer: (run: number) => Promise<Measured> }): Promise<Round> {
  const round: Round = { tcp: [], floor: [], peer: [] };
  const order: Array<keyof Round> = ['tcp', 'floor', 'peer'];
  for (let run = 0; run < RUNS; run++) {
    for (let step = 0; step < order.length; step++) {
      const which = order[(run + step) % order.length] as keyof Round;
      round[which].push(await (which === 'peer' ? runs.peer(run) : runs[which]()));
    }
  }
  return round;
}

/** A file of `bytes` zeros, flushed: its pages stay in the page cache, clean, for a run to write over. */
async function writeZeros(file: string, bytes: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const zeros = Buffer.alloc(1024 * 1024);
  const handle = await open(file, 'w');
  try {
    for (let position = 0; position < bytes; position += zeros.byteLength) await handle.write(zeros, 0, Math.min(zeros.byteLength, bytes - position), position);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function crcOfFile(file: string): Promise<number> {
  const handle = await open(file, 'r');
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  let crc = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) return crc;
      crc = crc32Update(buffer.subarray(0, bytesRead), crc);
    }
  } finally {
    await handle.close();
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
