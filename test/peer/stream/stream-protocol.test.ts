import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../../src/main/peer/identity/identity';
import { parseStreamInstallFrame } from '../../../src/main/peer/protocol/validate';
import { MAX_STREAM_DATA_BYTES } from '../../../src/main/peer/protocol/stream-install';
import type { ServedLibrary } from '../../../src/main/peer/server/served-library';
import type { StreamInstallProvider } from '../../../src/main/peer/stream/stream-provider';
import { StreamReceiver } from '../../../src/main/peer/stream/stream-receiver';
import { createStreamInstallHandler } from '../../../src/main/peer/stream/stream-sender';
import { receiveStreamInstall } from '../../../src/main/peer/transport/data-lane/lane-stream';
import { LanspreadError } from '../../../src/shared/errors';
import { makeWorkDir, startTestPeer, waitFor, type TestPeer } from '../../support/runtime-harness';

const codeOf = (run: () => unknown): string | null => {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof LanspreadError ? error.code : 'not coded';
  }
};

const rejectedCode = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => (error instanceof LanspreadError ? error.code : 'not coded'));

describe('StreamInstall frames', () => {
  it('accepts each frame type and refuses malformed ones with a code', () => {
    expect(parseStreamInstallFrame({ type: 'Entry', path: 'a/b', kind: 'file', size: 3 })).toEqual({ type: 'Entry', path: 'a/b', kind: 'file', size: 3 });
    expect(parseStreamInstallFrame({ type: 'EntryEnd', crc32: 0xffffffff })).toEqual({ type: 'EntryEnd', crc32: 0xffffffff });
    expect(codeOf(() => parseStreamInstallFrame({ type: 'Teleport' }))).toBe('STREAM_PROTOCOL_VIOLATION');
    expect(codeOf(() => parseStreamInstallFrame({ type: 'Entry', path: 'a', kind: 'symlink', size: 0 }))).toBe('MALFORMED_MESSAGE');
    expect(codeOf(() => parseStreamInstallFrame({ type: 'Data', length: MAX_STREAM_DATA_BYTES + 1 }))).toBe('MALFORMED_MESSAGE');
    expect(codeOf(() => parseStreamInstallFrame({ type: 'EntryEnd', crc32: -1 }))).toBe('MALFORMED_MESSAGE');
    expect(codeOf(() => parseStreamInstallFrame({ type: 'Begin', gameId: 'x', version: '1', entries: 1.5, totalBytes: 0 }))).toBe('MALFORMED_MESSAGE');
  });
});

describe('StreamReceiver sequencing', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let counter = 0;
  beforeAll(async () => {
    work = await makeWorkDir('stream-receiver');
  });
  afterAll(async () => {
    await work.cleanup();
  });

  async function receiver(): Promise<{ dir: string; receiver: StreamReceiver }> {
    counter += 1;
    const dir = path.join(work.dir, `staging${counter}`);
    await mkdir(dir);
    return { dir, receiver: new StreamReceiver(dir, { gameId: 'g', version: '1' }) };
  }

  const begin = { type: 'Begin', gameId: 'g', version: '1', entries: 2, totalBytes: 4 } as const;

  it('refuses frames out of order, another game or version, and an End that does not match', async () => {
    const a = await receiver();
    await expect(rejectedCode(Promise.resolve(a.receiver.data(new Uint8Array(1))))).resolves.toBe('STREAM_PROTOCOL_VIOLATION');
    const b = await receiver();
    await expect(rejectedCode(Promise.resolve(b.receiver.frame({ type: 'Entry', path: 'x', kind: 'file', size: 1 })))).resolves.toBe('STREAM_PROTOCOL_VIOLATION');
    const c = await receiver();
    await expect(rejectedCode(Promise.resolve(c.receiver.frame({ ...begin, version: '2' })))).resolves.toBe('VERSION_CHANGED');
    const d = await receiver();
    await d.receiver.frame(begin);
    await d.receiver.frame({ type: 'Entry', path: 'x', kind: 'file', size: 4 });
    await d.receiver.data(new Uint8Array(2));
    await expect(rejectedCode(Promise.resolve(d.receiver.frame({ type: 'EntryEnd', crc32: 0 })))).resolves.toBe('STREAM_SIZE_MISMATCH');
    await d.receiver.abandon();
    const e = await receiver();
    await e.receiver.frame(begin);
    await e.receiver.frame({ type: 'Entry', path: 'dir', kind: 'directory', size: 0 });
    await expect(rejectedCode(Promise.resolve(e.receiver.frame({ type: 'End', files: 1, directories: 1, bytes: 0 })))).resolves.toBe('STREAM_SIZE_MISMATCH');
    expect(() => e.receiver.outcome()).toThrow(LanspreadError);
    const f = await receiver();
    await f.receiver.frame({ ...begin, entries: 1 });
    await f.receiver.frame({ type: 'Entry', path: 'one', kind: 'directory', size: 0 });
    await expect(rejectedCode(Promise.resolve(f.receiver.frame({ type: 'Entry', path: 'two', kind: 'directory', size: 0 })))).resolves.toBe('STREAM_TOTALS_EXCEEDED');
    expect(await readdir(f.dir)).toEqual(['one']);
  });
});

