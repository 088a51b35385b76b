import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import type { ErrorCode } from '../../../src/shared/errors';
import type { ProvidedItem, StreamInstallProvider } from '../../../src/main/peer/stream/stream-provider';
import { crc32Update } from '../../../src/main/peer/util/crc32';
import { killCliPeers, makeWorkDir, seedGames, spawnCliPeer, startTestPeer, waitFor, type CliPeer, type GameSpec, type TestPeer } from '../../support/runtime-harness';

const GAME = 'demo-arena';
const IDS = [GAME];
const SPEC: GameSpec = { id: GAME, version: '1.0', files: [{ path: 'bin/game.bin', size: 4_000_000 }, { path: 'data/level.pak', size: 2_000_000 }], seed: 11 };

const bytes = (text: string) => new TextEncoder().encode(text);
const crcOf = (data: Uint8Array) => crc32Update(data, 0);

/**
 * A sender that speaks the real wire format (a real runtime, its real data lane and framing)
 * with a provider that lies. Each case is one way a hostile or broken peer can misbehave.
 */
function hostileProvider(items: ProvidedItem[]): StreamInstallProvider {
  return {
    open: () => ({
      async *[Symbol.asyncIterator]() {
        yield* items;
      },
    }),
  };
}

const payload = bytes('0123456789');
const HOSTILE: Array<{ name: string; code: ErrorCode; items: ProvidedItem[] }> = [
  {
    name: "an entry escaping with '../'",
    code: 'PATH_OUTSIDE_ROOT',
    items: [{ type: 'begin', entries: 1, totalBytes: 10 }, { type: 'entry', path: '../../escaped.txt', kind: 'file', size: 10 }],
  },
  {
    name: 'an absolute entry path',
    code: 'PATH_OUTSIDE_ROOT',
    items: [{ type: 'begin', entries: 1, totalBytes: 10 }, { type: 'entry', path: '/tmp/lanspread-absolute.txt', kind: 'file', size: 10 }],
  },
  {
    name: 'more bytes than the entry announced',
    code: 'STREAM_SIZE_MISMATCH',
    items: [
      { type: 'begin', entries: 1, totalBytes: 100 },
      { type: 'entry', path: 'a.txt', kind: 'file', size: 4 },
      { type: 'data', bytes: payload },
    ],
  },
  {
    name: 'a wrong CRC32',
    code: 'STREAM_CRC_MISMATCH',
    items: [
      { type: 'begin', entries: 1, totalBytes: 10 },
      { type: 'entry', path: 'a.txt', kind: 'file', size: 10 },
      { type: 'data', bytes: payload },
      { type: 'entry-end', crc32: (crcOf(payload) ^ 1) >>> 0 },
      { type: 'end', files: 1, directories: 0, bytes: 10 },
    ],
  },
  {
    name: 'more bytes than the announced totals',
    code: 'STREAM_TOTALS_EXCEEDED',
    items: [
      { type: 'begin', entries: 2, totalBytes: 15 },
      { type: 'entry', path: 'a.txt', kind: 'file', size: 10 },
      { type: 'data', bytes: payload },
      { type: 'entry-end', crc32: crcOf(payload) },
      // Fits its own size, but not what is left of the totals.
      { type: 'entry', path: 'b.txt', kind: 'file', size: 10 },
      { type: 'data', bytes: payload },
    ],
  },
  {
    name: 'a file colliding with a directory',
    code: 'STREAM_PATH_CONFLICT',
    items: [
      { type: 'begin', entries: 2, totalBytes: 10 },
      { type: 'entry', path: 'data', kind: 'directory', size: 0 },
      { type: 'entry', path: 'data', kind: 'file', size: 10 },
      { type: 'data', bytes: payload },
    ],
  },
  {
    name: "the launcher's own marker name",
    code: 'PATH_FORBIDDEN',
    items: [{ type: 'begin', entries: 1, totalBytes: 10 }, { type: 'entry', path: '.lanspread_owned', kind: 'file', size: 10 }],
  },
];

