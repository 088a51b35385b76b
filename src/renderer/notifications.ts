import { completionNotice } from '../shared/notices';
import type { ConnectedApi } from './api/connection';

/**
 * Desktop notifications of the web UI (the browser's Notification API). Electron's main process
 * shows its own (src/main/app/notifications.ts), so in the app this stays 'native'. In a browser
 * they are off until the player turns them on (the permission is asked only then, from that
 * click), and the choice is remembered in this browser. The in-app toast shows either way.
 */
export type NotificationsState = 'native' | 'unsupported' | 'off' | 'on' | 'denied';

/** The part of the browser's Notification API used here (a parameter, so tests can hand their own). */
export interface BrowserNotificationApi {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  new (title: string, options?: NotificationOptions): unknown;
}

export const NOTIFICATIONS_KEY = 'lanspread.notifications';

export interface Notifier {
  readonly state: () => NotificationsState;
  /** From a player's click: asks the browser's permission, and turns them on if given. */
  enable(): Promise<NotificationsState>;
  disable(): NotificationsState;
  stop(): void;
}

export function createNotifier(options: {
  api: ConnectedApi;
  native: boolean;
  browser: BrowserNotificationApi | undefined;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  titleOf: (gameId: string) => string;
}): Notifier {
  const { api, native, browser, storage, titleOf } = options;
  const read = (): NotificationsState => {
    if (native) return 'native';
    if (!browser) return 'unsupported';
    if (browser.permission === 'denied') return 'denied';
    return browser.permission === 'granted' && storage.getItem(NOTIFICATIONS_KEY) === 'on' ? 'on' : 'off';
  };
  // Each end once, even if its event arrives twice (a reconnect, a duplicated frame).
  const shown = new Set<string>();
  const off = api.on('operation-changed', ({ operation }) => {
    if (read() !== 'on') return;
    const notice = completionNotice(operation, titleOf(operation.gameId));
    const key = `${operation.gameId}:${operation.seq}:${operation.endedAt ?? ''}`;
    if (!notice || !browser || shown.has(key)) return;
    shown.add(key);
    try {
      new browser(notice.title, { body: notice.body, tag: `lanspread-${operation.gameId}` });
    } catch {
      // Some browsers allow notifications only from a service worker (the constructor throws): the in-app toast still says it.
    }
  });
  return {
    state: read,
    async enable() {
      if (native || !browser) return read();
      const permission = browser.permission === 'granted' ? 'granted' : await browser.requestPermission();
      if (permission === 'granted') storage.setItem(NOTIFICATIONS_KEY, 'on');
      return read();
    },
    disable() {
      storage.removeItem(NOTIFICATIONS_KEY);
      return read();
    },
    stop: off,
  };
}
