import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { makeWorkDir, repoRoot, spawnCliPeer, startTestPeer, waitFor } from '../support/runtime-harness';
import { useCliScope } from '../support/cli-scope';

const run = promisify(execFile);
const GAME = 'quake-3-arena';
// A name that forges a log line and sets the terminal title; a version that clears the screen.
const EVIL_NAME = 'evil\n2026-01-01T00:00:00.000Z info  [peer] forged\x1b]0;pwned\x07';
const EVIL_VERSION = '99\x1b[2J';
// eslint-disable-next-line no-control-regex -- finding raw control characters is the test
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

async function cli(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), ...args], { cwd: repoRoot, timeout: 30_000 });
  return stdout;
}

describe('strings from the network never reach a log or a terminal raw', () => {
  const { children, defer } = useCliScope();

  it('a peer with a crafted name and game version: `games`, `peers` and the serve log show them escaped', async () => {
    const work = await makeWorkDir('injection');
    defer(work.cleanup);
    const seed = await startTestPeer(work.dir, 'seed', { catalogIds: [GAME], displayName: EVIL_NAME, games: [{ id: GAME, version: EVIL_VERSION }] });
    defer(() => seed.stop());
    const stateDir = path.join(work.dir, 'player-state');
    const player = await spawnCliPeer(['serve', '--game-dir', path.join(work.dir, 'player-games'), '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--peer', `127.0.0.1:${seed.runtime.port}`]);
    children.push(player);
    await waitFor(async () => (await cli(['games', '--state-dir', stateDir])).includes(GAME), 30_000, 'the seed\'s game');

    const games = await cli(['games', '--state-dir', stateDir]);
    expect(games).not.toMatch(RAW_CONTROL);
    expect(games).toContain('99\\x1b[2J');
    const peers = await cli(['peers', '--state-dir', stateDir]);
    expect(peers).not.toMatch(RAW_CONTROL);
    expect(peers.trim().split('\n')).toHaveLength(1);
    expect(peers).toContain('evil\\n2026');
    const log = player.output.join('\n');
    expect(log).toContain('peer joined: evil\\n2026');
    expect(log).not.toMatch(RAW_CONTROL);
    // The forged line never stands on its own: it stays inside the line that quotes the name.
    expect(player.output.filter((line) => line.startsWith('2026-01-01T00:00:00.000Z'))).toEqual([]);
  });
});
