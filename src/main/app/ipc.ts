import { ipcMain, type WebContents } from 'electron';
import { COMMAND_NAMES, type LauncherBackend } from '../../shared/api';
import { toLanspreadError } from '../../shared/errors';
import type { CommandReply } from '../../shared/rpc';

/**
 * One ipcMain handler per contract command, all forwarding to the backend. A handler never
 * throws: it returns the typed reply envelope, so the coded error crosses IPC as data (a thrown
 * Error would arrive as its message only). `overrides` lets the app answer commands that need
 * Electron (the folder dialog).
 */
export function registerIpc(backend: LauncherBackend, overrides: Partial<Record<(typeof COMMAND_NAMES)[number], (args: unknown) => Promise<unknown>>>): () => void {
  for (const command of COMMAND_NAMES) {
    ipcMain.handle(command, async (_event, args: unknown): Promise<CommandReply> => {
      try {
        const override = overrides[command];
        return { ok: true, value: override ? await override(args) : await backend.handle(command, args as never) };
      } catch (error) {
        return { ok: false, error: toLanspreadError(error).toInfo() };
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
