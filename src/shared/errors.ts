/**
 * Every error that crosses a boundary (wire, IPC, CLI) carries a stable code.
 * Codes are part of the protocol and the UI contract: add new ones, never rename.
 */
export const ERROR_CODES = [
  // framing and protocol
  'FRAME_TOO_LARGE',
  'MALFORMED_MESSAGE',
  'UNKNOWN_MESSAGE_TYPE',
  'PROTOCOL_VERSION_MISMATCH',
  // what a peer may serve
  'GAME_NOT_FOUND',
  'GAME_NOT_SERVED',
  'FILE_NOT_FOUND',
  'PATH_INVALID',
  'PATH_OUTSIDE_ROOT',
  'PATH_FORBIDDEN',
  // peers and transport
  'PEER_UNREACHABLE',
  'PEER_GONE',
  'PEER_FINGERPRINT_MISMATCH',
  'PEER_BUSY',
  'PEER_ADDRESS_INVALID',
  'REQUEST_TIMEOUT',
  'REQUEST_CANCELLED',
  // downloads
  'NO_SOURCE',
  'CHUNK_CRC_MISMATCH',
  'FILE_CRC_MISMATCH',
  'DISK_FULL',
  'VERSION_CHANGED',
  'CHUNK_HASH_MISMATCH',
  /** A partial peer does not (or no longer) hold the asked chunk. */
  'CHUNK_NOT_AVAILABLE',
  // operations and library
  'OPERATION_IN_PROGRESS',
  /** Pause asked of an operation that cannot keep its progress (a streamed install, an unpack). */
  'NOT_PAUSABLE',
  'NOT_IN_CATALOG',
  'NOT_DOWNLOADED',
  'NOT_INSTALLED',
  'ALREADY_INSTALLED',
  'GAME_DIR_INVALID',
  'GAME_DIR_NOT_SET',
  /** A game description (a game shared beyond the catalog) breaks a rule: id, lengths, control characters, launch paths. */
  'DESCRIPTION_INVALID',
  /** A description names an id of the bundled catalog, which always wins for its ids. */
  'GAME_ID_IN_CATALOG',
  // hosting a peer
  'ALREADY_RUNNING',
  'PORT_IN_USE',
  // the UI's link to its peer (the web UI's WebSocket)
  'HOST_CONNECTION_LOST',
  // archives
  'ARCHIVE_PASSWORD_REQUIRED',
  'ARCHIVE_BAD_PASSWORD',
  'ARCHIVE_DAMAGED',
  'ARCHIVE_VOLUME_MISSING',
  'ARCHIVE_UNSUPPORTED',
  'ARCHIVE_LINK_REFUSED',
  'ARCHIVE_NOT_FOUND',
  // streamed install
  'STREAM_SIZE_MISMATCH',
  'STREAM_CRC_MISMATCH',
  'STREAM_PROTOCOL_VIOLATION',
  'STREAM_TOTALS_EXCEEDED',
  'STREAM_PATH_CONFLICT',
  /** More entries than a receiver takes from one stream (its cap), refused at Begin. */
  'STREAM_TOO_MANY_ENTRIES',
  // anything else
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && CODE_SET.has(value);
}

/** The plain-data shape of an error as it travels over the wire or IPC. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** Plain facts a face may show or act on (the game, a byte count); never a stack or a path outside the game folder. */
  details?: ErrorDetails;
}

export type ErrorDetails = Record<string, string | number | boolean | null>;

export class LanspreadError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(message, options);
    this.name = 'LanspreadError';
    this.code = code;
    this.details = options?.details;
  }

  toInfo(): ErrorInfo {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }

  static fromInfo(info: ErrorInfo): LanspreadError {
    return new LanspreadError(info.code, info.message, info.details ? { details: info.details } : {});
  }
}

/** Normalises anything thrown into a coded error without losing the original as `cause`. */
export function toLanspreadError(error: unknown, fallback: ErrorCode = 'INTERNAL'): LanspreadError {
  if (error instanceof LanspreadError) return error;
  const nodeCode = (error as { code?: unknown } | null)?.code;
  if (nodeCode === 'ENOSPC' || nodeCode === 'EDQUOT') {
    return new LanspreadError('DISK_FULL', 'Not enough disk space', { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LanspreadError(fallback, message, { cause: error });
}

/** For exhaustive switches: a new union member fails to compile instead of being forgotten. */
export function missingCase(value: never): never {
  throw new LanspreadError('INTERNAL', `Unhandled case: ${JSON.stringify(value)}`);
}
