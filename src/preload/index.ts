import { contextBridge, ipcRenderer } from 'electron';
import { COMMAND_NAMES, EVENT_NAMES, type CommandName, type EventName, type LauncherApi } from '../shared/api';

/**
 * Exposes exactly the LauncherApi contract as `window.lanspread` and nothing else: one IPC
 * channel per command (named by the command) and one per event.
 */
const commands = new Set<string>(COMMAND_NAMES);
const events = new Set<string>(EVENT_NAMES);

const api: LauncherApi = {
  invoke: (command: CommandName, ...args: unknown[]) => {
    if (!commands.has(command)) return Promise.reject(new Error(`Unknown command ${String(command)}`));
    return ipcRenderer.invoke(command, args[0]);
  },
  on: (event: EventName, listener: (payload: unknown) => void) => {
    if (!events.has(event)) throw new Error(`Unknown event ${String(event)}`);
    const forward = (_: unknown, payload: unknown) => listener(payload);
    ipcRenderer.on(event, forward);
    return () => ipcRenderer.off(event, forward);
  },
} as LauncherApi;

contextBridge.exposeInMainWorld('lanspread', api);
