import { LanspreadError, isErrorCode } from '../../../shared/errors';
import type { GameDescription } from '../../../shared/game-description';
import type { GameFileEntry, GameManifest, GameSummary } from '../../../shared/model';
import { validateGameDescription } from './game-description';
import type { HelloBody, Request, Response } from './messages';
import { MAX_CHUNK_BYTES } from './messages';
import { CHUNK_HASH_PATTERN } from './manifest-id';
import type { HaveFrame } from './have';
import { MAX_HAVE_IDS } from './have';
import type { StreamInstallFrame } from './stream-install';
import { MAX_STREAM_DATA_BYTES, MAX_STREAM_PATH_LENGTH } from './stream-install';

/**
 * Structural validation of decoded JSON. Everything that arrives from a peer goes through here
 * before any other code sees it, so handlers can trust the TypeScript types.
 */

type Json = Record<string, unknown>;

function malformed(what: string): LanspreadError {
  return new LanspreadError('MALFORMED_MESSAGE', `Malformed message: ${what}`);
}

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${what} is not an object`);
  return value as Json;
}

function str(obj: Json, key: string, maxLength = 4096): string {
  const value = obj[key];
  if (typeof value !== 'string' || value.length > maxLength) throw malformed(`${key} must be a string`);
  return value;
}

function uint(obj: Json, key: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = obj[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw malformed(`${key} must be a non-negative integer`);
  }
  return value;
}

function optionalUint(obj: Json, key: string, max?: number): number | undefined {
  return obj[key] === undefined ? undefined : uint(obj, key, max);
}

function array(obj: Json, key: string, maxItems: number): unknown[] {
  const value = obj[key];
  if (!Array.isArray(value) || value.length > maxItems) throw malformed(`${key} must be an array`);
  return value;
}

function hello(obj: Json): HelloBody {
  const dataPort = optionalUint(obj, 'dataPort', 65535);
  const libraryRevision = optionalUint(obj, 'libraryRevision');
  return {
    protocolVersion: uint(obj, 'protocolVersion'),
    peerId: str(obj, 'peerId', 128),
    name: str(obj, 'name', 256),
    port: uint(obj, 'port', 65535),
    ...(dataPort === undefined ? {} : { dataPort }),
    ...(libraryRevision === undefined ? {} : { libraryRevision }),
  };
}

export function parseRequest(value: unknown): Request {
  const obj = object(value, 'request');
  const type = obj.type;
  switch (type) {
    case 'Hello':
      return { type, ...hello(obj) };
    case 'Ping':
    case 'ListGames':
      return { type };
    case 'Announce':
      return { type, libraryRevision: uint(obj, 'libraryRevision') };
    case 'GetGame':
      return { type, gameId: str(obj, 'gameId', 256) };
    case 'GetChunk':
      return {
        type,
        gameId: str(obj, 'gameId', 256),
        path: str(obj, 'path'),
        offset: uint(obj, 'offset'),
        length: uint(obj, 'length', MAX_CHUNK_BYTES),
      };
    case 'StreamInstall':
      return { type, gameId: str(obj, 'gameId', 256), version: str(obj, 'version', 256) };
    case 'SubscribeHave':
      return { type, gameId: str(obj, 'gameId', 256), manifestId: hash(obj, 'manifestId') };
    default:
      throw new LanspreadError('UNKNOWN_MESSAGE_TYPE', `Unknown request type: ${String(type).slice(0, 64)}`);
  }
}

function summary(value: unknown): GameSummary {
  const obj = object(value, 'game summary');
  const id = obj.manifestId === undefined ? undefined : hash(obj, 'manifestId');
  if (obj.partial !== undefined && typeof obj.partial !== 'boolean') throw malformed('partial must be a boolean');
  const gameId = str(obj, 'id', 256);
  const description = obj.description === undefined ? undefined : describedAs(obj.description, gameId);
  return {
    id: gameId,
    version: str(obj, 'version', 256),
    sizeBytes: uint(obj, 'sizeBytes'),
    fileCount: uint(obj, 'fileCount'),
    ...(id === undefined ? {} : { manifestId: id }),
    ...(obj.partial === true ? { partial: true } : {}),
    ...(description ? { description } : {}),
  };
}

/**
 * A game's description from a peer's list, or undefined when it breaks a rule (too large,
 * control characters, a launch path leaving local/, another id): the peer's other games still
 * count, this one is then unknown here unless the catalog has it. Catalog ids are the
 * receiver's to ignore (the catalog wins), not a reason to refuse.
 */
function describedAs(value: unknown, gameId: string): GameDescription | undefined {
  try {
    const description = validateGameDescription(value);
    return description.id === gameId ? description : undefined;
  } catch {
    return undefined;
  }
}

function hash(obj: Json, key: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || !CHUNK_HASH_PATTERN.test(value)) throw malformed(`${key} must be a SHA-256 in hex`);
  return value;
}

/** Chunks one manifest may list (also bounds a have-map): 4 TiB of 256 KiB chunks. */
const MAX_PLAN_CHUNKS = 16 * 1024 * 1024;

function fileEntry(value: unknown): GameFileEntry {
  const obj = object(value, 'file entry');
  const chunkHashes = array(obj, 'chunkHashes', 10_000_000).map((hash) => {
    if (typeof hash !== 'string' || !CHUNK_HASH_PATTERN.test(hash)) throw malformed('chunk hash');
    return hash;
  });
  return { path: str(obj, 'path'), size: uint(obj, 'size'), chunkHashes };
}

function manifest(value: unknown): GameManifest {
  const obj = object(value, 'manifest');
  return {
    gameId: str(obj, 'gameId', 256),
    version: str(obj, 'version', 256),
    chunkSize: uint(obj, 'chunkSize', MAX_CHUNK_BYTES),
    files: array(obj, 'files', 1_000_000).map(fileEntry),
  };
}

export function parseStreamInstallFrame(value: unknown): StreamInstallFrame {
  const obj = object(value, 'stream frame');
  const type = obj.type;
  switch (type) {
    case 'Begin':
      return { type, gameId: str(obj, 'gameId', 256), version: str(obj, 'version', 256), entries: uint(obj, 'entries'), totalBytes: uint(obj, 'totalBytes') };
    case 'Entry': {
      const kind = obj.kind;
      if (kind !== 'file' && kind !== 'directory') throw malformed('kind must be file or directory');
      return { type, path: str(obj, 'path', MAX_STREAM_PATH_LENGTH), kind, size: uint(obj, 'size') };
    }
    case 'Data':
      return { type, length: uint(obj, 'length', MAX_STREAM_DATA_BYTES) };
    case 'EntryEnd':
      return { type, crc32: uint(obj, 'crc32', 0xffffffff) };
    case 'End':
      return { type, files: uint(obj, 'files'), directories: uint(obj, 'directories'), bytes: uint(obj, 'bytes') };
    case 'Error': {
      const code = obj.code;
      return { type, code: isErrorCode(code) ? code : 'INTERNAL', message: str(obj, 'message', 4096) };
    }
    default:
      throw new LanspreadError('STREAM_PROTOCOL_VIOLATION', `Unknown stream frame type: ${String(type).slice(0, 64)}`);
  }
}

export function parseResponse(value: unknown): Response {
  const obj = object(value, 'response');
  const type = obj.type;
  switch (type) {
    case 'Hello':
      return { type, ...hello(obj) };
    case 'Pong':
      return { type, libraryRevision: uint(obj, 'libraryRevision') };
    case 'Games':
      return { type, games: array(obj, 'games', 100_000).map(summary) };
    case 'Game':
      return { type, manifest: manifest(obj.manifest) };
    case 'ChunkHeader':
      return { type, length: uint(obj, 'length', MAX_CHUNK_BYTES) };
    case 'Queued':
      return { type };
    case 'Error': {
      const code = obj.code;
      return { type, code: isErrorCode(code) ? code : 'INTERNAL', message: str(obj, 'message', 4096) };
    }
    default:
      throw new LanspreadError('UNKNOWN_MESSAGE_TYPE', `Unknown response type: ${String(type).slice(0, 64)}`);
  }
}

function chunkIds(obj: Json, key: string): number[] {
  return array(obj, key, MAX_HAVE_IDS).map((id) => {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id >= MAX_PLAN_CHUNKS) throw malformed('chunk id');
    return id;
  });
}

export function parseHaveFrame(value: unknown): HaveFrame {
  const obj = object(value, 'have frame');
  const type = obj.type;
  switch (type) {
    case 'HaveMap':
      return { type, chunks: uint(obj, 'chunks', MAX_PLAN_CHUNKS), bits: str(obj, 'bits', Math.ceil(MAX_PLAN_CHUNKS / 6) + 4) };
    case 'Have': {
      const fetching = obj.fetching === undefined ? undefined : chunkIds(obj, 'fetching');
      const abandoned = obj.abandoned === undefined ? undefined : chunkIds(obj, 'abandoned');
      return { type, ids: chunkIds(obj, 'ids'), ...(fetching ? { fetching } : {}), ...(abandoned ? { abandoned } : {}) };
    }
    case 'HaveEnd': {
      const reason = obj.reason;
      if (reason !== 'complete' && reason !== 'withdrawn') throw malformed('reason must be complete or withdrawn');
      return { type, reason };
    }
    case 'Error': {
      const code = obj.code;
      return { type, code: isErrorCode(code) ? code : 'INTERNAL', message: str(obj, 'message', 4096) };
    }
    default:
      throw new LanspreadError('STREAM_PROTOCOL_VIOLATION', `Unknown have frame type: ${String(type).slice(0, 64)}`);
  }
}
