import { LanspreadError } from '../../../shared/errors';

/**
 * A bind that failed because the port is taken becomes PORT_IN_USE naming the address and
 * port, so the player learns which one (another Lanspread, or another program) instead of a
 * bare errno. Any other error is returned as it is.
 */
export function portInUse(error: unknown): unknown {
  const taken = addressInUse(error);
  if (!taken) return error;
  return new LanspreadError('PORT_IN_USE', `The port ${taken.address}:${taken.port} is already in use (by another Lanspread or another program)`, { cause: error });
}

/** The errno error under any wrapping (the QUIC socket rethrows it as its own error with a cause). */
export function addressInUse(error: unknown): { address: string; port: number } | null {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, address, port } = current as { code?: unknown; address?: unknown; port?: unknown };
    if (code === 'EADDRINUSE') return { address: typeof address === 'string' ? address : '0.0.0.0', port: typeof port === 'number' ? port : 0 };
  }
  return null;
}
