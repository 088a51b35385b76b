import { describe, expect, it } from 'vitest';
import { completionNotice } from '../../src/shared/notices';
import { OPERATION_STATES } from '../../src/shared/operation';

describe('completion notices', () => {
  it('tell a finished or failed download, and nothing else', () => {
    expect(completionNotice({ kind: 'install', state: 'done', error: null }, 'Quake')).toEqual({ title: 'Quake installed', body: 'Ready to play.', failed: false });
    expect(completionNotice({ kind: 'update', state: 'done', error: null }, 'Quake')?.title).toBe('Quake updated');
    expect(completionNotice({ kind: 'download', state: 'done', error: null }, 'Quake')?.title).toBe('Quake downloaded');
    expect(completionNotice({ kind: 'stream-install', state: 'failed', error: { code: 'STREAM_CRC_MISMATCH', message: 'frame 3' } }, 'Quake')).toEqual({
      title: 'Quake: download failed',
      body: 'frame 3',
      failed: true,
    });
    // The player's own cancel (as an older host reported it too), states that have not ended, and local work: no notice.
    expect(completionNotice({ kind: 'install', state: 'failed', error: { code: 'REQUEST_CANCELLED', message: 'x' } }, 'Quake')).toBeNull();
    for (const state of OPERATION_STATES.filter((s) => s !== 'done' && s !== 'failed')) expect(completionNotice({ kind: 'install', state, error: null }, 'Quake')).toBeNull();
    expect(completionNotice({ kind: 'uninstall', state: 'done', error: null }, 'Quake')).toBeNull();
    expect(completionNotice({ kind: 'remove-downloaded', state: 'failed', error: { code: 'INTERNAL', message: 'x' } }, 'Quake')).toBeNull();
  });
});
