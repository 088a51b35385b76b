import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LanspreadError } from '../src/shared/errors';
import { generateIdentity } from '../src/main/peer/identity/identity';
import { DataLaneClient } from '../src/main/peer/transport/data-lane/lane-client';
import { DataLaneServer } from '../src/main/peer/transport/data-lane/lane-server';
import { ServedFileReader } from '../src/main/peer/server/served-file-reader';
import { BufferPool } from '../src/main/peer/util/buffer-pool';
import type { BenchFigure } from './figures';
import { measure, median, type Measured } from './support/measure';
import { startTcpFileServer, tcpCopyToDisk } from './support/tcp-baseline';

/**
 * download.lane.* figures: 1 GiB moved through the data lane (a seed process reading a file
 * with the seed's own reader, this process writing chunks at their offsets) against the
 * download suite's plain TCP copy of the same file to disk (bench/support/tcp-baseline), in the
 * same run, on loopback. The seed runs in its own process so sender and receiver do not share
 * an event loop (as between two real peers).
 */

const MIB = 1024 * 1024;
const TOTAL_BYTES = Number(process.env.LANE_BENCH_BYTES ?? 1024 * MIB);
const CHUNK_BYTES = 4 * MIB;
/** How many chunk requests the bench keeps outstanding (2 connections x 4 pipelined). */
const IN_FLIGHT = 8;
/** Pieces are gathered into writes of this size: one pwrite per TLS record would cost more than the copy. */
const WRITE_BYTES = MIB;
const WRITES_AHEAD = 2;
const RUNS = Number(process.env.LANE_BENCH_RUNS ?? 3);
const SEED_ROLE = 'lanspread-data-lane-seed';

interface SeedInfo {
  lanePort: number;
  peerId: string;
}

