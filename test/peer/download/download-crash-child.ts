import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { DownloadManager } from '../../../src/main/peer/download/download-manager';
import { journalPath } from '../../../src/main/peer/download/resume-journal';
import type { GameManifest } from '../../../src/shared/model';
import { SeedSource } from './seed-helpers';

/**
 * Child process for the crash-resume test: downloads from a seed directory and SIGKILLs itself
 * once `killAfterBytes` are verified and the journal was written at least once, so no cleanup
 * of any kind runs.
 * Usage: node --import tsx download-crash-child.ts <manifest.json> <seedRoot> <gameDir> <stateDir> <killAfterBytes>
 */
const [manifestFile, seedRoot, gameDir, stateDir, killAfter] = process.argv.slice(2) as [string, string, string, string, string];
const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as GameManifest;
const killAfterBytes = Number(killAfter);
const journal = journalPath(stateDir, manifest.gameId);

const outcome = await new DownloadManager({ progressIntervalMs: 5, journalFlushIntervalMs: 10 }).download({
  gameId: manifest.gameId,
  gameDir,
  stateDir,
  manifest,
  sources: [new SeedSource('a', 'a', seedRoot, { delayMs: 25 }), new SeedSource('b', 'b', seedRoot, { delayMs: 25 })],
  onEvent: (event) => {
    if (event.type === 'game-download-progress' && event.payload.bytesDone >= killAfterBytes && existsSync(journal)) process.kill(process.pid, 'SIGKILL');
  },
});
process.stdout.write(`SETTLED ${outcome.status}\n`);
