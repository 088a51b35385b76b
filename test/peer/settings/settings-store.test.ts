import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsStore } from '../../../src/main/peer/settings/settings-store';
import { LanspreadError } from '../../../src/shared/errors';
import { makeWorkDir } from '../../support/temp-dir';

describe('SettingsStore', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    work = await makeWorkDir('settings');
  });
  afterEach(async () => {
    await work.cleanup();
  });

  const onDisk = async () => JSON.parse(await readFile(path.join(work.dir, 'settings.json'), 'utf8')) as Record<string, unknown>;

  it('resolves an update only once it is on disk, and quick updates share one save', async () => {
    const store = await SettingsStore.open(work.dir, { displayName: 'me', debounceMs: 20 });
    const first = store.update({ lowDiskDefault: true });
    const second = store.update({ downloadLimitBytesPerSec: 1000 });
    await Promise.all([first, second]);
    expect(await onDisk()).toMatchObject({ lowDiskDefault: true, downloadLimitBytesPerSec: 1000, displayName: 'me', schemaVersion: 1 });
    const reopened = await SettingsStore.open(work.dir);
    expect(reopened.get()).toMatchObject({ lowDiskDefault: true, downloadLimitBytesPerSec: 1000 });
  });

  it('rejects every update of a window with a coded error when the save fails', async () => {
    const store = await SettingsStore.open(work.dir, { debounceMs: 20 });
    // A directory where the file belongs: the atomic rename cannot replace it.
    await mkdir(path.join(work.dir, 'settings.json'));
    const results = await Promise.allSettled([store.update({ lowDiskDefault: true }), store.update({ uploadLimitBytesPerSec: 5 })]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as LanspreadError;
      expect(reason).toBeInstanceOf(LanspreadError);
      expect(reason.code).toBe('INTERNAL');
      expect(reason.message).toMatch(/Settings could not be saved/);
    }
  });

  it('updateNow() saves without waiting for the debounce', async () => {
    const store = await SettingsStore.open(work.dir, { debounceMs: 60_000 });
    await store.updateNow({ gameDir: '/srv/games' });
    expect(await onDisk()).toMatchObject({ gameDir: '/srv/games' });
  });

  it('flush() saves at once and settles an update still waiting for its debounce', async () => {
    const store = await SettingsStore.open(work.dir, { debounceMs: 60_000 });
    const pending = store.update({ manualPeers: ['10.0.0.5:7400'] });
    await store.flush();
    await pending;
    expect(await onDisk()).toMatchObject({ manualPeers: ['10.0.0.5:7400'] });
  });
});
