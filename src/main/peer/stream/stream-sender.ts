import { LanspreadError } from '../../../shared/errors';
import type { Request } from '../protocol/messages';
import type { StreamInstallFrame } from '../protocol/stream-install';
import { MAX_STREAM_DATA_BYTES } from '../protocol/stream-install';
import type { ServedLibrary } from '../server/served-library';
import { requireServed } from '../server/request-handler';
import { findArchiveSets } from '../unpack/archive-sets';
import type { StreamInstallProvider } from './stream-provider';

export type StreamInstallRequest = Extract<Request, { type: 'StreamInstall' }>;

/** One frame of the answer and, for a Data frame, exactly its `length` raw bytes. */
export interface StreamReplyItem {
  frame: StreamInstallFrame;
  payload?: Uint8Array;
}

export type StreamInstallHandler = (request: StreamInstallRequest, signal: AbortSignal) => AsyncIterable<StreamReplyItem>;

export interface StreamSenderDeps {
  library: ServedLibrary;
  provider: StreamInstallProvider;
  passwords?: (gameId: string) => string | undefined;
  /** Waits for upload budget (the runtime's upload cap) and counts what was sent. */
  beforeSend?: (bytes: number, signal: AbortSignal) => Promise<void>;
  /**
   * Streams served at once. Each one is a worker decompressing archives, so a peer (or a
   * hostile client) opening many connections must not be able to take the machine's memory.
   */
  maxConcurrentStreams?: number;
}

const DEFAULT_MAX_CONCURRENT_STREAMS = 2;

/**
 * The sending half of a streamed install, on the peer core's side of the provider interface:
 * it decides whether the game may be streamed (served, and exactly the requested version), and
 * turns the provider's items into wire frames, splitting content into bounded Data frames. The
 * data lane writes each item before pulling the next, so the provider runs at the receiver's pace.
 */
export function createStreamInstallHandler(deps: StreamSenderDeps): StreamInstallHandler {
  const limit = deps.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS;
  let active = 0;
  return async function* streamInstall(request, signal) {
    if (active >= limit) throw new LanspreadError('PEER_BUSY', `This peer already serves ${active} streamed installs; try another peer or later`);
    active += 1;
    try {
      yield* serve(deps, request, signal);
    } finally {
      active -= 1;
    }
  };
}

async function* serve(deps: StreamSenderDeps, request: StreamInstallRequest, signal: AbortSignal): AsyncGenerator<StreamReplyItem> {
  const root = requireServed(deps.library, request.gameId);
  const served = deps.library.summaries().find((game) => game.id === request.gameId);
  if (!served || served.version !== request.version) {
    throw new LanspreadError('VERSION_CHANGED', `This peer shares ${request.gameId} at version ${served?.version ?? 'none'}, not ${request.version}`);
  }
  const sets = await findArchiveSets(root);
  if (sets.firstVolumes.length === 0) throw new LanspreadError('ARCHIVE_NOT_FOUND', `${request.gameId}: no .rar archive to stream`);
  const items = deps.provider.open({ gameId: request.gameId, archives: sets.firstVolumes, password: deps.passwords?.(request.gameId) }, signal);
  for await (const item of items) {
    switch (item.type) {
      case 'begin':
        yield { frame: { type: 'Begin', gameId: request.gameId, version: request.version, entries: item.entries, totalBytes: item.totalBytes } };
        break;
      case 'entry':
        yield { frame: { type: 'Entry', path: item.path, kind: item.kind, size: item.size } };
        break;
      case 'data':
        for (let offset = 0; offset < item.bytes.byteLength; offset += MAX_STREAM_DATA_BYTES) {
          const payload = item.bytes.subarray(offset, offset + MAX_STREAM_DATA_BYTES);
          await deps.beforeSend?.(payload.byteLength, signal);
          yield { frame: { type: 'Data', length: payload.byteLength }, payload };
        }
        break;
      case 'entry-end':
        yield { frame: { type: 'EntryEnd', crc32: item.crc32 } };
        break;
      case 'end':
        yield { frame: { type: 'End', files: item.files, directories: item.directories, bytes: item.bytes } };
        return;
    }
  }
  throw new LanspreadError('INTERNAL', 'The stream provider ended without an end item');
}
