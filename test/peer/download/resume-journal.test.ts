import { mkdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildDownloadPlan } from '../../../src/main/peer/download/download-plan';
import { journalPath, ResumeJournal } from '../../../src/main/peer/download/resume-journal';
import type { GameManifest } from '../../../src/shared/model';
import { makeWorkDir } from '../../support/temp-dir';

let work: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  work = await makeWorkDir('resume-journal');
});
afterEach(async () => {
  await work.cleanup();
});

const manifest: GameManifest = {
  gameId: 'g',
  version: '1',
  chunkSize: 4,
  files: [
    { path: 'version.ini', size: 1, chunkHashes: ['0'.repeat(64)] },
    { path: 'a.rar', size: 8, chunkHashes: ['1'.repeat(64), '2'.repeat(64)] },
  ],
};

it('writes again after a failed write, keeping what the failed one held', async () => {
  const plan = buildDownloadPlan(manifest, path.join(work.dir, 'games', 'g'));
  const journal = new ResumeJournal(plan, work.dir, 60_000);
  journal.markVerified(1, 0);
  // A directory where the journal goes: the write fails as on a full state directory.
  const target = journalPath(work.dir, 'g');
  await mkdir(target, { recursive: true });
  await expect(journal.flush()).rejects.toThrow();
  await rmdir(target);
  journal.markVerified(1, 1);
  await journal.flush();
  expect(await new ResumeJournal(plan, work.dir).load()).toEqual([
    { fileIndex: 1, chunkIndex: 0 },
    { fileIndex: 1, chunkIndex: 1 },
  ]);
  await journal.delete();
});
