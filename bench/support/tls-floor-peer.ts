/**
 * One peer of the swarm floor (tls-floor-crowd.ts): the least work a room of Node peers does to
 * spread a game over TLS, with nothing around it. Run as a script, one per namespace:
 *
 *   node --import tsx bench/support/tls-floor-peer.ts CONFIG.json
 *
 * The plan is fixed and perfect (no discovery, no requests, no scheduling, no repeats): chunk c
 * of the game belongs to player c mod N; the seed sends each player its chunks, and each player
 * passes every chunk it gets from the seed on to every other player as soon as it has verified
 * it. So the seed uploads the game once, every player uploads (N - 1) / N of it and downloads
 * all of it. Each received chunk is hashed (SHA-256, like a manifest's chunk hash) and written
 * at its offset; frames are a 4-byte chunk index and the chunk's bytes.
 *
 * Protocol with the harness on stdio: the peer prints `ready` once it listens (and, the seed,
 * once it has the file open), waits for a `go` line, and prints `done {json}` with the CPU
 * seconds it used since `go` (every thread of the process; and of those, the kernel's) when its
 * part is over.
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { connect, createServer, type TLSSocket } from 'node:tls';

export interface FloorPeerConfig {
  role: 'seed' | 'player';
  /** Players are 0 … n - 1. */
  index: number;
  n: number;
  size: number;
  chunkBytes: number;
  /** The seed's game file, or where a player writes it. */
  file: string;
  port: number;
  /** Every player's address, by index. */
  players: string[];
  keyFile: string;
  certFile: string;
}

const HEADER_BYTES = 4;

async function main(): Promise<void> {
  const config = JSON.parse(await readFile(process.argv[2] as string, 'utf8')) as FloorPeerConfig;
  const tls = { key: await readFile(config.keyFile), cert: await readFile(config.certFile), minVersion: 'TLSv1.3' as const, maxVersion: 'TLSv1.3' as const };
  const chunks = Math.ceil(config.size / config.chunkBytes);
  const lengthOf = (chunk: number) => Math.min(config.chunkBytes, config.size - chunk * config.chunkBytes);
  const file = await open(config.file, config.role === 'seed' ? 'r' : 'w');
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.on('line', (line) => line.trim() === 'go' && resolve()));

  const dial = (player: number) =>
    new Promise<TLSSocket>((resolve, reject) => {
      const socket = connect({ host: config.players[player], port: config.port, rejectUnauthorized: false, ...tls }, () => resolve(socket));
      socket.once('error', reject);
      socket.setNoDelay(true);
    });
  const send = (socket: TLSSocket, chunk: number, bytes: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeUInt32BE(chunk);
      socket.write(header);
      if (socket.write(bytes)) resolve();
      else socket.once('drain', resolve).once('error', reject);
    });
  const finish = async (cpuAtGo: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(cpuAtGo);
    process.stdout.write(`done ${JSON.stringify({ cpuSeconds: (used.user + used.system) / 1e6, systemSeconds: used.system / 1e6 })}\n`);
    await file.close();
    process.exit(0);
  };

  if (config.role === 'seed') {
    process.stdout.write('ready\n');
    await go;
    const cpuAtGo = process.cpuUsage();
    // Each player's chunks go out on its own connection, all at once.
    await Promise.all(
      config.players.map(async (_, player) => {
        const socket = await dial(player);
        for (let chunk = player; chunk < chunks; chunk += config.n) {
          const bytes = Buffer.allocUnsafe(lengthOf(chunk));
          await file.read(bytes, 0, bytes.byteLength, chunk * config.chunkBytes);
          await send(socket, chunk, bytes);
        }
        await new Promise<void>((resolve) => socket.end(resolve));
      }),
    );
    return finish(cpuAtGo);
  }

  let received = 0;
  let reachOthers = (_sockets: TLSSocket[]) => {};
  const othersReady = new Promise<TLSSocket[]>((resolve) => (reachOthers = resolve));
  const forwards: Promise<unknown>[] = [];
  let onComplete = () => {};
  const complete = new Promise<void>((resolve) => (onComplete = resolve));
  const server = createServer({ ...tls, requestCert: false }, (socket) => {
    // Pieces are joined once per frame (not on every 16 KiB record).
    let pieces: Buffer[] = [];
    let buffered = 0;
    socket.on('data', (piece: Buffer) => {
      pieces.push(piece);
      buffered += piece.byteLength;
      for (;;) {
        if (buffered < HEADER_BYTES) return;
        const head = pieces[0] as Buffer;
        const chunk = (head.byteLength >= HEADER_BYTES ? head : Buffer.concat(pieces)).readUInt32BE(0);
        const length = lengthOf(chunk);
        if (buffered < HEADER_BYTES + length) return;
        const joined = pieces.length === 1 ? head : Buffer.concat(pieces, buffered);
        const bytes = joined.subarray(HEADER_BYTES, HEADER_BYTES + length);
        const rest = joined.subarray(HEADER_BYTES + length);
        pieces = rest.byteLength > 0 ? [rest] : [];
        buffered = rest.byteLength;
        createHash('sha256').update(bytes).digest();
        forwards.push(file.write(bytes, 0, length, chunk * config.chunkBytes));
        // A chunk of ours from the seed: passed on to every other player once it is checked.
        if (chunk % config.n === config.index) forwards.push(othersReady.then((others) => Promise.all(others.map((other) => send(other, chunk, bytes)))));
        received += length;
        if (received === config.size) onComplete();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(config.port, '0.0.0.0', resolve));
  process.stdout.write('ready\n');
  await go;
  const cpuAtGo = process.cpuUsage();
  const others = await Promise.all(config.players.map((_, player) => player).filter((player) => player !== config.index).map(dial));
  reachOthers(others);
  await complete;
  await Promise.all(forwards);
  await Promise.all(others.map((socket) => new Promise<void>((resolve) => socket.end(resolve))));
  return finish(cpuAtGo);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
