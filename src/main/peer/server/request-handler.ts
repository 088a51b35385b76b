import { stat } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import { CATALOG_ID_PATTERN } from '../../../shared/catalog';
import { resolveServedFile } from '../fs/safe-path';
import type { HelloBody, Request, Response } from '../protocol/messages';
import { PROTOCOL_VERSION } from '../protocol/messages';
import type { RequestContext, RequestHandler, ServerReply } from '../transport/types';
import { readFileRange } from './file-range-reader';
import type { ServedLibrary } from './served-library';

export interface RequestHandlerDeps {
  library: ServedLibrary;
  /** Our own Hello, sent back to whoever greets us. */
  ownHello(): HelloBody;
  /** A peer introduced itself (its certificate fingerprint already matched its claimed id). */
  onHello(hello: HelloBody, context: RequestContext): void;
  /** Wraps outgoing chunk bytes (upload bandwidth cap); identity when unlimited. */
  throttleUpload?: (payload: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;
}

/**
 * Answers one control-plane request. Everything a peer can ask for is decided here; the rule
 * is that only downloaded catalog games are served, and never a byte under local/ or outside
 * the game root (fs/safe-path.ts enforces the path part).
 */
export function createRequestHandler(deps: RequestHandlerDeps): RequestHandler {
  return async (request, context) => {
    switch (request.type) {
      case 'Hello': {
        if (request.protocolVersion !== PROTOCOL_VERSION) {
          throw new LanspreadError('PROTOCOL_VERSION_MISMATCH', `Protocol ${request.protocolVersion} is not supported (this peer speaks ${PROTOCOL_VERSION})`);
        }
        if (request.peerId !== context.remotePeerId) {
          throw new LanspreadError('PEER_FINGERPRINT_MISMATCH', 'Hello peer id does not match the client certificate');
        }
        deps.onHello(request, context);
        return { frame: { type: 'Hello', ...deps.ownHello() } };
      }
      case 'Ping':
        return { frame: { type: 'Pong', libraryRevision: deps.library.revision() } };
      case 'ListGames':
        return { frame: { type: 'Games', games: deps.library.summaries() } };
      case 'GetGame': {
        requireServed(deps.library, request.gameId);
        return { frame: { type: 'Game', manifest: await deps.library.manifest(request.gameId) } };
      }
      case 'GetChunk':
        return serveChunk(deps, request);
      case 'StreamInstall':
        // A stream answers with many frames; only the data lane (lane-server.ts) carries that.
        throw new LanspreadError('UNKNOWN_MESSAGE_TYPE', 'StreamInstall is served on the data lane only');
      default: {
        const unknown: never = request;
        throw new LanspreadError('UNKNOWN_MESSAGE_TYPE', `Unhandled request ${JSON.stringify(unknown)}`);
      }
    }
  };
}

export function requireServed(library: ServedLibrary, gameId: string): string {
  if (!CATALOG_ID_PATTERN.test(gameId)) throw new LanspreadError('PATH_INVALID', 'Invalid game id');
  const gameDir = library.gameDir();
  if (gameDir === null || !library.isServed(gameId)) throw new LanspreadError('GAME_NOT_SERVED', `Game ${gameId} is not shared by this peer`);
  return path.join(gameDir, gameId);
}

async function serveChunk(deps: RequestHandlerDeps, request: Extract<Request, { type: 'GetChunk' }>): Promise<ServerReply> {
  const root = requireServed(deps.library, request.gameId);
  const file = await resolveServedFile(root, request.path);
  const { size } = await stat(file);
  if (request.offset > size || request.offset + request.length > size) {
    throw new LanspreadError('FILE_NOT_FOUND', `Range ${request.offset}+${request.length} is beyond the end of ${request.path}`);
  }
  const frame: Response = { type: 'ChunkHeader', length: request.length };
  if (request.length === 0) return { frame };
  const bytes = readFileRange(file, request.offset, request.length);
  return { frame, payload: deps.throttleUpload ? deps.throttleUpload(bytes) : bytes };
}
