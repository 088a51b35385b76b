import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { statusMb } from '../../test/support/procfs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface SeedProcess {
  port: number;
  pid: number;
  /** Peak resident set of the seed process so far (VmHWM), in MB. */
  peakRssMb(): Promise<number>;
  stop(): Promise<void>;
}

/** A `lanspread-peer serve` child on loopback sharing `gameDir`, once it printed LANSPREAD_READY. */
export async function startSeedProcess(gameDir: string, stateDir: string): Promise<SeedProcess> {
  // LANSPREAD_BENCH_SEED_NODE_ARGS lets a profiler run inside the seed (e.g. --cpu-prof).
  const nodeArgs = (process.env.LANSPREAD_BENCH_SEED_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(repoRoot, 'bin/lanspread-peer.mjs'), 'serve', '--game-dir', gameDir, '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`seed exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('LANSPREAD_READY ')) resolve((JSON.parse(line.slice(16)) as { port: number }).port);
    });
  });
  return {
    port,
    pid: child.pid ?? 0,
    peakRssMb: async () => statusMb(child.pid ?? 0, 'VmHWM'),
    stop: async () => void (child.kill('SIGTERM'), await new Promise((resolve) => child.once('exit', resolve))),
  };
}
