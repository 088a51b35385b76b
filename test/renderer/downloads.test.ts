import { describe, expect, it } from 'vitest';
import type { EventName, OperationView } from '../../src/shared/api';
import type { ConnectedApi } from '../../src/renderer/api/connection';
import { createNotifier, NOTIFICATIONS_KEY, type BrowserNotificationApi } from '../../src/renderer/notifications';
import { downloadControls, downloadsCount, downloadStateText, splitQueue } from '../../src/renderer/store/selectors';
import { newOperation, type OperationState } from '../../src/shared/operation';

function op(gameId: string, state: OperationState, extra: Partial<OperationView> = {}): OperationView {
  return { ...newOperation(gameId, 'install', 'queued', 1), state, queuePosition: null, ...extra };
}

describe('Downloads page selectors', () => {
  it('splits the queue into what works now and what waits, in queue order, and counts both for the sidebar', () => {
    const queue = [op('a', 'running'), op('c', 'paused', { queuePosition: 1 }), op('b', 'waiting-for-peers', { queuePosition: 0 }), op('d', 'finishing')];
    const { now, next } = splitQueue(queue);
    expect(now.map((o) => o.gameId)).toEqual(['a', 'd']);
    expect(next.map((o) => o.gameId)).toEqual(['b', 'c']);
    expect(downloadsCount({ queue, finished: [op('e', 'done')], concurrency: 1 })).toBe(4);
    expect(downloadsCount(null)).toBe(0);
  });

  it('offers only the controls the runtime accepts in each state', () => {
    expect(downloadControls(op('a', 'running', { phase: 'transfer' }))).toEqual({ pause: true, resume: false, cancel: true, move: false });
    // A streamed install keeps nothing to pause (NOT_PAUSABLE); an unpack runs to its end.
    expect(downloadControls(op('a', 'running', { kind: 'stream-install', phase: 'transfer' }))).toEqual({ pause: false, resume: false, cancel: true, move: false });
    expect(downloadControls(op('a', 'running', { phase: 'unpack' }))).toEqual({ pause: false, resume: false, cancel: false, move: false });
    expect(downloadControls(op('a', 'finishing'))).toEqual({ pause: false, resume: false, cancel: false, move: false });
    expect(downloadControls(op('a', 'queued'))).toEqual({ pause: true, resume: false, cancel: true, move: true });
    expect(downloadControls(op('a', 'paused'))).toEqual({ pause: false, resume: true, cancel: true, move: true });
    expect(downloadStateText(op('a', 'waiting-for-peers'))).toBe('Waiting for a peer that has it');
    expect(downloadStateText(op('a', 'running', { kind: 'update' }))).toBe('Updating');
  });
});

describe('browser notifications', () => {
  function setup(permission: NotificationPermission, answer: NotificationPermission = 'granted') {
    const listeners: Array<(payload: { operation: OperationView }) => void> = [];
    const api = {
      on: (event: EventName, listener: (payload: { operation: OperationView }) => void) => {
        if (event === 'operation-changed') listeners.push(listener);
        return () => listeners.splice(listeners.indexOf(listener), 1);
      },
    } as unknown as ConnectedApi;
    const shown: Array<{ title: string; body: string | undefined }> = [];
    const asked: string[] = [];
    class FakeNotification {
      static permission: NotificationPermission = permission;
      static async requestPermission(): Promise<NotificationPermission> {
        asked.push('asked');
        FakeNotification.permission = answer;
        return answer;
      }
      constructor(title: string, options?: NotificationOptions) {
        shown.push({ title, body: options?.body });
      }
    }
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v), removeItem: (k: string) => void store.delete(k) };
    const notifier = createNotifier({ api, native: false, browser: FakeNotification as unknown as BrowserNotificationApi, storage, titleOf: (id) => id.toUpperCase() });
    const emit = (operation: OperationView) => listeners.forEach((listener) => listener({ operation }));
    return { notifier, emit, shown, asked, store };
  }

  it('asks the permission only when the player turns them on, then notifies each end once', async () => {
    const { notifier, emit, shown, asked, store } = setup('default');
    expect(notifier.state()).toBe('off');
    emit(op('quake', 'done', { seq: 3, endedAt: 9 }));
    expect(shown).toEqual([]);
    expect(asked).toEqual([]);
    expect(await notifier.enable()).toBe('on');
    expect(asked).toEqual(['asked']);
    expect(store.get(NOTIFICATIONS_KEY)).toBe('on');
    emit(op('quake', 'done', { seq: 4, endedAt: 9 }));
    emit(op('quake', 'done', { seq: 4, endedAt: 9 }));
    emit(op('doom', 'cancelled', { seq: 5, endedAt: 9 }));
    emit(op('doom', 'running', { seq: 6 }));
    expect(shown).toEqual([{ title: 'QUAKE installed', body: 'Ready to play.' }]);
    expect(notifier.disable()).toBe('off');
    emit(op('doom', 'failed', { seq: 7, endedAt: 9, error: { code: 'NO_SOURCE', message: 'gone' } }));
    expect(shown).toHaveLength(1);
  });

  it('stays off when the browser refuses, and says so when it is blocked', async () => {
    const refused = setup('default', 'denied');
    expect(await refused.notifier.enable()).toBe('denied');
    expect(refused.store.get(NOTIFICATIONS_KEY)).toBeUndefined();
    expect(setup('denied').notifier.state()).toBe('denied');
  });
});
