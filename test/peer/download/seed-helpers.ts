import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { sha256Hex } from '../../support/sha256';
import { LanspreadError } from '../../../src/shared/errors';
import type { GameFileEntry, GameManifest } from '../../../src/shared/model';
import type { ChunkRequest, ChunkSource, PieceSink } from '../../../src/main/peer/download/types';

export const CHUNK = 64 * 1024;

/** Deterministic pseudo-random bytes (a seeded hash stream), so every run tests the same game. */
export function patternBytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let counter = 0;
  for (let at = 0; at < size; at += 32) {
    createHash('sha256').update(`${seed}:${counter++}`).digest().copy(out, at);
  }
  return out;
}

export interface SeedFile {
  path: string;
  size?: number;
  content?: string | Buffer;
}

/** Writes a game root with the given files (random content unless given) and returns its manifest. */
export async function writeSeedGame(root: string, gameId: string, version: string, files: SeedFile[], chunkSize = CHUNK): Promise<GameManifest> {
  for (const file of files) {
    const target = path.join(root, ...file.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.content ?? patternBytes(`${gameId}/${version}/${file.path}`, file.size ?? 0));
  }
  return buildManifest(root, gameId, version, files.map((file) => file.path), chunkSize);
}

export async function buildManifest(root: string, gameId: string, version: string, paths: string[], chunkSize = CHUNK): Promise<GameManifest> {
  const entries: GameFileEntry[] = [];
  for (const relative of paths) {
    const data = await readFile(path.join(root, ...relative.split('/')));
    const chunkHashes: string[] = [];
    for (let offset = 0; offset < data.length; offset += chunkSize) chunkHashes.push(sha256Hex(data.subarray(offset, offset + chunkSize)));
    entries.push({ path: relative, size: data.length, chunkHashes });
  }
  return { gameId, version, chunkSize, files: entries };
}

export async function fileCrc(file: string): Promise<number> {
  return crc32(await readFile(file));
}

/** Every regular file under `dir`, relative path -> CRC32 (a byte-for-byte fingerprint of a tree). */
export async function treeCrcs(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out[path.relative(dir, full)] = await fileCrc(full);
    }
  };
  await walk(dir);
  return out;
}

export async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export interface SeedSourceKnobs {
  /** Wait before sending each chunk. */
  delayMs?: number;
  /** After this many chunks served, every request fails with PEER_GONE (the peer vanished). */
  failAfterChunks?: number;
  /** Every k-th chunk served has one byte flipped. */
  corruptEvery?: number;
  /** Chunk number N (1-based) is cut off halfway with PEER_GONE, and the peer is gone after. */
  dieMidChunk?: number;
  pieceSize?: number;
}

/**
 * A test-only source that serves chunks from a seed directory on disk, with knobs for the
 * failures a real peer can show. Counts what it was asked for, so tests can bound refetching.
 */
export class SeedSource implements ChunkSource {
  chunksServed = 0;
  chunksRequested = 0;
  bytesRequested = 0;
  private dead = false;

  constructor(
    readonly peerId: string,
    readonly name: string,
    private readonly root: string,
    private readonly knobs: SeedSourceKnobs = {},
  ) {}

  async fetchChunk(request: ChunkRequest, sink: PieceSink, signal: AbortSignal): Promise<void> {
    this.chunksRequested += 1;
    this.bytesRequested += request.length;
    if (this.dead) throw new LanspreadError('PEER_GONE', `${this.name} is gone`);
    const { failAfterChunks, corruptEvery, dieMidChunk, delayMs } = this.knobs;
    if (failAfterChunks !== undefined && this.chunksServed >= failAfterChunks) {
      this.dead = true;
      throw new LanspreadError('PEER_GONE', `${this.name} is gone`);
    }
    const number = this.chunksServed + 1;
    this.chunksServed = number;
    if (delayMs) await sleep(delayMs, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) throw new LanspreadError('REQUEST_CANCELLED', 'cancelled');
    const handle = await open(path.join(this.root, ...request.path.split('/')), 'r');
    let data: Buffer;
    try {
      data = Buffer.alloc(request.length);
      await handle.read(data, 0, request.length, request.offset);
    } finally {
      await handle.close();
    }
    if (corruptEvery && number % corruptEvery === 0) data[data.length >> 1] = (data[data.length >> 1] ?? 0) ^ 0xff;
    const limit = dieMidChunk === number ? data.length >> 1 : data.length;
    const pieceSize = this.knobs.pieceSize ?? 16 * 1024;
    for (let at = 0; at < limit; at += pieceSize) {
      if (signal.aborted) throw new LanspreadError('REQUEST_CANCELLED', 'cancelled');
      await sink(data.subarray(at, Math.min(limit, at + pieceSize)));
    }
    if (limit < data.length) {
      this.dead = true;
      throw new LanspreadError('PEER_GONE', `${this.name} died mid-chunk`);
    }
  }
}
