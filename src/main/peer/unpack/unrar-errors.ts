import { LanspreadError } from '../../../shared/errors';
import type { ErrorCode } from '../../../shared/errors';

/** What we know about the archive when node-unrar-js fails, to tell a bad password from damage. */
export interface FailureContext {
  passwordGiven: boolean;
  encrypted: boolean;
  archive: string;
}

const REASON_CODES: Record<string, ErrorCode> = {
  ERAR_MISSING_PASSWORD: 'ARCHIVE_PASSWORD_REQUIRED',
  ERAR_BAD_PASSWORD: 'ARCHIVE_BAD_PASSWORD',
  ERAR_BAD_DATA: 'ARCHIVE_DAMAGED',
  ERAR_BAD_ARCHIVE: 'ARCHIVE_DAMAGED',
  ERAR_EREAD: 'ARCHIVE_DAMAGED',
  ERAR_SMALL_BUF: 'ARCHIVE_DAMAGED',
  ERAR_UNKNOWN: 'ARCHIVE_DAMAGED',
  ERAR_EOPEN: 'ARCHIVE_VOLUME_MISSING',
  ERAR_UNKNOWN_FORMAT: 'ARCHIVE_UNSUPPORTED',
  ERAR_NO_MEMORY: 'ARCHIVE_UNSUPPORTED',
  ERAR_EREFERENCE: 'ARCHIVE_LINK_REFUSED',
  ERAR_ECREATE: 'INTERNAL',
  ERAR_EWRITE: 'INTERNAL',
  ERAR_ECLOSE: 'INTERNAL',
};

/** Maps anything node-unrar-js (or our hooks inside it) threw to a coded error. */
export function toArchiveError(error: unknown, context: FailureContext): LanspreadError {
  if (error instanceof LanspreadError) return error;
  const name = JSON.stringify(context.archive);
  const reason = (error as { reason?: unknown } | null)?.reason;
  if (typeof reason === 'string') {
    let code = REASON_CODES[reason] ?? 'ARCHIVE_DAMAGED';
    // RAR3/RAR4 report a wrong password as damaged data (or a read error for encrypted headers).
    if (code === 'ARCHIVE_DAMAGED' && context.passwordGiven && context.encrypted) code = 'ARCHIVE_BAD_PASSWORD';
    const file = (error as { file?: unknown }).file;
    const where = typeof file === 'string' ? ` at ${JSON.stringify(file)}` : '';
    return new LanspreadError(code, `${describe(code)} in ${name}${where} (${reason})`, { cause: error });
  }
  const nodeCode = (error as { code?: unknown } | null)?.code;
  if (nodeCode === 'ENOSPC' || nodeCode === 'EDQUOT') {
    return new LanspreadError('DISK_FULL', 'Not enough disk space to extract the game', { cause: error });
  }
  if (nodeCode === 'ENOENT') {
    return new LanspreadError('ARCHIVE_VOLUME_MISSING', `A volume of ${name} is missing`, { cause: error });
  }
  // node-unrar-js throws TypeErrors on some malformed or link entries instead of an UnrarError.
  const message = error instanceof Error ? error.message : String(error);
  return new LanspreadError('ARCHIVE_DAMAGED', `Cannot extract ${name}: ${message}`, { cause: error });
}

function describe(code: ErrorCode): string {
  switch (code) {
    case 'ARCHIVE_PASSWORD_REQUIRED':
      return 'A password is required';
    case 'ARCHIVE_BAD_PASSWORD':
      return 'Wrong password (or damaged encrypted data)';
    case 'ARCHIVE_VOLUME_MISSING':
      return 'A volume is missing';
    case 'ARCHIVE_UNSUPPORTED':
      return 'Unsupported archive format or method';
    case 'ARCHIVE_LINK_REFUSED':
      return 'Refused a file-copy reference';
    case 'ARCHIVE_DAMAGED':
      return 'Archive is damaged';
    default:
      return 'Extraction failed';
  }
}
