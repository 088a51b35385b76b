import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchFigure } from './figures';
import { median } from './support/measure';

/**
 * machine.fresh_pages: what a page of new page cache costs on this machine depending on how
 * long ago it was freed. Both runs write the same bytes into a new file right after the
 * previous file was deleted; one as fast as it can, one paced at a download's speed. On bare
 * metal the two cost the same. On a VM that reports free memory to its host (virtio-balloon
 * free page reporting: pages free for two seconds go back to the host), the paced writer
 * touches mostly returned pages and pays the host's fault for each: the download figures'
 * new-file runs pay it the same way, the TCP copy mostly does not.
 */
const BYTES = Number(process.env.LANSPREAD_BENCH_GAME_BYTES ?? 2 * 1024 ** 3);
const PACE_MB_PER_S = 450;
const RUNS = 3;
const WRITE = 1024 * 1024;

export async function runMachineBench(): Promise<BenchFigure[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lanspread-machine-bench-'));
  try {
    const file = path.join(dir, 'pages.bin');
    await writeNewFile(file, 0); // the first run frees the pages the next one starts on
    const fast: number[] = [];
    const paced: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      fast.push(await writeNewFile(file, 0));
      paced.push(await writeNewFile(file, PACE_MB_PER_S));
    }
    const value = median(paced);
    const baseline = median(fast);
    return [
      {
        id: 'machine.fresh_pages',
        value,
        unit: 's',
        baseline,
        ratio: value / baseline,
        note: `system CPU to write ${(BYTES / 1024 ** 3).toFixed(0)} GiB into a new file at ${PACE_MB_PER_S} MB/s; baseline the same as fast as possible, both right after the previous file was deleted`,
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes BYTES into a new `file` (at `paceMbPerS`, 0 = unpaced), deletes it, and returns the system CPU seconds the writes took. */
async function writeNewFile(file: string, paceMbPerS: number): Promise<number> {
  const data = Buffer.alloc(WRITE, 0x5a);
  const handle = await open(file, 'w');
  const start = performance.now();
  const cpu = process.cpuUsage();
  try {
    for (let position = 0; position < BYTES; position += WRITE) {
      await handle.write(data, 0, WRITE, position);
      if (paceMbPerS > 0) {
        const due = (position + WRITE) / (paceMbPerS * 1000) - (performance.now() - start);
        if (due > 0) await sleep(due);
      }
    }
    return process.cpuUsage(cpu).system / 1e6;
  } finally {
    await handle.close();
    await rm(file, { force: true });
  }
}
