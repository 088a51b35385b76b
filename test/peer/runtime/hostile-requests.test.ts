import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../../src/main/peer/identity/identity';
import { PROTOCOL_VERSION, type Response } from '../../../src/main/peer/protocol/messages';
import { DataLaneClient } from '../../../src/main/peer/transport/data-lane/lane-client';
import { QuicPeerClient } from '../../../src/main/peer/transport/peer-client';
import { LanspreadError } from '../../../src/shared/errors';
import { makeWorkDir, startTestPeer, type TestPeer } from '../../support/runtime-harness';

const IDS = ['demo-arena', 'demo-racer'];

/**
 * A hostile but well-framed client: 1,000 requests for paths outside the game root and for
 * files under local/, while a well-behaved peer keeps being served by the same server.
 */
describe('hostile requests against a running peer', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let alice: TestPeer;
  let hostile: QuicPeerClient;
  let honest: QuicPeerClient;
  let lane: DataLaneClient;

  beforeAll(async () => {
    work = await makeWorkDir('hostile');
    alice = await startTestPeer(work.dir, 'alice', { catalogIds: IDS, games: [{ id: 'demo-arena', version: '1.0' }] });
    const root = path.join(alice.gameDir, 'demo-arena');
    await mkdir(path.join(root, 'local'), { recursive: true });
    await writeFile(path.join(root, 'local', 'savegame.sav'), 'private');
    await writeFile(path.join(work.dir, 'alice', 'secret.txt'), 'outside the game root');
    const timings = { connectTimeoutMs: 3_000, idleTimeoutMs: 5_000, keepAliveIntervalMs: 500, requestTimeoutMs: 20_000 };
    hostile = new QuicPeerClient({ identity: await loadOrCreateIdentity(path.join(work.dir, 'mallory')), ...timings });
    const honestIdentity = await loadOrCreateIdentity(path.join(work.dir, 'bob'));
    honest = new QuicPeerClient({ identity: honestIdentity, ...timings });
    lane = new DataLaneClient({ identity: honestIdentity, connectTimeoutMs: 3_000, requestTimeoutMs: 10_000 });
  });

  afterAll(async () => {
    lane?.stop();
    await hostile?.stop();
    await honest?.stop();
    await alice?.stop();
    await work?.cleanup();
  });

  const target = () => ({ host: '127.0.0.1', port: alice.runtime.port, peerId: alice.runtime.peerId });

  it('answers every hostile path with a coded error and keeps serving others', async () => {
    const hostilePaths = ['../secret.txt', '../../etc/passwd', '/etc/passwd', 'local/savegame.sav', 'LOCAL/savegame.sav', '..\\secret.txt', 'C:/Windows/win.ini', 'a/../../secret.txt', '.local.backup/x', 'version.ini\u0000.rar'];
    const codes = new Map<string, number>();
    const hostileRequests = Array.from({ length: 1_000 }, async (_, i) => {
      const gameId = i % 50 === 0 ? '../demo-arena' : 'demo-arena';
      const response = await hostile.request(target(), { type: 'GetChunk', gameId, path: hostilePaths[i % hostilePaths.length] as string, offset: 0, length: 10 });
      expect(response.type).toBe('Error');
      const code = (response as Extract<Response, { type: 'Error' }>).code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    });
    let honestAnswers = 0;
    let hostileDone = false;
    const honestLoop = (async () => {
      while (!hostileDone || honestAnswers < 5) {
        const response = await honest.request(target(), { type: 'ListGames' });
        expect(response).toMatchObject({ type: 'Games', games: [{ id: 'demo-arena' }] });
        honestAnswers++;
      }
    })();
    await Promise.all(hostileRequests);
    hostileDone = true;
    await honestLoop;

    expect([...codes.keys()].sort()).toEqual(['PATH_FORBIDDEN', 'PATH_INVALID', 'PATH_OUTSIDE_ROOT']);
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(1_000);
    expect(honestAnswers).toBeGreaterThanOrEqual(5);
  });

  it('refuses local/ and the state directory on the data lane too, and serves real chunks', async () => {
    const laneTarget = { host: '127.0.0.1', dataPort: await dataPortOf(), peerId: alice.runtime.peerId };
    const refused = async (gameId: string, file: string) => {
      const error = await lane.fetchChunk(laneTarget, { gameId, path: file, offset: 0, length: 7 }, () => undefined).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LanspreadError);
      return (error as LanspreadError).code;
    };
    expect(await refused('demo-arena', 'local/savegame.sav')).toBe('PATH_FORBIDDEN');
    expect(await refused('demo-arena', '../secret.txt')).toBe('PATH_OUTSIDE_ROOT');
    expect(await refused('demo-arena', '../../state/identity/key.pem')).toBe('PATH_OUTSIDE_ROOT');
    expect(await refused('demo-racer', 'version.ini')).toBe('GAME_NOT_SERVED');
    const pieces: Uint8Array[] = [];
    await lane.fetchChunk(laneTarget, { gameId: 'demo-arena', path: 'version.ini', offset: 0, length: 4 }, (piece) => void pieces.push(Buffer.from(piece)));
    expect(Buffer.concat(pieces).toString()).toBe('1.0\n');
  });

  it('checks a served file again once its path leads elsewhere: a symlink swapped in after a chunk was served is refused', async () => {
    const laneTarget = { host: '127.0.0.1', dataPort: await dataPortOf(), peerId: alice.runtime.peerId };
    const root = path.join(alice.gameDir, 'demo-arena');
    const fetch = async (file: string) => {
      const pieces: Uint8Array[] = [];
      await lane.fetchChunk(laneTarget, { gameId: 'demo-arena', path: file, offset: 0, length: 7 }, (piece) => void pieces.push(Buffer.from(piece)));
      return Buffer.concat(pieces).toString();
    };
    await writeFile(path.join(root, 'extra.bin'), 'inside!');
    expect(await fetch('extra.bin')).toBe('inside!');
    // The served file is still open in the peer; its path now leads out of the game root.
    await rename(path.join(root, 'extra.bin'), path.join(root, 'extra.old'));
    await symlink(path.join(work.dir, 'alice', 'secret.txt'), path.join(root, 'extra.bin'));
    const error = await fetch('extra.bin').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PATH_OUTSIDE_ROOT' });
  });

  async function dataPortOf(): Promise<number> {
    const response = await honest.request(target(), { type: 'Hello', protocolVersion: PROTOCOL_VERSION, peerId: await honestId(), name: 'bob', port: 1 });
    if (response.type !== 'Hello' || response.dataPort === undefined) throw new Error('no data port in Hello');
    return response.dataPort;
  }

  async function honestId(): Promise<string> {
    return (await loadOrCreateIdentity(path.join(work.dir, 'bob'))).peerId;
  }
});