describe('streamed install: hostile and failing senders', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  const peers: TestPeer[] = [];
  const children: CliPeer[] = [];

  beforeEach(async () => {
    work = await makeWorkDir('stream-failures');
  });
  afterEach(async () => {
    await killCliPeers(children);
    for (const peer of peers.splice(0)) await peer.stop();
    await work.cleanup();
  });

  async function listAll(dir: string): Promise<string[]> {
    return (await readdir(dir, { recursive: true })).map((entry) => entry.split(path.sep).join('/')).sort();
  }

  for (const hostile of HOSTILE) {
    it(`refuses ${hostile.name} with ${hostile.code}, writes nothing outside staging and removes it`, async () => {
      const liar = await startTestPeer(work.dir, 'liar', { catalogIds: IDS, games: [SPEC], streamProvider: hostileProvider(hostile.items) });
      peers.push(liar);
      const receiver = await startTestPeer(work.dir, 'receiver', { catalogIds: IDS, manualPeers: [`127.0.0.1:${liar.runtime.port}`] });
      peers.push(receiver);
      await waitFor(() => receiver.runtime.remoteGames().get(GAME)?.sources.length === 1, 20_000, 'the receiver to see the liar');
      const before = await listAll(work.dir);

      const failure = await receiver.runtime.streamInstall(GAME).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(LanspreadError);
      expect((failure as LanspreadError).code).toBe(hostile.code);

      // The game root was created for the install and is gone again; nothing new anywhere else
      // in the work tree except the receiver's state directory.
      await expect(stat(path.join(receiver.gameDir, GAME))).rejects.toMatchObject({ code: 'ENOENT' });
      const after = (await listAll(work.dir)).filter((entry) => !entry.startsWith('receiver/state/') && !entry.startsWith('liar/state/'));
      const beforeFiltered = before.filter((entry) => !entry.startsWith('receiver/state/') && !entry.startsWith('liar/state/'));
      expect(after).toEqual(beforeFiltered);
      await expect(stat('/tmp/lanspread-absolute.txt')).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(stat(path.join(receiver.stateDir, 'games', GAME, 'install_intent.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  }

  /** A receiver that sees one seed whose upload cap keeps a stream running for a few seconds. */
  async function receiverOfSlowSeed(): Promise<TestPeer> {
    const seed = await startTestPeer(work.dir, 'seed', { catalogIds: IDS, games: [SPEC], uploadLimitBytesPerSec: 2_000_000 });
    peers.push(seed);
    const receiver = await startTestPeer(work.dir, 'receiver', { catalogIds: IDS, manualPeers: [`127.0.0.1:${seed.runtime.port}`] });
    peers.push(receiver);
    await waitFor(() => receiver.runtime.remoteGames().get(GAME)?.sources.length === 1, 20_000, 'the receiver to see the seed');
    return receiver;
  }

  it('cancel stops a streamed install: coded REQUEST_CANCELLED, nothing left behind', async () => {
    const receiver = await receiverOfSlowSeed();
    let cancelled = false;
    receiver.runtime.on('game-install-progress', ({ bytesDone }) => {
      if (!cancelled && bytesDone > 0) cancelled = receiver.runtime.cancelDownload(GAME);
    });
    const failure = await receiver.runtime.streamInstall(GAME).then(
      () => null,
      (error: unknown) => error,
    );
    expect(cancelled).toBe(true);
    expect((failure as LanspreadError).code).toBe('REQUEST_CANCELLED');
    await expect(stat(path.join(receiver.gameDir, GAME))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(path.join(receiver.stateDir, 'games', GAME, 'install_intent.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(receiver.runtime.cancelDownload(GAME)).toBe(false);
  });

  it('stopping the runtime mid-stream cancels the install and cleans up before stop() resolves', async () => {
    const receiver = await receiverOfSlowSeed();
    let stopping: Promise<void> | null = null;
    receiver.runtime.on('game-install-progress', ({ bytesDone }) => {
      if (stopping === null && bytesDone > 0) stopping = receiver.runtime.stop();
    });
    const failure = await receiver.runtime.streamInstall(GAME).then(
      () => null,
      (error: unknown) => error,
    );
    expect(stopping).not.toBeNull();
    await stopping;
    expect((failure as LanspreadError).code).toBe('REQUEST_CANCELLED');
    await expect(stat(path.join(receiver.gameDir, GAME))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(path.join(receiver.stateDir, 'games', GAME, 'install_intent.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('retries from a second sender when the first is SIGKILLed mid-stream', async () => {
    const seedProcesses: CliPeer[] = [];
    for (const name of ['seed-a', 'seed-b']) {
      const gameDir = path.join(work.dir, name, 'games');
      await seedGames(gameDir, [SPEC]);
      // The upload cap keeps each sender from running ahead into socket buffers, so the kill
      // lands while most of the stream is still to come.
      const seed = await spawnCliPeer(['serve', '--game-dir', gameDir, '--state-dir', path.join(work.dir, name, 'state'), '--host', '127.0.0.1', '--no-mdns', '--name', name, '--upload-limit', '3000000']);
      children.push(seed);
      seedProcesses.push(seed);
    }
    const receiver = await startTestPeer(work.dir, 'receiver', {
      catalogIds: IDS,
      manualPeers: seedProcesses.map((seed) => `127.0.0.1:${seed.port}`),
    });
    peers.push(receiver);
    await waitFor(() => receiver.runtime.remoteGames().get(GAME)?.sources.length === 2, 20_000, 'two senders');

    const senders: string[] = [];
    receiver.runtime.on('stream-install-sender', ({ peerId }) => senders.push(peerId));
    let killed: CliPeer | null = null;
    receiver.runtime.on('game-install-progress', ({ bytesDone, totalBytes }) => {
      if (killed === null && bytesDone > totalBytes / 4) {
        killed = seedProcesses.find((seed) => seed.peerId === senders[0]) ?? null;
        killed?.child.kill('SIGKILL');
      }
    });
    const report = await receiver.runtime.streamInstall(GAME);

    expect(killed).not.toBeNull();
    expect(senders).toHaveLength(2);
    expect(report.failedSenders.map((s) => s.peerId)).toEqual([senders[0]]);
    expect(['PEER_GONE', 'REQUEST_TIMEOUT']).toContain(report.failedSenders[0]?.error.code);
    expect(report.sender.peerId).toBe(senders[1]);
    const local = path.join(receiver.gameDir, GAME, 'local');
    expect((await stat(path.join(local, 'bin/game.bin'))).size).toBe(4_000_000);
    expect((await stat(path.join(local, 'data/level.pak'))).size).toBe(2_000_000);
    expect(await readdir(path.join(receiver.gameDir, GAME))).toEqual(['local']);
  });
});