describe('stream handler concurrency', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    work = await makeWorkDir('stream-busy');
    await mkdir(path.join(work.dir, 'demo-arena'), { recursive: true });
    await writeFile(path.join(work.dir, 'demo-arena', 'demo-arena.rar'), 'not read by this provider');
  });
  afterAll(async () => {
    await work.cleanup();
  });

  it('serves at most maxConcurrentStreams at once and refuses more with PEER_BUSY until one ends', async () => {
    const library: ServedLibrary = {
      gameDir: () => work.dir,
      summaries: () => [{ id: 'demo-arena', version: '1.0', sizeBytes: 1, fileCount: 1 }],
      isServed: (id) => id === 'demo-arena',
      manifest: () => Promise.reject(new Error('not used')),
    };
    // A provider that announces its totals and then waits, like a sender blocked on a slow receiver.
    const provider: StreamInstallProvider = {
      open: () => ({
        async *[Symbol.asyncIterator]() {
          yield { type: 'begin', entries: 0, totalBytes: 0 } as const;
          await new Promise(() => undefined);
        },
      }),
    };
    const handler = createStreamInstallHandler({ library, provider, maxConcurrentStreams: 2 });
    const request = { type: 'StreamInstall', gameId: 'demo-arena', version: '1.0' } as const;
    const open = () => handler(request, new AbortController().signal)[Symbol.asyncIterator]();
    const first = open();
    const second = open();
    expect((await first.next()).value).toMatchObject({ frame: { type: 'Begin' } });
    expect((await second.next()).value).toMatchObject({ frame: { type: 'Begin' } });
    await expect(open().next()).rejects.toMatchObject({ code: 'PEER_BUSY' });
    await first.return?.(undefined);
    const third = open();
    expect((await third.next()).value).toMatchObject({ frame: { type: 'Begin' } });
    await second.return?.(undefined);
    await third.return?.(undefined);
  });
});

describe('StreamInstall requests a peer refuses', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let seed: TestPeer;
  let dataPort: number;

  beforeAll(async () => {
    work = await makeWorkDir('stream-refusals');
    seed = await startTestPeer(work.dir, 'seed', { catalogIds: ['demo-arena', 'demo-racer'], games: [{ id: 'demo-arena', version: '2.0' }] });
    const observer = await startTestPeer(work.dir, 'observer', { catalogIds: ['demo-arena'], manualPeers: [`127.0.0.1:${seed.runtime.port}`] });
    await waitFor(() => observer.runtime.peers().some((p) => p.info.dataPort !== undefined), 20_000, 'the seed to announce its data lane');
    dataPort = observer.runtime.peers()[0]?.info.dataPort as number;
    await observer.stop();
  });
  afterAll(async () => {
    await seed?.stop();
    await work?.cleanup();
  });

  const ask = async (gameId: string, version: string, peerId = seed.runtime.peerId) => {
    const identity = await loadOrCreateIdentity(path.join(work.dir, 'asker'));
    const visitor = { frame: () => undefined, data: () => undefined };
    return rejectedCode(receiveStreamInstall({ host: '127.0.0.1', dataPort, peerId }, gameId, version, visitor, { identity, connectTimeoutMs: 3_000, idleTimeoutMs: 10_000 }));
  };

  it('refuses any version but the one it shares, games it does not share, and a wrong pin', async () => {
    expect(await ask('demo-arena', '1.0')).toBe('VERSION_CHANGED');
    expect(await ask('demo-racer', '1.0')).toBe('GAME_NOT_SERVED');
    expect(await ask('../etc', '1.0')).toBe('PATH_INVALID');
    expect(await ask('demo-arena', '2.0', 'f'.repeat(64))).toBe('PEER_FINGERPRINT_MISMATCH');
  });
});
