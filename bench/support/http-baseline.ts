/**
 * The plain-HTTP baseline of a single link: Debian's nginx serving a folder in one namespace,
 * curl fetching one file into another. sendfile on, one worker: the cheapest server there is.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { killAndWait, type NetnsHarness } from '../../test/support/netns';

const PORT = 8080;

export interface HttpServer {
  /** URL of `relativePath` under the served folder. */
  url(relativePath: string): string;
  stop(): Promise<void>;
}

export async function startNginx(net: NetnsHarness, ns: string, address: string, root: string, dir: string): Promise<HttpServer> {
  await mkdir(dir, { recursive: true });
  const config = path.join(dir, 'nginx.conf');
  // Workers run as root: the served folder is inside a 0700 temp dir.
  await writeFile(
    config,
    `user root;
worker_processes 1;
daemon off;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${path.join(dir, 'body')};
  server {
    listen ${address}:${PORT};
    root ${root};
  }
}
`,
  );
  const child = net.run(ns, 'nginx', ['-c', config, '-p', dir]);
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => (stderr += data));
  const deadline = Date.now() + 20_000;
  while (spawnSync('ip', ['netns', 'exec', ns, 'curl', '-s', '-o', '/dev/null', '--max-time', '2', `http://${address}:${PORT}/`]).status !== 0) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await killAndWait(child);
      throw new Error(`nginx did not start in ${ns}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: (relativePath) => `http://${address}:${PORT}/${relativePath.split(path.sep).map(encodeURIComponent).join('/')}`,
    stop: () => killAndWait(child),
  };
}

/** Seconds for curl in `ns` to fetch `url` into `target` (process start to exit). */
export async function curlDownload(ns: string, url: string, target: string): Promise<number> {
  await rm(target, { force: true });
  const start = performance.now();
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'curl', '-sS', '--fail', '--max-time', '600', '-o', target, url], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => (stderr += data));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`curl ${url} failed (${code}): ${stderr}`);
  return (performance.now() - start) / 1000;
}
