import { Notification, type BrowserWindow } from 'electron';
import type { EventPayload, LauncherBackend } from '../../shared/api';
import { completionNotice } from '../../shared/notices';

/**
 * The app's desktop notification when a download ends (done or failed; the player's own Cancel
 * is not one). Only while the window is not focused: in front of the player the in-app toast
 * already says it. The words come from shared/notices.ts, as the web UI's do.
 */
export function notifyDownloadEnds(backend: LauncherBackend, window: BrowserWindow, titleOf: (gameId: string) => string): () => void {
  return backend.subscribe((event, payload) => {
    if (event !== 'operation-changed' || !Notification.isSupported()) return;
    const { operation } = payload as EventPayload<'operation-changed'>;
    const notice = completionNotice(operation, titleOf(operation.gameId));
    if (!notice || (!window.isDestroyed() && window.isFocused())) return;
    const shown = new Notification({ title: notice.title, body: notice.body, urgency: notice.failed ? 'critical' : 'normal' });
    shown.on('click', () => {
      if (window.isDestroyed()) return;
      if (window.isMinimized()) window.restore();
      window.focus();
    });
    shown.show();
  });
}
