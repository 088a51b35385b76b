import { afterEach, describe, expect, it } from 'vitest';
import type { LanspreadError } from '../../../src/shared/errors';
import { createLogger } from '../../../src/main/peer/util/logger';
import { makeWorkDir, startTestPeer, type TestPeer } from '../../support/runtime-harness';

const GAME = 'demo-arena';

/**
 * Every failed download and install is a line in the peer's own log (at the level `serve`
 * uses by default), with the game, the code and the message; streamed installs are covered with
 * a hostile sender in stream-failures.test.ts.
 */
describe('failed operations in the log', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function loggedPeer(): Promise<{ peer: TestPeer; lines: string[] }> {
    const work = await makeWorkDir('failure-log');
    cleanups.push(work.cleanup);
    const lines: string[] = [];
    const peer = await startTestPeer(work.dir, 'player', { catalogIds: [GAME], logger: createLogger('info', 'peer', (line) => lines.push(line)) });
    cleanups.push(() => peer.stop());
    return { peer, lines };
  }

  it('a download that fails is logged with the game, its code and its message', async () => {
    const { peer, lines } = await loggedPeer();
    const failure = await peer.runtime.download(GAME).then(
      () => null,
      (error: unknown) => error as LanspreadError,
    );
    expect(failure?.code).toBe('NO_SOURCE');
    const line = lines.find((entry) => entry.includes(`download of ${GAME} failed: NO_SOURCE`));
    expect(line, lines.join('\n')).toBeDefined();
    expect(line).toContain(`"gameId":"${GAME}"`);
    expect(line).toContain(JSON.stringify(failure?.message).slice(1, -1));
  });

  it('an install that fails is logged with the game, its code and its message', async () => {
    const { peer, lines } = await loggedPeer();
    const failure = await peer.runtime.installDownloaded(GAME).then(
      () => null,
      (error: unknown) => error as LanspreadError,
    );
    expect(failure?.code).toBeDefined();
    const line = lines.find((entry) => entry.includes(`install of ${GAME} failed: ${failure?.code}`));
    expect(line, lines.join('\n')).toBeDefined();
    expect(line).toContain(`"gameId":"${GAME}"`);
  });
});
