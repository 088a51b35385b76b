import { rm } from 'node:fs/promises';
import { joinInside } from '../fs/safe-path';
import { buildDownloadPlan } from './download-plan';
import { journalPath, journaledPaths } from './resume-journal';
import { SentinelTransaction } from './sentinel-transaction';

/**
 * Cancel of a download that is not running (paused, or waiting for a peer): what its journal
 * says it was fetching is discarded as a running download's cancel would (the payload files,
 * folders it made and left empty, the parked sentinels), then the journal. No manifest is
 * needed, so it works with no peer around. Paths come from our own journal, and are still
 * checked like a peer's manifest (inside the game root, never a reserved entry).
 */
export async function discardJournaledDownload(stateDir: string, gameDir: string, gameId: string): Promise<void> {
  const paths = await journaledPaths(stateDir, gameId);
  if (paths !== null) {
    const files = paths.map((path) => ({ path, size: 0, chunkHashes: [] }));
    const plan = buildDownloadPlan({ gameId, version: 'discarded', chunkSize: 1, files }, joinInside(gameDir, gameId));
    await new SentinelTransaction(plan).discardPayload();
  }
  await rm(journalPath(stateDir, gameId), { force: true });
}
