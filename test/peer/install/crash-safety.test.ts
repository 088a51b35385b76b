import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateGame } from '../../../src/main/peer/demo/generate-game';
import type { GeneratedFile } from '../../../src/main/peer/demo/generate-game';
import { InstallService } from '../../../src/main/peer/install/install-service';
import type { CheckpointName } from '../../../src/main/peer/install/transaction-context';
import { OperationRegistry } from '../../../src/main/peer/operations/operation-registry';
import { WorkerUnpacker } from '../../../src/main/peer/unpack/worker-unpacker';
import { fileCrc, listTree, makeTempDir, repoRoot } from '../../support/install-helpers';

/**
 * Crash safety: a child process runs install, update or uninstall and is SIGKILLed at a named
 * transaction step or at a random point of the extraction; then recovery runs and the
 * invariants are checked: local/ is the complete old or the complete new version, no reserved
 * directory of ours remains, a player's unmarked folder survives, the intent is cleared.
 */

const GAME = 'crashgame';
const CHILD = path.join(repoRoot, 'test/support/install-crash-child.ts');
const PLAYER_FILE = 'my-notes.txt';

const INSTALL_POINTS: CheckpointName[] = [
  'intent-preparing', 'staging-created', 'staging-marked', 'extracted', 'intent-promoting', 'promoted',
  'marker-removed', 'installed-recorded', 'intent-cleared',
];
const UPDATE_POINTS: CheckpointName[] = [
  'intent-preparing', 'staging-created', 'staging-marked', 'extracted', 'intent-swapping', 'local-marked', 'old-parked',
  'new-promoted', 'intent-cleanup', 'backup-removed', 'marker-removed', 'installed-recorded', 'intent-cleared',
];
const UNINSTALL_POINTS: CheckpointName[] = [
  'intent-renaming', 'uninstall-marked', 'uninstall-renamed', 'intent-deleting', 'uninstall-deleted', 'installed-cleared', 'intent-cleared',
];
/** Fractions of the archive's bytes at which to kill during extraction. */
const RANDOM_KILLS = 4;

let work: { dir: string; cleanup: () => Promise<void> };
let v1: GeneratedFile[];
let v2: GeneratedFile[];
let totalV2 = 0;
let totalV1 = 0;
let caseNo = 0;
const randomFractions = Array.from({ length: RANDOM_KILLS }, () => 0.05 + Math.random() * 0.9);

const FILES = [
  { path: 'bin/game.bin', size: 6 * 1024 * 1024 },
  { path: 'data/level1.pak', size: 3 * 1024 * 1024 },
  { path: 'data/empty.cfg', size: 0 },
  { path: 'readme.txt', size: 1234 },
];

beforeAll(async () => {
  work = await makeTempDir('crash');
  // Template "fresh": v1 downloaded, not installed, and a player's own unmarked .local.backup.
  const fresh = path.join(work.dir, 'tpl-fresh');
  v1 = (await generateGame({ gameDir: path.join(fresh, 'games'), gameId: GAME, version: '1', seed: 11, volumeSize: 2 * 1024 * 1024, files: FILES })).files;
  await mkdir(path.join(fresh, 'games', GAME, '.local.backup'), { recursive: true });
  await writeFile(path.join(fresh, 'games', GAME, '.local.backup', PLAYER_FILE), 'mine');
  // Template "installed": v1 installed (through the real service), v2 downloaded.
  const installed = path.join(work.dir, 'tpl-installed');
  await generateGame({ gameDir: path.join(installed, 'games'), gameId: GAME, version: '1', seed: 11, volumeSize: 2 * 1024 * 1024, files: FILES });
  await service(installed).install(GAME);
  const root = path.join(installed, 'games', GAME);
  const staging = path.join(work.dir, 'tpl-v2');
  v2 = (await generateGame({ gameDir: staging, gameId: GAME, version: '2', seed: 22, volumeSize: 2 * 1024 * 1024, files: FILES })).files;
  for (const name of await listTree(root)) {
    if (name.endsWith('.rar') || name === 'version.ini') await rename(path.join(root, name), path.join(work.dir, `old-${name}`));
  }
  for (const name of await listTree(path.join(staging, GAME))) await rename(path.join(staging, GAME, name), path.join(root, name));
  totalV1 = v1.reduce((sum, f) => sum + f.size, 0);
  totalV2 = v2.reduce((sum, f) => sum + f.size, 0);
}, 120_000);

afterAll(async () => {
  await work?.cleanup();
});

function service(base: string): InstallService {
  return new InstallService({
    gameDir: path.join(base, 'games'),
    stateDir: path.join(base, 'state'),
    unpacker: new WorkerUnpacker(),
    operations: new OperationRegistry(),
  });
}

