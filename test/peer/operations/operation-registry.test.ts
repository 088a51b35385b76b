import { describe, expect, it } from 'vitest';
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
