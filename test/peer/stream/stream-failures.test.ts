import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import type { ErrorCode } from '../../../src/shared/errors';
import type { PeerConfig } from '../../../src/main/peer/runtime';
import type { ProvidedItem, StreamInstallProvider } from '../../../src/main/peer/stream/stream-provider';
import { UnrarStreamProvider } from '../../../src/main/peer/stream/unrar-stream-provider';
import { crc32Update } from '../../../src/main/peer/util/crc32';
import { freeBytes } from '../../../src/main/peer/fs/free-space';
import { mountSmallDisk, skipWithoutDisk } from '../../support/small-disk';
import { ControlSocketClient, controlSocketPath } from '../../../src/main/peer/launcher/control-socket';
import { waitForRemoteGame } from '../../support/cli-scope';
import { killCliPeers, makeWorkDir, seedGames, spawnCliPeer, startTestPeer, waitFor, type CliPeer, type GameSpec, type TestPeer } from '../../support/runtime-harness';
import { invokeToEnd } from '../../support/operation-end';

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

/**
 * The first stream asked of any provider made here drips: a plausible Begin and Entry, then one
 * byte at a time every 100 ms for as long as the receiver listens. Every later stream is the
 * real one, so whichever sender the receiver asks first is the dripping one.
 */
function dripFirstProviders(): () => StreamInstallProvider {
  let opened = 0;
  return () => {
    const honest = new UnrarStreamProvider();
    return {
      open: (source, signal) => {
        opened += 1;
        if (opened > 1) return honest.open(source, signal);
        return (async function* drip(): AsyncGenerator<ProvidedItem> {
          yield { type: 'begin', entries: 1, totalBytes: 1_000_000 };
          yield { type: 'entry', path: 'bin/game.bin', kind: 'file', size: 1_000_000 };
          while (!signal?.aborted) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            yield { type: 'data', bytes: new Uint8Array([7]) };
          }
        })();
      },
    };
  };
}

const payload = bytes('0123456789');
const HOSTILE: Array<{ name: string; code: ErrorCode; items: ProvidedItem[]; receiver?: Partial<PeerConfig> }> = [
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
  {
    name: 'a second file entry with the path of the first',
    code: 'STREAM_PATH_CONFLICT',
    items: [
      { type: 'begin', entries: 2, totalBytes: 20 },
      { type: 'entry', path: 'a.txt', kind: 'file', size: 10 },
      { type: 'data', bytes: payload },
      { type: 'entry-end', crc32: crcOf(payload) },
      // Would silently replace the first a.txt.
      { type: 'entry', path: 'a.txt', kind: 'file', size: 10 },
      { type: 'data', bytes: payload },
      { type: 'entry-end', crc32: crcOf(payload) },
      { type: 'end', files: 2, directories: 0, bytes: 20 },
    ],
  },
  {
    name: 'a directory entry that comes twice',
    code: 'STREAM_PATH_CONFLICT',
    items: [
      { type: 'begin', entries: 2, totalBytes: 0 },
      { type: 'entry', path: 'maps', kind: 'directory', size: 0 },
      { type: 'entry', path: 'maps/', kind: 'directory', size: 0 },
      { type: 'end', files: 0, directories: 2, bytes: 0 },
    ],
  },
  {
    name: "a file entry whose path ends with '/'",
    code: 'PATH_INVALID',
    items: [
      { type: 'begin', entries: 1, totalBytes: 10 },
      // Would be installed as the plain file "x".
      { type: 'entry', path: 'x/', kind: 'file', size: 10 },
      { type: 'data', bytes: payload },
      { type: 'entry-end', crc32: crcOf(payload) },
      { type: 'end', files: 1, directories: 0, bytes: 10 },
    ],
  },
  {
    name: 'more entries than the default cap (ten million announced)',
    code: 'STREAM_TOO_MANY_ENTRIES',
    items: [{ type: 'begin', entries: 10_000_000, totalBytes: 0 }, ...emptyEntries(10)],
  },
  {
    name: 'more entries than a configured cap of 3',
    code: 'STREAM_TOO_MANY_ENTRIES',
    receiver: { streamTuning: { maxEntries: 3 } },
    items: [{ type: 'begin', entries: 4, totalBytes: 0 }, ...emptyEntries(4), { type: 'end', files: 4, directories: 0, bytes: 0 }],
  },
];