async function copyTemplate(name: 'tpl-fresh' | 'tpl-installed'): Promise<string> {
  caseNo += 1;
  const base = path.join(work.dir, `case-${caseNo}`);
  await cp(path.join(work.dir, name), base, { recursive: true });
  return base;
}

function runChild(operation: string, base: string, env: Record<string, string>): Promise<{ signal: NodeJS.Signals | null; code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, operation, path.join(base, 'games'), path.join(base, 'state'), GAME], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

/** 'v1', 'v2' or 'absent'; fails if local/ is anything else (partial, mixed, marked). */
async function localVersion(base: string): Promise<'v1' | 'v2' | 'absent'> {
  const local = path.join(base, 'games', GAME, 'local');
  const tree = await listTree(local);
  if (tree.length === 0) return 'absent';
  const expectedNames = ['bin/', ...FILES.map((f) => f.path), 'data/'].sort();
  expect(tree).toEqual(expectedNames);
  const crcs = await Promise.all(FILES.map((f) => fileCrc(path.join(local, f.path))));
  if (crcs.every((crc, i) => crc === v1[i]?.crc32)) return 'v1';
  if (crcs.every((crc, i) => crc === v2[i]?.crc32)) return 'v2';
  throw new Error('local/ is neither the complete old nor the complete new version');
}

async function assertSettled(base: string, allowed: Array<'v1' | 'v2' | 'absent'>, playerBackup: boolean): Promise<'v1' | 'v2' | 'absent'> {
  const root = path.join(base, 'games', GAME);
  const top = (await listTree(root)).filter((e) => !e.includes('/') || e.endsWith('/')).filter((e) => e.split('/').length <= 2);
  expect(top).not.toContain('.local.installing/');
  if (playerBackup) {
    expect(await readFile(path.join(root, '.local.backup', PLAYER_FILE), 'utf8')).toBe('mine');
    expect(await listTree(path.join(root, '.local.backup'))).toEqual([PLAYER_FILE]);
  } else {
    expect(top).not.toContain('.local.backup/');
  }
  expect(await listTree(path.join(base, 'state', 'games', GAME))).not.toContain('install_intent.json');
  const version = await localVersion(base);
  expect(allowed).toContain(version);
  const record = await service(base).installedVersion(GAME);
  if (version !== 'absent') expect(record).toBe(version === 'v1' ? '1' : '2');
  return version;
}

async function crashAndRecover(template: 'tpl-fresh' | 'tpl-installed', operation: string, env: Record<string, string>) {
  const base = await copyTemplate(template);
  const result = await runChild(operation, base, env);
  expect(result.signal, `child was not killed: ${result.output}`).toBe('SIGKILL');
  const recovered = await service(base).recover();
  return { base, recovered };
}

describe.concurrent('crash safety (SIGKILL + recovery)', () => {
  for (const point of INSTALL_POINTS) {
    it(`install killed at ${point}`, async () => {
      const { base } = await crashAndRecover('tpl-fresh', 'install', { CRASH_KILL_AT: point });
      await assertSettled(base, ['absent', 'v1'], true);
    });
  }
  randomFractions.forEach((fraction, i) => {
    it(`install killed during extraction #${i + 1}`, async () => {
      const { base } = await crashAndRecover('tpl-fresh', 'install', { CRASH_KILL_AFTER_BYTES: String(Math.floor(totalV1 * fraction)) });
      expect(await assertSettled(base, ['absent'], true)).toBe('absent');
    });
  });
  for (const point of UPDATE_POINTS) {
    it(`update killed at ${point}`, async () => {
      const { base } = await crashAndRecover('tpl-installed', 'update', { CRASH_KILL_AT: point });
      await assertSettled(base, ['v1', 'v2'], false);
    });
  }
  randomFractions.forEach((fraction, i) => {
    it(`update killed during extraction #${i + 1}`, async () => {
      const { base } = await crashAndRecover('tpl-installed', 'update', { CRASH_KILL_AFTER_BYTES: String(Math.floor(totalV2 * fraction)) });
      expect(await assertSettled(base, ['v1'], false)).toBe('v1');
    });
  });
  for (const point of UNINSTALL_POINTS) {
    it(`uninstall killed at ${point}`, async () => {
      const { base } = await crashAndRecover('tpl-installed', 'uninstall', { CRASH_KILL_AT: point });
      await assertSettled(base, ['v1', 'absent'], false);
    });
  }

  it('without a crash, the same child completes each transaction', async () => {
    const base = await copyTemplate('tpl-installed');
    expect((await runChild('update', base, {})).output).toContain('COMPLETED');
    expect(await assertSettled(base, ['v2'], false)).toBe('v2');
    expect((await runChild('uninstall', base, {})).output).toContain('COMPLETED');
    expect(await assertSettled(base, ['absent'], false)).toBe('absent');
  });
});
