import { describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import { OperationRegistry } from '../../../src/main/peer/operations/operation-registry';

describe('OperationRegistry', () => {
  it('allows one operation per game and reports changes', async () => {
    const registry = new OperationRegistry(() => 42);
    const snapshots: number[] = [];
    registry.on('changed', ({ active }) => snapshots.push(active.length));
    const download = registry.begin('alpha', 'download');
    expect(() => registry.begin('alpha', 'install')).toThrow(expect.objectContaining({ code: 'OPERATION_IN_PROGRESS' }));
    const other = registry.begin('beta', 'install');
    expect(registry.isBusy('alpha')).toBe(true);
    expect(registry.active()).toEqual([
      { gameId: 'alpha', kind: 'download', startedAt: 42 },
      { gameId: 'beta', kind: 'install', startedAt: 42 },
    ]);
    download.release();
    download.release();
    expect(registry.isBusy('alpha')).toBe(false);
    other.release();
    expect(snapshots).toEqual([1, 2, 1, 0]);
    await expect(registry.run('alpha', 'uninstall', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(registry.isBusy('alpha')).toBe(false);
  });
});

describe('OperationRegistry: the operation model', () => {
  it('gives a slot without an operation its own, which ends with the slot: done, failed or cancelled', async () => {
    let clock = 10;
    const registry = new OperationRegistry(() => clock);
    const changes: string[] = [];
    registry.on('operation-changed', ({ operation, figuresOnly }) => changes.push(`${operation.gameId}:${operation.kind}:${operation.state}:${operation.phase}:${operation.seq}${figuresOnly ? ' (figures)' : ''}`));
    await registry.run('alpha', 'install', async () => {
      clock = 20;
      registry.progress('alpha', { bytesDone: 5, totalBytes: 10, bytesPerSecond: 1, etaSeconds: 5, activePeers: 0 });
    });
    await expect(registry.run('beta', 'uninstall', async () => { throw new LanspreadError('ARCHIVE_DAMAGED', 'bad'); })).rejects.toThrow('bad');
    await expect(registry.run('gamma', 'stream-install', async () => { throw new LanspreadError('REQUEST_CANCELLED', 'stop'); })).rejects.toThrow('stop');
    expect(changes).toEqual([
      'alpha:install:running:unpack:1',
      'alpha:install:running:unpack:2 (figures)',
      'alpha:install:done:unpack:3',
      'beta:uninstall:running:finishing:4',
      'beta:uninstall:failed:finishing:5',
      'gamma:stream-install:running:transfer:6',
      'gamma:stream-install:cancelled:transfer:7',
    ]);
    expect(registry.operations()).toEqual([]);
    expect(registry.finished().map((operation) => [operation.gameId, operation.state, operation.error?.code ?? null, operation.endedAt])).toEqual([
      ['alpha', 'done', null, 20],
      ['beta', 'failed', 'ARCHIVE_DAMAGED', 20],
      ['gamma', 'cancelled', null, 20],
    ]);
    registry.clearFinished();
    expect(registry.finished()).toEqual([]);
  });

  it('lets a slot work for the queue operation of its game: phase and progress go there, the owner ends it', () => {
    const registry = new OperationRegistry(() => 1);
    registry.open('alpha', 'update', 'queued');
    // Waiting in the queue, the game takes no other work.
    expect(() => registry.begin('alpha', 'uninstall')).toThrow(expect.objectContaining({ code: 'OPERATION_IN_PROGRESS' }));
    expect(() => registry.open('alpha', 'download', 'queued')).toThrow(expect.objectContaining({ code: 'OPERATION_IN_PROGRESS' }));
    registry.move('alpha', 'running');
    const download = registry.begin('alpha', 'download');
    registry.progress('alpha', { bytesDone: 50, totalBytes: 100, bytesPerSecond: 10, diskBytesPerSecond: 8, etaSeconds: 5, activePeers: 1, fullSources: 1, partialSources: 0, peerBytes: [{ peerId: 'p1', bytes: 60 }] });
    download.release({ status: 'failed', error: { code: 'NO_SOURCE', message: 'x' } });
    // The slot's outcome is not the operation's: the queue decides what comes next.
    expect(registry.operation('alpha')).toMatchObject({ kind: 'update', state: 'running', phase: 'transfer', bytesDone: 50, fullSources: 1, diskBytesPerSecond: 8, peerBytes: [{ peerId: 'p1', bytes: 60 }], transferredBytes: 50 });
    registry.move('alpha', 'finishing');
    const unpack = registry.begin('alpha', 'update');
    // The unpack counts its own bytes; what the transfer moved is kept for the finished list's average rate.
    expect(registry.operation('alpha')).toMatchObject({ kind: 'update', phase: 'unpack', bytesDone: 0, transferredBytes: 50 });
    expect(registry.operation('alpha')?.peerBytes).toBeUndefined();
    expect(registry.operation('alpha')?.diskBytesPerSecond).toBeUndefined();
    unpack.release();
    registry.move('alpha', 'done');
    expect(registry.operation('alpha')).toBeUndefined();
    expect(registry.finished().map((operation) => operation.kind)).toEqual(['update']);
    // A late report after the end changes nothing.
    registry.progress('alpha', { bytesDone: 99, totalBytes: 100, bytesPerSecond: 1, etaSeconds: 1, activePeers: 1 });
    expect(registry.operations()).toEqual([]);
    expect(() => registry.move('alpha', 'queued')).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
