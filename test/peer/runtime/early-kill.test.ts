import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { journalPath } from '../../../src/main/peer/download/resume-journal';
import { ControlSocketClient, controlSocketPath } from '../../../src/main/peer/launcher/control-socket';
import { killCliPeers, makeWorkDir, spawnCliPeer, startTestPeer, waitFor, type TestPeer } from '../../support/runtime-harness';
import { treeCrcs } from '../download/seed-helpers';
import { useCliScope, waitForRemoteGame } from '../../support/cli-scope';

/**
 * A downloader (the CLI's `serve`, a real child process) is SIGKILLed at several moments of
 * the first two seconds of a real download from a seed on loopback, then started again on the
 * same directories. Whatever the moment, it left either a resumable download (a journal, and
 * the restart finishes it byte-identical to the seed) or nothing at all in the game folder.
 */
const GAME = 'quake-3-arena';
const MIB = 1024 * 1024;
/** Milliseconds after asking for the install; 'journal': the moment its journal appears (so that side is always covered, however slow the machine). */
const KILL_POINTS: Array<number | 'journal'> = [0, 40, 120, 250, 500, 1000, 2000, 'journal'];

describe('SIGKILL early in a download', () => {
  const { children, defer } = useCliScope();

  it('leaves a download that resumes to the same bytes, or nothing', async () => {
    const work = await makeWorkDir('early-kill');
    defer(work.cleanup);
    const seed: TestPeer = await startTestPeer(work.dir, 'seed', {
      catalogIds: [GAME],
      games: [{ id: GAME, version: '1', files: [{ path: 'data/a.pak', size: 5 * MIB }, { path: 'data/b.pak', size: 5 * MIB }], volumeSize: 3 * MIB }],
    });
    defer(() => seed.stop());
    const seedRoot = path.join(seed.gameDir, GAME);
    const seedArchives = await treeCrcs(seedRoot);
    const seen: string[] = [];

    for (const killAfterMs of KILL_POINTS) {
      const base = path.join(work.dir, `player-${killAfterMs}`);
      const gameDir = path.join(base, 'games');
      const stateDir = path.join(base, 'state');
      const gameRoot = path.join(gameDir, GAME);
      const serve = (limit: number) =>
        spawnCliPeer(['serve', '--game-dir', gameDir, '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--peer', `127.0.0.1:${seed.runtime.port}`, '--download-limit', String(limit)]);

      // About 2.5 s of transfer at 4 MiB/s: every kill lands inside the download.
      const player = await serve(4 * MIB);
      children.push(player);
      const client = await ControlSocketClient.connect(controlSocketPath(stateDir));
      await waitForRemoteGame(client, GAME);
      void client.invoke('install_game', { gameId: GAME, mode: 'normal' }).catch(() => undefined);
      if (killAfterMs === 'journal') await waitFor(() => existsSync(journalPath(stateDir, GAME)), 20_000, 'the journal');
      else await sleep(killAfterMs);
      player.child.kill('SIGKILL');
      await player.exited;
      client.close();
      children.splice(children.indexOf(player), 1);

      const journaled = existsSync(journalPath(stateDir, GAME));
      const left = existsSync(gameRoot) ? await readdir(gameRoot, { recursive: true }) : [];
      expect(existsSync(path.join(gameRoot, 'version.ini')), `killed after ${killAfterMs} ms`).toBe(false);
      if (!journaled) expect(left, `killed after ${killAfterMs} ms without a journal`).toEqual([]);
      seen.push(journaled ? 'journal' : 'nothing');

      // Started again (no cap): a journaled download resumes on its own and completes.
      const again = await serve(0);
      children.push(again);
      if (journaled) {
        await waitFor(() => existsSync(path.join(gameRoot, 'version.ini')), 60_000, `the resumed download (killed after ${killAfterMs} ms)`);
        const got = await treeCrcs(gameRoot);
        for (const [file, crc] of Object.entries(seedArchives)) expect(got[file], `${file}, killed after ${killAfterMs} ms`).toBe(crc);
        await waitFor(() => !existsSync(journalPath(stateDir, GAME)), 30_000, 'the journal to go');
      } else {
        const again2 = await ControlSocketClient.connect(controlSocketPath(stateDir));
        await waitForRemoteGame(again2, GAME);
        again2.close();
        expect(existsSync(gameRoot) ? await readdir(gameRoot, { recursive: true }) : []).toEqual([]);
      }
      await killCliPeers(children);
    }
    // The kills cover both sides: before the journal existed and after.
    console.info(`early-kill outcomes by kill point ${KILL_POINTS.join('/')} (ms): ${seen.join(', ')}`);
    expect(seen).toContain('journal');
  }, 300_000);
});
