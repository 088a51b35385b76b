import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { generateGame } from '../src/main/peer/demo/generate-game';
import { WorkerUnpacker } from '../src/main/peer/unpack/worker-unpacker';
import { makeTempDir, repoRoot, sharedRarFixtures } from '../test/support/install-helpers';
import type { BenchFigure } from './figures';
import { measure, type Measured } from './support/measure';

/**
 * install.* figures: node-unrar-js extraction in a worker (our Unpacker) against Debian `unar`
 * on the same archive, peak RSS while extracting a 1 GiB game, and main-thread event-loop lag.
 */

const run = promisify(execFile);
const GIB = 1024 * 1024 * 1024;
const RSS_BUDGET_MB = 300;
const LAG_BUDGET_MS = 50;

async function extractWithUnpacker(archive: string, target: string): Promise<Measured> {
  await rm(target, { recursive: true, force: true });
  return measure(async () => void (await new WorkerUnpacker().unpack({ archives: [archive], targetDir: target })));
}

async function unarSeconds(archive: string, target: string): Promise<number | null> {
  try {
    await run('unar', ['-v']).catch(() => run('which', ['unar']));
  } catch {
    return null;
  }
  await rm(target, { recursive: true, force: true });
  const start = performance.now();
  await run('unar', ['-q', '-f', '-D', '-o', target, archive]);
  return (performance.now() - start) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function largestCompressedFixture(): Promise<{ archive: string; id: string } | null> {
  let manifest: { archives: Array<{ id: string; dir: string; files: string[]; bytes: number; volumes: number; node_unrar_js: { handled: string }; encrypted: { file_data: boolean }; entries: Array<{ size: number }> }> };
  try {
    manifest = JSON.parse(await readFile(path.join(sharedRarFixtures, 'MANIFEST.json'), 'utf8'));
  } catch {
    return null;
  }
  // "Largest" by archive bytes among plain, single-volume sets both tools can extract.
  const candidates = manifest.archives
    .filter((set) => set.node_unrar_js.handled === 'yes' && set.volumes === 1 && !set.encrypted.file_data && set.files[0]?.endsWith('.rar'))
    .sort((a, b) => b.bytes - a.bytes);
  const best = candidates[0];
  return best ? { archive: path.join(sharedRarFixtures, best.dir, best.files[0] as string), id: best.id } : null;
}

export async function runInstallBench(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const work = await makeTempDir('bench-install');
  try {
    const game = await generateGame({
      gameDir: work.dir,
      gameId: 'bench',
      version: '1',
      files: [0, 1, 2, 3].map((i) => ({ path: `data/part${i}.pak`, size: GIB / 4 })),
    });
    const archive = game.archives[0] as string;
    const ours = await extractWithUnpacker(archive, path.join(work.dir, 'ours'));
    await rm(path.join(work.dir, 'ours'), { recursive: true, force: true });
    const unar = await unarSeconds(archive, path.join(work.dir, 'unar'));
    await rm(path.join(work.dir, 'unar'), { recursive: true, force: true });
    figures.push({
      id: 'install.extract_1gib_stored_s',
      value: ours.seconds,
      unit: 's',
      baseline: unar ?? NaN,
      ratio: unar ? ours.seconds / unar : NaN,
      note: unar ? 'node-unrar-js worker vs Debian unar, same 1 GiB stored RAR5 (lower ratio is better)' : 'unar not available: no baseline',
    });
    figures.push({
      id: 'install.peak_rss_mb',
      value: ours.peakRssMb,
      unit: 'MB',
      baseline: RSS_BUDGET_MB,
      ratio: ours.peakRssMb / RSS_BUDGET_MB,
      note: 'whole process (main + unrar worker) while extracting 1 GiB; baseline is the 300 MB budget',
    });
    figures.push({
      id: 'install.event_loop_lag_p99_ms',
      value: ours.lagP99Ms,
      unit: 'ms',
      baseline: LAG_BUDGET_MS,
      ratio: ours.lagP99Ms / LAG_BUDGET_MS,
      note: 'main-thread monitorEventLoopDelay p99 during the 1 GiB extraction; baseline is the 50 ms budget',
    });
    await rm(game.root, { recursive: true, force: true });

    const fixture = await largestCompressedFixture();
    if (!fixture) {
      figures.push({ id: 'install.extract_largest_fixture_s', value: NaN, unit: 's', baseline: NaN, ratio: NaN, note: `skipped: ${sharedRarFixtures} absent` });
    } else {
      const oursRuns: number[] = [];
      const unarRuns: number[] = [];
      for (let i = 0; i < 3; i++) {
        oursRuns.push((await extractWithUnpacker(fixture.archive, path.join(work.dir, 'fx-ours'))).seconds);
        const u = await unarSeconds(fixture.archive, path.join(work.dir, 'fx-unar'));
        if (u !== null) unarRuns.push(u);
      }
      const value = median(oursRuns);
      const baseline = unarRuns.length ? median(unarRuns) : NaN;
      figures.push({
        id: 'install.extract_largest_fixture_s',
        value,
        unit: 's',
        baseline,
        ratio: value / baseline,
        note: `${fixture.id}: median of 3, includes worker start-up; vs Debian unar (lower ratio is better)`,
      });
    }
  } finally {
    await work.cleanup();
  }
  return figures;
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === path.join(repoRoot, 'bench', 'install.bench.ts');
if (invokedDirectly) {
  console.table(await runInstallBench());
}