/** `count` empty files, each one Entry and its EntryEnd. */
function emptyEntries(count: number): ProvidedItem[] {
  return Array.from({ length: count }, (_, index): ProvidedItem[] => [
    { type: 'entry', path: `empty/${index}.txt`, kind: 'file', size: 0 },
    { type: 'entry-end', crc32: 0 },
  ]).flat();
}

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
      const receiver = await startTestPeer(work.dir, 'receiver', { catalogIds: IDS, manualPeers: [`127.0.0.1:${liar.runtime.port}`], ...hostile.receiver });
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

  it('a Begin announcing more than the free space is refused with DISK_FULL and both numbers before any byte is written', async (context) => {
    const disk = path.join(work.dir, 'small');
    const mounted = await mountSmallDisk(disk, 16);
    if ('skip' in mounted) return skipWithoutDisk(context, mounted.skip);
    let receiver: TestPeer | null = null;
    try {
      const MIB = 1024 * 1024;
      const chunk = new Uint8Array(MIB);
      // Honest about its totals, only too big: 64 MiB for a 16 MiB disk, and the bytes to go with it.
      const items: ProvidedItem[] = [{ type: 'begin', entries: 1, totalBytes: 64 * MIB }, { type: 'entry', path: 'big.bin', kind: 'file', size: 64 * MIB }];
      for (let i = 0; i < 64; i++) items.push({ type: 'data', bytes: chunk });
      const liar = await startTestPeer(work.dir, 'liar', { catalogIds: IDS, games: [SPEC], streamProvider: hostileProvider(items) });
      peers.push(liar);
      receiver = await startTestPeer(disk, 'receiver', { catalogIds: IDS, manualPeers: [`127.0.0.1:${liar.runtime.port}`] });
      const theReceiver = receiver;
      await waitFor(() => theReceiver.runtime.remoteGames().get(GAME)?.sources.length === 1, 20_000, 'the receiver to see the liar');
      let bytesDone = 0;
      receiver.runtime.on('game-install-progress', (progress) => (bytesDone = Math.max(bytesDone, progress.bytesDone)));
      const freeBefore = await freeBytes(disk);

      const failure = await receiver.runtime.streamInstall(GAME).then(
        () => null,
        (error: unknown) => error as LanspreadError,
      );
      expect(failure?.code, failure?.message).toBe('DISK_FULL');
      const [, needed, free] = /(\d+) bytes needed, (\d+) bytes free/.exec(failure?.message ?? '') ?? [];
      expect(Number(needed)).toBeGreaterThanOrEqual(64 * MIB);
      expect(Number(free)).toBeLessThan(Number(needed));
      expect(Number(free)).toBeLessThanOrEqual(16 * MIB);
      // Not one byte of content was taken, and the disk is as free as before.
      expect(bytesDone).toBe(0);
      expect(await freeBytes(disk)).toBeGreaterThanOrEqual(freeBefore);
      await expect(stat(path.join(receiver.gameDir, GAME))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await receiver?.stop();
      mounted.unmount();
    }
  }, 60_000);

  it('a sender dripping a byte at a time fails at the progress deadline (REQUEST_TIMEOUT) and an honest second sender completes the install', async () => {
    const provider = dripFirstProviders();
    const seeds: TestPeer[] = [];
    for (const name of ['seed-a', 'seed-b']) {
      const seed = await startTestPeer(work.dir, name, { catalogIds: IDS, games: [SPEC], streamProvider: provider() });
      peers.push(seed);
      seeds.push(seed);
    }
    // Deadlines shortened for the test: 64 KiB within every 5 s spent waiting on a sender.
    const receiver = await startTestPeer(work.dir, 'receiver', {
      catalogIds: IDS,
      manualPeers: seeds.map((seed) => `127.0.0.1:${seed.runtime.port}`),
      streamTuning: { idleTimeoutMs: 5_000, minBytesPerWindow: 64 * 1024 },
    });
    peers.push(receiver);
    await waitFor(() => receiver.runtime.remoteGames().get(GAME)?.sources.length === 2, 20_000, 'two senders');

    const report = await receiver.runtime.streamInstall(GAME);

    expect(report.failedSenders).toHaveLength(1);
    expect(report.failedSenders[0]?.error.code).toBe('REQUEST_TIMEOUT');
    // The trickle rule, not silence: bytes did arrive, too few of them.
    expect(report.failedSenders[0]?.error.message).toMatch(/less than the 65536/);
    expect(report.sender.peerId).not.toBe(report.failedSenders[0]?.peerId);
    const local = path.join(receiver.gameDir, GAME, 'local');
    expect((await stat(path.join(local, 'bin/game.bin'))).size).toBe(4_000_000);
    expect((await stat(path.join(local, 'data/level.pak'))).size).toBe(2_000_000);
    expect(await readdir(path.join(receiver.gameDir, GAME))).toEqual(['local']);
  }, 60_000);

  it("a failed streamed install is in the receiving serve's log at its default level: game, sender, code and message, the sender's name sanitised", async () => {
    const duplicate = HOSTILE.find((hostile) => hostile.code === 'STREAM_PATH_CONFLICT' && hostile.name.includes('second file'));
    // A name that would set the terminal title if it reached the log raw.
    const liar = await startTestPeer(work.dir, 'liar', { catalogIds: IDS, games: [SPEC], streamProvider: hostileProvider(duplicate?.items ?? []), displayName: 'liar\u001b]0;owned\u0007' });
    peers.push(liar);
    const gameDir = path.join(work.dir, 'receiver', 'games');
    const stateDir = path.join(work.dir, 'receiver', 'state');
    // No --log-level: the default.
    const receiver = await spawnCliPeer(['serve', '--game-dir', gameDir, '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--peer', `127.0.0.1:${liar.runtime.port}`]);
    children.push(receiver);
    const client = await ControlSocketClient.connect(controlSocketPath(stateDir));
    try {
      await waitForRemoteGame(client, GAME);
      const failure = await invokeToEnd(client, 'install_game', { gameId: GAME, mode: 'streamed' }).then(
        () => null,
        (error: unknown) => error as LanspreadError,
      );
      expect(failure?.code).toBe('STREAM_PATH_CONFLICT');
      const logged = () => receiver.output.find((line) => line.includes(`streamed install of ${GAME} failed`));
      await waitFor(() => logged() !== undefined, 10_000, 'the failure in the log');
      const line = logged() ?? '';
      expect(line).toContain('STREAM_PATH_CONFLICT');
      expect(line).toContain(liar.runtime.peerId);
      expect(line).toMatch(/a\.txt.*comes twice/);
      // Shown escaped (the escape character as text), never raw.
      expect(line).toMatch(/liar\\(u001b|x1b)\]0;owned/);
      expect(receiver.output.join('\n')).not.toContain('\u001b');
    } finally {
      client.close();
    }
  }, 60_000);

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
