import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { DownloadEvent } from '../../../src/main/peer/download/download-manager';
import { DownloadManager } from '../../../src/main/peer/download/download-manager';
import { journalPath } from '../../../src/main/peer/download/resume-journal';
import type { GameManifest } from '../../../src/shared/model';
import { makeTempDir, repoRoot } from '../../support/install-helpers';
import { CHUNK, SeedSource, exists, fileCrc, writeSeedGame } from './seed-helpers';

const GAME = 'crash-game';
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'download-crash-child.ts');

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir('download-crash'));
});

afterEach(async () => {
  await cleanup();
});

function runChild(args: string[]): Promise<{ signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ signal, output }));
  });
}

const total = (manifest: GameManifest) => manifest.files.reduce((sum, file) => sum + file.size, 0);

it('a downloader killed with SIGKILL mid-way resumes and fetches no more than the rest plus one chunk per file', async () => {
  const seedRoot = path.join(dir, 'seed');
  const gameDir = path.join(dir, 'games');
  const stateDir = path.join(dir, 'state');
  const manifest = await writeSeedGame(seedRoot, GAME, '3', [
    { path: 'version.ini', content: 'version=3' },
    { path: 'data.part1.rar', size: 1_500_000 },
    { path: 'data.part2.rar', size: 900_000 },
  ]);
  const manifestFile = path.join(dir, 'manifest.json');
  await writeFile(manifestFile, JSON.stringify(manifest));
  await mkdir(gameDir, { recursive: true });

  const crashed = await runChild([manifestFile, seedRoot, gameDir, stateDir, String(Math.floor(total(manifest) / 4))]);
  expect(crashed.signal, crashed.output).toBe('SIGKILL');
  expect(await exists(journalPath(stateDir, GAME))).toBe(true);
  expect(await exists(path.join(gameDir, GAME, 'version.ini'))).toBe(false);

  const source = new SeedSource('c', 'c', seedRoot);
  const events: DownloadEvent[] = [];
  const outcome = await new DownloadManager().download({ gameId: GAME, gameDir, stateDir, manifest, sources: [source], onEvent: (event) => events.push(event) });
  expect(outcome.status).toBe('finished');
  for (const file of manifest.files) {
    expect(await fileCrc(path.join(gameDir, GAME, file.path)), file.path).toBe(await fileCrc(path.join(seedRoot, file.path)));
  }
  const first = events.find((event) => event.type === 'game-download-progress');
  const startedAt = first?.type === 'game-download-progress' ? first.payload.bytesDone : 0;
  expect(startedAt).toBeGreaterThan(0);
  expect(source.bytesRequested).toBeLessThanOrEqual(total(manifest) - startedAt + CHUNK * manifest.files.length);
  expect(await exists(journalPath(stateDir, GAME))).toBe(false);
});

it('disk full: coded DISK_FULL, no version.ini, payload swept', async (context) => {
  const seedRoot = path.join(dir, 'seed');
  const stateDir = path.join(dir, 'state');
  const mountPoint = path.join(dir, 'small-disk');
  await mkdir(mountPoint, { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    const reason = `cannot mount a 2 MiB tmpfs (${(mounted.stderr || mounted.error?.message || 'unknown').trim()}); needs root`;
    console.warn(`SKIP disk-full test: ${reason}`);
    context.skip(reason);
    return;
  }
  try {
    const gameDir = path.join(mountPoint, 'games');
    await mkdir(path.join(gameDir, GAME, 'local'), { recursive: true });
    await writeFile(path.join(gameDir, GAME, 'local', 'save.dat'), 'keep me');
    const manifest = await writeSeedGame(seedRoot, GAME, '4', [
      { path: 'version.ini', content: 'version=4' },
      { path: 'big.part1.rar', size: 1_800_000 },
      { path: 'big.part2.rar', size: 1_500_000 },
    ]);
    const events: DownloadEvent[] = [];
    const sources = [new SeedSource('a', 'a', seedRoot), new SeedSource('b', 'b', seedRoot)];
    const outcome = await new DownloadManager().download({ gameId: GAME, gameDir, stateDir, manifest, sources, onEvent: (event) => events.push(event) });

    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') expect(outcome.error.code).toBe('DISK_FULL');
    expect(events.at(-1)?.type).toBe('game-download-failed');
    // The payload is swept with its journal: this failure does not claim to resume.
    expect(events.at(-1)?.payload).not.toHaveProperty('resumes');
    // Only one failure: the disk is not the sources' fault.
    expect(outcome.sources.every((stats) => stats.dropped === null)).toBe(true);
    expect(await readdir(path.join(gameDir, GAME))).toEqual(['local']);
    expect(await readFile(path.join(gameDir, GAME, 'local', 'save.dat'), 'utf8')).toBe('keep me');
    expect(await exists(journalPath(stateDir, GAME))).toBe(false);
  } finally {
    spawnSync('umount', [mountPoint]);
  }
});
