import { afterEach, beforeEach } from 'vitest';
import { startTestPeer, type TestPeer } from './runtime-harness';
import { makeWorkDir } from './temp-dir';

/**
 * Peers for the tests of one file, each test under a fresh work directory: every peer a test
 * starts is stopped after it, and the directory removed, whatever the test did.
 */
export function useTestPeers(label: string): {
  readonly dir: string;
  start(name: string, options: Parameters<typeof startTestPeer>[2]): Promise<TestPeer>;
  /** Stops one peer now (it is then not stopped again after the test). */
  stop(peer: TestPeer): Promise<void>;
} {
  let work: { dir: string; cleanup: () => Promise<void> } | null = null;
  const running: TestPeer[] = [];
  beforeEach(async () => {
    work = await makeWorkDir(label);
  });
  afterEach(async () => {
    for (const peer of running.splice(0)) await peer.stop();
    await work?.cleanup();
  });
  const dir = (): string => {
    if (!work) throw new Error('useTestPeers: no test is running');
    return work.dir;
  };
  return {
    get dir() {
      return dir();
    },
    async start(name, options) {
      const peer = await startTestPeer(dir(), name, options);
      running.push(peer);
      return peer;
    },
    async stop(peer) {
      const at = running.indexOf(peer);
      if (at >= 0) running.splice(at, 1);
      await peer.stop();
    },
  };
}
