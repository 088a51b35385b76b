import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import { CATALOG_ID_PATTERN } from '../../../shared/catalog';
import { resolveServedFile, validateServedPath } from '../fs/safe-path';
import type { HelloBody, Request, Response } from '../protocol/messages';
import { PROTOCOL_VERSION } from '../protocol/messages';
import type { GameSummary, PeerId } from '../../../shared/model';
import type { PartialShare, PartialShares } from '../swarm/partial-shares';
import type { RequestContext, RequestHandler, ServerReply } from '../transport/types';
import type { ServedFileReader } from './served-file-reader';
import type { ServedLibrary } from './served-library';

export interface RequestHandlerDeps {
  library: ServedLibrary;
  /** Reads chunks of served files (keeps them open between chunks). */
  files: ServedFileReader;
  /** Our own Hello, sent back to whoever greets us. */
  ownHello(): HelloBody;
  /** A peer introduced itself (its certificate fingerprint already matched its claimed id). */
  onHello(hello: HelloBody, context: RequestContext): void;
  /** A peer says its game list changed (its revision is now `libraryRevision`). */
  onAnnounce?(peerId: PeerId, libraryRevision: number): void;
  /** Games this peer is downloading: it serves the chunks of them it has verified. */
  partials?: PartialShares;
  /** The revision of what ListGames answers (swarm/served-revision.ts): Pong and Announce carry it. */
  revision(): number;
  /** Wraps outgoing chunk bytes (upload cap, accounting per game and requester); identity when absent. */
  throttleUpload?: (payload: AsyncIterable<Uint8Array>, upload: { gameId: string; to: PeerId }) => AsyncIterable<Uint8Array>;
}

/**
 * Answers one control-plane request. Everything a peer can ask for is decided here; the rule
 * is that only downloaded catalog games are served whole, a game being downloaded only in the
 * chunks already verified (swarm/partial-shares.ts), and never a byte under local/ or outside
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
        return { frame: { type: 'Pong', libraryRevision: deps.revision() } };
      case 'Announce':
        deps.onAnnounce?.(context.remotePeerId, request.libraryRevision);
        return { frame: { type: 'Pong', libraryRevision: deps.revision() } };
      case 'ListGames':
        return { frame: { type: 'Games', games: servedSummaries(deps) } };
      case 'GetGame': {
        const partial = partialOnly(deps, request.gameId);
        if (partial) return { frame: { type: 'Game', manifest: partial.download.manifest } };
        requireServed(deps.library, request.gameId);
        return { frame: { type: 'Game', manifest: await deps.library.manifest(request.gameId) } };
      }
      case 'GetChunk':
        return serveChunk(deps, request, context);
      case 'StreamInstall':
      case 'SubscribeHave':
        // These answer with many frames; only the data lane (lane-server.ts) carries that.
        throw new LanspreadError('UNKNOWN_MESSAGE_TYPE', `${request.type} is served on the data lane only`);
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

/** Whole games first; a game downloading here is announced as partial (with its manifest id) until it is served whole. */
export function servedSummaries(deps: Pick<RequestHandlerDeps, 'library' | 'partials'>): GameSummary[] {
  const whole = deps.library.summaries();
  const partial = (deps.partials?.summaries() ?? []).filter((summary) => !whole.some((game) => game.id === summary.id));
  return [...whole, ...partial];
}

/** The partial share of a game this peer does not (yet) serve whole. */
function partialOnly(deps: RequestHandlerDeps, gameId: string): PartialShare | undefined {
  const share = deps.partials?.get(gameId);
  if (!share || deps.library.isServed(gameId)) return undefined;
  if (!CATALOG_ID_PATTERN.test(gameId)) throw new LanspreadError('PATH_INVALID', 'Invalid game id');
  return share;
}

async function serveChunk(deps: RequestHandlerDeps, request: Extract<Request, { type: 'GetChunk' }>, context: RequestContext): Promise<ServerReply> {
  const frame: Response = { type: 'ChunkHeader', length: request.length };
  const send = (bytes: AsyncIterable<Uint8Array>): ServerReply => ({
    frame,
    payload: deps.throttleUpload ? deps.throttleUpload(bytes, { gameId: request.gameId, to: context.remotePeerId }) : bytes,
  });
  const partial = partialOnly(deps, request.gameId);
  if (partial) {
    const located = partial.locate(request.path, request.offset, request.length);
    if (request.length === 0) return { frame };
    if ('bytes' in located) return send(fromMemory(located.bytes));
    // The download's own file (its path was checked by the download plan).
    const file = await deps.files.check(located.file, () => Promise.resolve(located.file));
    return send(deps.files.read(file, located.offset, located.length));
  }
  const root = requireServed(deps.library, request.gameId);
  // Checked in full (symlinks resolved, local/ refused) the first time, and again whenever the path leads to another file.
  const joined = path.join(root, ...validateServedPath(request.path));
  const file = await deps.files.check(joined, () => resolveServedFile(root, request.path));
  if (request.offset > file.size || request.offset + request.length > file.size) {
    throw new LanspreadError('FILE_NOT_FOUND', `Range ${request.offset}+${request.length} is beyond the end of ${request.path}`);
  }
  if (request.length === 0) return { frame };
  return send(deps.files.read(file, request.offset, request.length));
}

async function* fromMemory(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  // A copy: the download's buffer may still change (it never does once verified, but the socket must not care).
  yield new Uint8Array(bytes);
}
