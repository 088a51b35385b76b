import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateGame, type GeneratedGame } from '../../src/main/peer/demo/generate-game';
import { startPeer, type PeerConfig, type PeerRuntime } from '../../src/main/peer/runtime';
import { silentLogger } from '../../src/main/peer/util/logger';
import { testCatalog } from './test-catalog';

export { makeWorkDir } from './temp-dir';
export { catalogEntry, testCatalog } from './test-catalog';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Liveness fast enough for tests: a dead peer is pruned in about 3 s. */
export const FAST_PEER_TIMINGS = { pingIntervalMs: 500, pingTimeoutMs: 1_000, pruneAfterMs: 2_500, manualRetryMs: 500, requestTimeoutMs: 10_000 };

export interface GameSpec {
  id: string;
  version: string;
  files?: { path: string; size: number }[];
  seed?: number;
  /** Split the archive into volumes of about this many bytes. */
  volumeSize?: number;
}

export interface TestPeer {
  runtime: PeerRuntime;
  gameDir: string;
  stateDir: string;
  games: Map<string, GeneratedGame>;
  stop(): Promise<void>;
}

export async function seedGames(gameDir: string, specs: GameSpec[]): Promise<Map<string, GeneratedGame>> {
  await mkdir(gameDir, { recursive: true });
  const games = new Map<string, GeneratedGame>();
  for (const spec of specs) {
    const files = spec.files ?? [{ path: 'bin/game.bin', size: 200_000 }, { path: 'data/level1.pak', size: 300_000 }];
    games.set(spec.id, await generateGame({ gameDir, gameId: spec.id, version: spec.version, files, seed: spec.seed ?? 1, ...(spec.volumeSize ? { volumeSize: spec.volumeSize } : {}) }));
  }
  return games;
}

/** An in-process peer on loopback with its own game and state directories under `baseDir`. */
export async function startTestPeer(baseDir: string, name: string, options: { games?: GameSpec[]; catalogIds: string[] } & Partial<PeerConfig>): Promise<TestPeer> {
  const gameDir = path.join(baseDir, name, 'games');
  const stateDir = path.join(baseDir, name, 'state');
  const games = await seedGames(gameDir, options.games ?? []);
  const { games: _games, catalogIds, ...config } = options;
  const runtime = await startPeer({
    stateDir,
    gameDir,
    displayName: name,
    catalog: testCatalog(catalogIds),
    host: '127.0.0.1',
    mdns: { enabled: false },
    timings: FAST_PEER_TIMINGS,
    chunkSize: 64 * 1024,
    libraryDebounceMs: 50,
    logger: silentLogger,
    ...config,
  });
  return { runtime, gameDir, stateDir, games, stop: () => runtime.stop() };
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface CliPeer {
  child: ChildProcess;
  peerId: string;
  port: number;
  output: string[];
  exited: Promise<number | null>;
}

/** Test teardown: SIGKILLs every CLI peer still running (emptying the list) and waits for each to exit. */
export async function killCliPeers(children: CliPeer[]): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
    await child.exited;
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a `lanspread-peer` command (from source) to its end: its exit code and output. */
export function runCliToEnd(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), ...args], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface SpawnCliOptions {
  /** A command the peer runs under, e.g. `ip netns exec NS`. */
  wrap?: string[];
  /** Node options before the entry point (a profiler, a preload). */
  nodeArgs?: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

/** Starts `lanspread-peer <args>` (from source) and waits for its LANSPREAD_READY line. */
export async function spawnCliPeer(args: string[], options: SpawnCliOptions = {}): Promise<CliPeer> {
  // serve refuses a game folder that does not exist, as Settings does: the tests' peers get theirs made.
  const gameDirAt = args.indexOf('--game-dir');
  if (args[0] === 'serve' && gameDirAt > 0 && args[gameDirAt + 1] !== undefined) await mkdir(args[gameDirAt + 1] as string, { recursive: true });
  const command = [process.execPath, ...(options.nodeArgs ?? []), path.join(repoRoot, 'bin/lanspread-peer.mjs'), ...args];
  const [file, ...rest] = options.wrap ? [...options.wrap, ...command] : command;
  const env = options.env ? { ...process.env, ...options.env } : process.env;
  const child = spawn(file as string, rest, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const ready = await new Promise<{ peerId: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI peer did not start:\n${output.join('\n')}`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (line.startsWith('LANSPREAD_READY ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice('LANSPREAD_READY '.length)) as { peerId: string; port: number });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`CLI peer exited with ${code}:\n${output.join('\n')}`));
    });
  });
  return { child, ...ready, output, exited };
}
