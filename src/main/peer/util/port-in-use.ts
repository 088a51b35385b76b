import { LanspreadError } from '../../../shared/errors';

/**
 * A bind that failed because the port is taken becomes PORT_IN_USE naming the port, so the
 * player learns which one (another Lanspread, or another program) instead of a bare errno.
 * Any other error is returned as it is.
 */
export function portInUse(error: unknown, what: string, host: string | undefined, port: number | undefined): unknown {
  if (!isAddressInUse(error)) return error;
  return new LanspreadError('PORT_IN_USE', `The ${what} port ${host ?? '0.0.0.0'}:${port ?? 0} is already in use (by another Lanspread or another program)`, { cause: error });
}

/** Libraries wrap the errno (the QUIC socket rethrows it as its own error with a cause). */
function isAddressInUse(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (code === 'EADDRINUSE' || (typeof message === 'string' && message.includes('EADDRINUSE'))) return true;
  }
  return false;
}
