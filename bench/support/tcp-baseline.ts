import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';
import { pipeline } from 'node:stream/promises';

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

export async function tcpCopyToDisk(port: number, target: string): Promise<void> {
  await pipeline(connect({ host: '127.0.0.1', port }), createWriteStream(target, { highWaterMark: 1 << 20 }));
  const handle = await open(target, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