/** Seed side (child process): serves the file over the lane. */
async function runSeed(file: string): Promise<void> {
  const identity = await generateIdentity();
  const files = new ServedFileReader();
  const lane = new DataLaneServer({
    identity,
    host: '127.0.0.1',
    port: 0,
    handler: async (request) => {
      if (request.type !== 'GetChunk') throw new LanspreadError('UNKNOWN_MESSAGE_TYPE', request.type);
      const checked = await files.check(file, () => Promise.resolve(file));
      return { frame: { type: 'ChunkHeader', length: request.length }, payload: files.read(checked, request.offset, request.length) };
    },
  });
  const { port: lanePort } = await lane.start();
  process.stdout.write(`${JSON.stringify({ lanePort, peerId: identity.peerId } satisfies SeedInfo)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void lane.stop());
}

/** Write buffers are reused, as the downloader's are (a buffer per MiB would cost major GCs). */
const writeBuffers = new BufferPool(WRITE_BYTES, 32);

/**
 * Gathers pieces into WRITE_BYTES buffers and writes each at its file position, with up to
 * WRITES_AHEAD writes outstanding so the socket keeps being read while the disk works.
 */
class PositionalWriter {
  private buffer = writeBuffers.take();
  private filled = 0;
  private position: number;
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly handle: FileHandle,
    start: number,
  ) {
    this.position = start;
  }

  async push(piece: Uint8Array): Promise<void> {
    let at = 0;
    while (at < piece.byteLength) {
      const take = Math.min(piece.byteLength - at, WRITE_BYTES - this.filled);
      this.buffer.set(piece.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === WRITE_BYTES) await this.flush(false);
    }
  }

  async flush(final = true): Promise<void> {
    if (this.filled > 0) {
      const full = this.buffer;
      this.pending.push(writeFully(this.handle, full, this.filled, this.position).finally(() => writeBuffers.give(full)));
      this.position += this.filled;
      this.buffer = writeBuffers.take();
      this.filled = 0;
    }
    while (this.pending.length > (final ? 0 : WRITES_AHEAD - 1)) await this.pending.shift();
    if (final) writeBuffers.give(this.buffer);
  }
}

async function writeFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let written = 0;
  while (written < length) {
    const { bytesWritten } = await handle.write(buffer, written, length - written, position + written);
    written += bytesWritten;
  }
}

async function laneDownload(client: DataLaneClient, seed: SeedInfo, target: string): Promise<void> {
  const handle = await open(target, 'w');
  try {
    const where = { host: '127.0.0.1', dataPort: seed.lanePort, peerId: seed.peerId };
    let next = 0;
    const puller = async () => {
      while (next < TOTAL_BYTES) {
        const offset = next;
        const length = Math.min(CHUNK_BYTES, TOTAL_BYTES - offset);
        next += length;
        const writer = new PositionalWriter(handle, offset);
        await client.fetchChunk(where, { gameId: 'bench', path: 'payload.bin', offset, length }, (piece) => writer.push(piece));
        await writer.flush();
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, puller));
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function makePayload(file: string): Promise<void> {
  const block = Buffer.alloc(MIB);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  const handle = await open(file, 'w');
  try {
    for (let at = 0; at < TOTAL_BYTES; at += MIB) {
      block.writeUInt32LE(at / MIB, 0); // no two blocks alike, so a misplaced block would show
      await handle.write(block, 0, Math.min(MIB, TOTAL_BYTES - at), at);
    }
    // Flushed now, the kernel's writeback of the payload does not land in a measured run.
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const ba = Buffer.allocUnsafe(8 * MIB);
    const bb = Buffer.allocUnsafe(8 * MIB);
    for (let at = 0; at < TOTAL_BYTES; at += ba.length) {
      const [ra, rb] = await Promise.all([ha.read(ba, 0, ba.length, at), hb.read(bb, 0, bb.length, at)]);
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
    }
    return true;
  } finally {
    await Promise.all([ha.close(), hb.close()]);
  }
}

function startSeed(file: string): Promise<{ child: ChildProcess; info: SeedInfo }> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, file], { env: { ...process.env, LANE_BENCH_ROLE: SEED_ROLE }, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`seed exited early (${code})`)));
    child.stdout?.on('data', (data: Buffer) => {
      out += data.toString('utf8');
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve({ child, info: JSON.parse(line) as SeedInfo });
    });
  });
}

export async function runDataLaneBench(): Promise<BenchFigure[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lanspread-lane-bench-'));
  const source = path.join(dir, 'payload.bin');
  const viaTcp = path.join(dir, 'via-tcp.bin');
  const viaLane = path.join(dir, 'via-lane.bin');
  await makePayload(source);
  const { child, info } = await startSeed(source);
  const tcpServer = await startTcpFileServer(source);
  const client = new DataLaneClient({ identity: await generateIdentity(), connectTimeoutMs: 10_000, requestTimeoutMs: 30_000, connectionsPerPeer: 2, maxInFlightPerConnection: 4 });
  try {
    const tcpRuns: Measured[] = [];
    const laneRuns: Measured[] = [];
    // Alternate so drift on the shared machine (page cache, other work) hits both alike.
    for (let i = 0; i < RUNS; i++) {
      await rm(viaTcp, { force: true });
      tcpRuns.push(await measure(() => tcpCopyToDisk(tcpServer.port, viaTcp)));
      await rm(viaLane, { force: true });
      laneRuns.push(await measure(() => laneDownload(client, info, viaLane)));
    }
    if ((await stat(viaLane)).size !== TOTAL_BYTES || !(await sameBytes(source, viaLane))) throw new Error('data lane copy differs from the source');
    if (!(await sameBytes(source, viaTcp))) throw new Error('TCP copy differs from the source');
    const mbps = (run: Measured) => TOTAL_BYTES / 1e6 / run.seconds;
    const lane = median(laneRuns.map(mbps));
    const tcp = median(tcpRuns.map(mbps));
    const laneRss = Math.max(...laneRuns.map((run) => run.peakRssMb));
    const tcpRss = Math.max(...tcpRuns.map((run) => run.peakRssMb));
    const laneLag = median(laneRuns.map((run) => run.lagP99Ms));
    const tcpLag = median(tcpRuns.map((run) => run.lagP99Ms));
    const gib = (TOTAL_BYTES / 1024 / MIB).toFixed(2);
    return [
      { id: 'download.lane.loopback.vs_tcp', value: lane, unit: 'MB/s', baseline: tcp, ratio: lane / tcp, note: `${gib} GiB, median of ${RUNS}, 4 MiB chunks, 2 connections x 4 pipelined, fdatasync at end; baseline plain TCP copy to disk` },
      { id: 'download.lane.loopback.peak_rss', value: laneRss, unit: 'MB', baseline: tcpRss, ratio: laneRss / tcpRss, note: 'downloader process peak RSS; baseline the same process during the TCP copy' },
      { id: 'download.lane.loopback.event_loop_lag_p99', value: laneLag, unit: 'ms', baseline: tcpLag, ratio: laneLag / tcpLag, note: 'downloader main-thread event-loop delay p99' },
    ];
  } finally {
    client.stop();
    child.stdin?.end();
    child.kill();
    tcpServer.child.stdin?.end();
    tcpServer.child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly && process.env.LANE_BENCH_ROLE === SEED_ROLE) {
  await runSeed(process.argv[2] as string);
} else if (invokedDirectly) {
  console.table(await runDataLaneBench());
}
