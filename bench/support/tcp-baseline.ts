import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';

/**
 * The baseline every download figure is compared with: the same bytes sent by another process
 * over plain TCP on loopback and written to disk (fdatasync at the end), as fast as Node can.
 */
const SERVER = `
const net = require('node:net'); const fs = require('node:fs');
const file = process.argv[1];
const server = net.createServer((socket) => fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(socket));
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.resume(); process.stdin.on('end', () => process.exit(0));
`;

export async function startTcpFileServer(file: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`TCP baseline server exited (${code})`)));
    child.stdout!.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
  });
  return { port, child };
}

/** Gathers socket pieces into 1 MiB writes with up to two in flight: the same technique the downloader uses. */
export async function tcpCopyToDisk(port: number, target: string): Promise<void> {
  const handle = await open(target, 'w');
  try {
    let batch = Buffer.allocUnsafe(BATCH);
    let filled = 0;
    let position = 0;
    const pending: Promise<unknown>[] = [];
    const flush = async () => {
      if (filled === 0) return;
      pending.push(handle.write(batch, 0, filled, position));
      position += filled;
      batch = Buffer.allocUnsafe(BATCH);
      filled = 0;
      while (pending.length > 1) await pending.shift();
    };
    for await (const piece of connect({ host: '127.0.0.1', port }) as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < piece.byteLength) {
        const take = Math.min(piece.byteLength - at, BATCH - filled);
        piece.copy(batch, filled, at, at + take);
        filled += take;
        at += take;
        if (filled === BATCH) await flush();
      }
    }
    await flush();
    await Promise.all(pending);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

const BATCH = 1024 * 1024;
