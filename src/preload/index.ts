import { contextBridge, ipcRenderer } from 'electron';
import { COMMAND_NAMES, EVENT_NAMES, type CommandName, type EventName, type LauncherApi } from '../shared/api';
import type { CommandReply } from '../shared/rpc';

/**
 * Exposes exactly the LauncherApi contract as `window.lanspread` and nothing else: one IPC
 * channel per command (named by the command) and one per event.
 */
const commands = new Set<string>(COMMAND_NAMES);
const events = new Set<string>(EVENT_NAMES);

const api: LauncherApi = {
  invoke: (command: CommandName, ...args: unknown[]) => {
    if (!commands.has(command)) return Promise.reject({ code: 'UNKNOWN_MESSAGE_TYPE', message: `Unknown command ${String(command)}` });
    // The main process answers with the reply envelope; a refusal rejects with its ErrorInfo.
    return (ipcRenderer.invoke(command, args[0]) as Promise<CommandReply>).then((reply) => (reply.ok ? reply.value : Promise.reject(reply.error)));
  },
  on: (event: EventName, listener: (payload: unknown) => void) => {
    if (!events.has(event)) throw new Error(`Unknown event ${String(event)}`);
    const forward = (_: unknown, payload: unknown) => listener(payload);
    ipcRenderer.on(event, forward);
    return () => ipcRenderer.off(event, forward);
  },
} as LauncherApi;

contextBridge.exposeInMainWorld('lanspread', api);
