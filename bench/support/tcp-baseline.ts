import { spawn, type ChildProcess } from 'node:child_process';
import { open, type FileHandle } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { crc32Update } from '../../src/main/peer/util/crc32';

/**
 * The baseline every download figure is compared with: the same bytes sent by another process
 * over plain TCP on loopback and written to disk (fdatasync at the end), as fast as Node can,
 * with the best technique at each end: no garbage per MiB, reads overlapping writes.
 *
 * The same copy also runs over TLS 1.3 (the data lane's version, client certificate asked
 * for) with a CRC32 of every byte on the receiving thread: the least work any download that
 * meets the issue does (a TLS lane, each chunk's CRC checked before it counts), with Node's TLS
 * and CRC; no protocol, no scheduler, no read-back. The real download is not expected to beat it.
 *
 * The sender: two 1 MiB buffers take turns, the next piece is read while the socket sends the
 * current one, and a buffer is reused once its write completed (the seed's technique).
 */
const SERVER = `
const net = require('node:net'); const tls = require('node:tls'); const fs = require('node:fs/promises');
const [file, key, cert] = process.argv.slice(1);
const send = (socket, data) => new Promise((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
const serve = async (socket) => {
  const handle = await fs.open(file, 'r');
  const buffers = [Buffer.allocUnsafeSlow(1 << 20), Buffer.allocUnsafeSlow(1 << 20)];
  let position = 0, turn = 0;
  let reading = handle.read(buffers[0], 0, 1 << 20, 0);
  try {
    for (;;) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      position += bytesRead;
      turn ^= 1;
      reading = handle.read(buffers[turn], 0, 1 << 20, position);
      await send(socket, buffer.subarray(0, bytesRead));
    }
    socket.end();
  } finally {
    await handle.close();
  }
};
const onConnection = (socket) => {
  socket.on('error', () => {});
  serve(socket).catch(() => socket.destroy());
};
const server = key
  ? tls.createServer({ key, cert, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: false }, onConnection)
  : net.createServer(onConnection);
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.resume(); process.stdin.on('end', () => process.exit(0));
`;

/** Key and certificate for the TLS variant (any self-signed pair: the copy checks no pin). */
export interface CopyTls {
  keyPem: string;
  certPem: string;
}

/** Serves `file` to every connection: over plain TCP, or over TLS 1.3 when `tls` is given. */
export async function startTcpFileServer(file: string, tls?: CopyTls): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER, file, ...(tls ? [tls.keyPem, tls.certPem] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${tls ? 'TLS' : 'TCP'} baseline server exited (${code})`)));
    child.stdout!.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
  });
  return { port, child };
}

export interface CopyOptions {
  /**
   * Write over an existing file of the same size instead of truncating it, so its page-cache
   * pages are reused rather than freshly allocated (as a download does over a file that is
   * already there).
   */
  overwrite?: boolean;
  /** Connect with TLS (to a server started with `tls`) and CRC every batch before writing it. */
  tls?: CopyTls;
}

/**
 * The strongest plain copy Node offers: the socket reads straight into 1 MiB batches (its
 * `onread` option: no user-space copy, no Buffer per read; over TLS, records are decrypted
 * straight into them), two batches take turns, a full one is written while the other fills
 * (two writes in flight at most, like the downloader), and reading pauses only while the batch
 * it would fill next is still being written. Resolves with the CRC32 of what it received over
 * TLS (0 over plain TCP), so a caller can check the copy.
 */
export async function tcpCopyToDisk(port: number, target: string, { overwrite = false, tls }: CopyOptions = {}): Promise<number> {
  const handle = await open(target, overwrite ? 'r+' : 'w');
  let crc = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const batches = [Buffer.allocUnsafeSlow(BATCH), Buffer.allocUnsafeSlow(BATCH)];
      const writes: Array<Promise<void> | null> = [null, null];
      let batch = 0;
      let filled = 0;
      let position = 0;
      const fail = (error: unknown) => {
        socket.destroy();
        reject(error);
      };
      const flush = () => {
        const index = batch;
        const data = (batches[index] as Buffer).subarray(0, filled);
        if (tls) crc = crc32Update(data, crc);
        writes[index] = writeFully(handle, data, position).then(() => {
          writes[index] = null;
          if (index === batch && socket.isPaused()) socket.resume();
        }, fail);
        position += filled;
        filled = 0;
        batch ^= 1;
        if (writes[batch]) socket.pause();
      };
      const onread = {
        buffer: () => (batches[batch] as Buffer).subarray(filled),
        callback: (bytes: number) => {
          filled += bytes;
          if (filled === BATCH) flush();
          return true;
        },
      };
      const socket = tls
        ? // Node's TLS socket takes `onread` too; its typings only declare it for net.
          connectTls({ host: '127.0.0.1', port, key: tls.keyPem, cert: tls.certPem, rejectUnauthorized: false, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ...({ onread } as object) })
        : connectTcp({ host: '127.0.0.1', port, onread });
      socket.on('error', fail);
      socket.on('end', () => {
        if (filled > 0) flush();
        Promise.all(writes).then(() => resolve(), fail);
      });
    });
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return crc;
}

async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.byteLength; ) done += (await handle.write(data, done, data.byteLength - done, position + done)).bytesWritten;
}

const BATCH = 1024 * 1024;
