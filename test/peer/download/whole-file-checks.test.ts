import { describe, expect, it } from 'vitest';
import { buildDownloadPlan } from '../../../src/main/peer/download/download-plan';
import type { PlannedChunk } from '../../../src/main/peer/download/types';
import { WholeFileChecks } from '../../../src/main/peer/download/whole-file-checks';
import type { GameManifest } from '../../../src/shared/model';

/** A distinct, well-formed chunk hash per number (the checks compare them, never recompute). */
const h = (n: number): string => n.toString(16).padStart(64, '0');

const manifest: GameManifest = {
  gameId: 'g',
  version: '1',
  chunkSize: 4,
  files: [
    { path: 'version.ini', size: 2, chunkHashes: [h(1)] },
    { path: 'a.rar', size: 8, chunkHashes: [h(2), h(3)] },
    { path: 'b.rar', size: 3, chunkHashes: [h(4)] },
    { path: 'empty.txt', size: 0, chunkHashes: [] },
  ],
};
const plan = buildDownloadPlan(manifest, '/games/g');
const chunksOf = (path: string) => plan.chunks.filter((chunk) => chunk.path === path);

describe('WholeFileChecks', () => {
  it('starts a file check with its last verified chunk, and finish() checks the rest once', async () => {
    const started: string[] = [];
    const checks = new WholeFileChecks(plan, async (chunks) => (started.push(chunks[0]!.path), []));
    for (const chunk of chunksOf('version.ini')) checks.verified(chunk);
    const [a1, a2] = chunksOf('a.rar') as [PlannedChunk, PlannedChunk];
    checks.verified(a1);
    expect(started).toEqual([]);
    checks.verified(a2);
    expect(started).toEqual(['a.rar']);
    expect(await checks.finish()).toEqual([]);
    expect(started).toEqual(['a.rar', 'b.rar']);
  });

  it('gives the bad chunks, and counts every chunk of a file it could not read as bad', async () => {
    const checks = new WholeFileChecks(plan, async (chunks) => {
      if (chunks[0]!.path === 'b.rar') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return chunks.slice(1);
    });
    const bad = await checks.finish();
    expect(bad.map((chunk) => `${chunk.path}#${chunk.chunkIndex}`).sort()).toEqual(['a.rar#1', 'b.rar#0']);
  });

  it('reads chunks back in batches while the rest still arrive, one batch after another per file, each chunk once', async () => {
    const checked: string[][] = [];
    let running = 0;
    let overlapped = false;
    // A batch of one 4-byte chunk: every verified chunk is read back at once.
    const checks = new WholeFileChecks(
      plan,
      async (chunks) => {
        overlapped ||= running > 0;
        running++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        checked.push(chunks.map((chunk) => `${chunk.path}#${chunk.chunkIndex}`));
        return [];
      },
      4,
    );
    const [a1, a2] = chunksOf('a.rar') as [PlannedChunk, PlannedChunk];
    checks.verified(a1);
    checks.verified(a1);
    checks.verified(a2);
    await checks.settle();
    expect(checked).toEqual([['a.rar#0'], ['a.rar#1']]);
    expect(overlapped).toBe(false);
    expect(await checks.finish()).toEqual([]);
    expect(checked).toEqual([['a.rar#0'], ['a.rar#1'], ['b.rar#0']]);
  });
});
