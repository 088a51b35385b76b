import { isErrorCode, type ErrorCode, type ErrorInfo } from '../shared/errors';

/**
 * One sentence per error code, written for a player at a LAN party rather than a developer.
 * A Record (not a switch) so that a new code without a sentence fails to compile.
 */
const SENTENCES: Record<ErrorCode, string> = {
  FRAME_TOO_LARGE: 'A peer sent a message that was too large.',
  MALFORMED_MESSAGE: 'A peer sent a message Lanspread could not understand.',
  UNKNOWN_MESSAGE_TYPE: 'That request is not supported by this version of Lanspread.',
  PROTOCOL_VERSION_MISMATCH: 'A peer runs an incompatible version of Lanspread.',
  GAME_NOT_FOUND: 'That game could not be found.',
  GAME_NOT_SERVED: 'The peer no longer shares that game.',
  FILE_NOT_FOUND: 'A file of the game is missing on the peer.',
  PATH_INVALID: 'A file name in the game is not valid.',
  PATH_OUTSIDE_ROOT: 'A file path pointed outside the game folder and was refused.',
  PATH_FORBIDDEN: 'A file that is never shared was requested.',
  PEER_UNREACHABLE: 'A peer could not be reached.',
  PEER_GONE: 'A peer left the network.',
  PEER_FINGERPRINT_MISMATCH: 'A peer’s identity changed unexpectedly; it was not trusted.',
  PEER_BUSY: 'The peer is busy; try again in a moment.',
  PEER_ADDRESS_INVALID: 'That peer address is not valid (use host:port).',
  REQUEST_TIMEOUT: 'A peer took too long to answer.',
  REQUEST_CANCELLED: 'The request was cancelled.',
  NO_SOURCE: 'No peer on the network has this game right now.',
  CHUNK_CRC_MISMATCH: 'Downloaded data was corrupted and is being fetched again.',
  FILE_CRC_MISMATCH: 'A downloaded file was corrupted.',
  DISK_FULL: 'The disk is full. Free some space or choose the streamed install.',
  VERSION_CHANGED: 'The game was updated on the network while downloading.',
  CHUNK_HASH_MISMATCH: 'A peer sent data that does not match the game; it was fetched again from another peer.',
  CHUNK_NOT_AVAILABLE: 'A peer no longer has that part of the game; another peer is asked.',
  OPERATION_IN_PROGRESS: 'Something is already happening with this game; wait for it to finish.',
  NOT_PAUSABLE: 'This cannot be paused without losing its progress; cancel it or let it finish.',
  NOT_IN_CATALOG: 'This game is not in the catalog.',
  NOT_DOWNLOADED: 'This game is not downloaded.',
  NOT_INSTALLED: 'This game is not installed.',
  ALREADY_INSTALLED: 'This game is already installed.',
  GAME_DIR_INVALID: 'That game folder cannot be used: give the full path of a folder that exists and is writable.',
  GAME_DIR_NOT_SET: 'Choose a game folder in Settings first.',
  DESCRIPTION_INVALID: 'That game description cannot be used; the message says which field to fix.',
  GAME_ID_IN_CATALOG: 'That id belongs to a game of the bundled catalog; choose another id.',
  ALREADY_RUNNING: 'Lanspread is already running with the same settings folder.',
  PORT_IN_USE: 'A network port Lanspread needs is already taken by another program.',
  HOST_CONNECTION_LOST: 'The connection to Lanspread itself was lost (it may have stopped); what you just asked for may not have finished.',
  ARCHIVE_PASSWORD_REQUIRED: 'The game archive needs a password.',
  ARCHIVE_BAD_PASSWORD: 'The game archive password is wrong.',
  ARCHIVE_DAMAGED: 'The game archive is damaged and could not be installed.',
  ARCHIVE_VOLUME_MISSING: 'A part of the game archive is missing.',
  ARCHIVE_UNSUPPORTED: 'The game archive uses a format Lanspread cannot unpack.',
  ARCHIVE_LINK_REFUSED: 'The game archive contains a link that was refused for safety.',
  ARCHIVE_NOT_FOUND: 'The game archive could not be found.',
  STREAM_SIZE_MISMATCH: 'The streamed install received the wrong amount of data.',
  STREAM_CRC_MISMATCH: 'The streamed install received corrupted data.',
  STREAM_PROTOCOL_VIOLATION: 'The peer broke the streamed-install protocol.',
  STREAM_TOTALS_EXCEEDED: 'The streamed install sent more data than the peer announced.',
  STREAM_PATH_CONFLICT: 'The streamed install tried to write a file where a folder is (or the reverse), or the same file twice.',
  STREAM_TOO_MANY_ENTRIES: 'The streamed install has more files than Lanspread takes from one peer.',
  INTERNAL: 'Something went wrong inside Lanspread.',
};

export function sentenceFor(code: ErrorCode): string {
  return SENTENCES[code];
}

/**
 * Normalises a rejection from either face into ErrorInfo. Both faces reject with the ErrorInfo
 * itself (the Electron preload unwraps the IPC reply envelope); anything else is a bug or a
 * broken link, kept as INTERNAL with its text.
 */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (isInfo(error)) return { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message };
}

function isInfo(value: unknown): value is ErrorInfo {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message } = value as { code?: unknown; message?: unknown };
  return isErrorCode(code) && typeof message === 'string';
}
