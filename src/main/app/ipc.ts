import { ipcMain, type WebContents } from 'electron';
import { COMMAND_NAMES, type LauncherBackend } from '../../shared/api';
import { toLanspreadError } from '../../shared/errors';

/**
 * One ipcMain handler per contract command, all forwarding to the backend; rejections carry
 * the coded ErrorInfo as the message (Electron serialises only `message`) so the renderer can
 * show it. `overrides` lets the app answer commands that need Electron (the folder dialog).
 */
export function registerIpc(backend: LauncherBackend, overrides: Partial<Record<(typeof COMMAND_NAMES)[number], (args: unknown) => Promise<unknown>>>): () => void {
  for (const command of COMMAND_NAMES) {
    ipcMain.handle(command, async (_event, args: unknown) => {
      try {
        const override = overrides[command];
        return override ? await override(args) : await backend.handle(command, args as never);
      } catch (error) {
        throw new Error(JSON.stringify(toLanspreadError(error).toInfo()), { cause: error });
      }
    });
  }
  return () => COMMAND_NAMES.forEach((command) => ipcMain.removeHandler(command));
}

/** Fans every backend event out to the window. */
export function forwardEvents(backend: LauncherBackend, contents: WebContents): () => void {
  return backend.subscribe((event, payload) => {
    if (!contents.isDestroyed()) contents.send(event, payload);
  });
}
