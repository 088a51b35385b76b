import type { LauncherBackend } from '../../../shared/api';
import { isCommandName } from '../../../shared/api';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { RpcReply } from '../../../shared/rpc';

/**
 * Runs one untrusted RPC request (already JSON-parsed) against the backend. Anything malformed
 * becomes a coded error reply; nothing here throws.
 */
export async function dispatchRpc(backend: LauncherBackend, message: unknown): Promise<RpcReply | null> {
  if (typeof message !== 'object' || message === null) return null;
  const { id, command, args } = message as { id?: unknown; command?: unknown; args?: unknown };
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return null;
  try {
    if (!isCommandName(command)) throw new LanspreadError('UNKNOWN_MESSAGE_TYPE', `Unknown command ${JSON.stringify(command)?.slice(0, 64)}`);
    const result = await backend.handle(command, args as never);
    return { id, result: result ?? null };
  } catch (error) {
    return { id, error: toLanspreadError(error).toInfo() };
  }
}
