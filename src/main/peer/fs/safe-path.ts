import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';

/**
 * Paths that arrive from peers (or from archives) are untrusted. A valid relative path is
 * '/'-separated, has no empty, '.' or '..' segment, no backslash, no drive letter or ':' (NTFS
 * streams), no NUL or control characters, and is not absolute.
 */

const MAX_PATH_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 255;
// eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Game-root entries that belong to the launcher or the player's install; never served. */
const RESERVED_ROOT_ENTRIES = new Set(['local', '.local.installing', '.local.backup', '.version.ini.tmp', '.version.ini.discarded']);

export function splitRelativePath(relative: string): string[] {
  if (typeof relative !== 'string' || relative.length === 0) throw invalid(relative, 'empty path');
  if (relative.length > MAX_PATH_LENGTH) throw invalid(relative, 'path too long');
  if (CONTROL_CHARS.test(relative)) throw invalid(relative, 'control character or NUL');
  if (relative.includes('\\')) throw invalid(relative, 'backslash');
  if (relative.includes(':')) throw invalid(relative, 'drive letter or stream name');
  if (relative.startsWith('/')) throw outside(relative, 'absolute path');
  const segments = relative.split('/');
  for (const segment of segments) {
    if (segment === '..') throw outside(relative, "'..' segment");
    if (segment === '' || segment === '.') throw invalid(relative, 'empty or "." segment');
    if (segment.length > MAX_SEGMENT_LENGTH) throw invalid(relative, 'segment too long');
    // Windows silently drops trailing dots and spaces, so "local." would open "local".
    if (/[. ]$/.test(segment)) throw invalid(relative, 'segment ends with a dot or space');
  }
  return segments;
}

/** True when the first segment names launcher-owned or installed content (case-insensitive). */
export function isReservedRootEntry(segment: string): boolean {
  const lower = segment.toLowerCase();
  return RESERVED_ROOT_ENTRIES.has(lower) || lower.startsWith('.lanspread');
}

/** Validates a path a peer asked for and rejects anything under local/ or launcher-owned. */
export function validateServedPath(relative: string): string[] {
  const segments = splitRelativePath(relative);
  if (isReservedRootEntry(segments[0] ?? '')) {
    throw new LanspreadError('PATH_FORBIDDEN', `Path is not served: ${printable(relative)}`);
  }
  return segments;
}

/**
 * Resolves a validated relative path to an absolute one inside `root`, following symlinks only
 * to check them: a path whose real location is outside the root, or inside a reserved entry, is
 * refused. Returns the real path to open.
 */
export async function resolveServedFile(root: string, relative: string): Promise<string> {
  const segments = validateServedPath(relative);
  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath(path.join(realRoot, ...segments));
  } catch (error) {
    throw new LanspreadError('FILE_NOT_FOUND', `No such file: ${printable(relative)}`, { cause: error });
  }
  const inside = path.relative(realRoot, real);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    throw outside(relative, 'resolves outside the game root');
  }
  const first = inside.split(path.sep)[0] ?? '';
  if (isReservedRootEntry(first)) throw new LanspreadError('PATH_FORBIDDEN', `Path is not served: ${printable(relative)}`);
  const stats = await lstat(real);
  if (!stats.isFile()) throw new LanspreadError('FILE_NOT_FOUND', `Not a regular file: ${printable(relative)}`);
  return real;
}

/** Joins a validated relative path under `root` for writing (no symlink resolution: callers create). */
export function joinInside(root: string, relative: string): string {
  const segments = splitRelativePath(relative);
  const joined = path.join(root, ...segments);
  const inside = path.relative(root, joined);
  if (inside.startsWith('..') || path.isAbsolute(inside)) throw outside(relative, 'escapes the target folder');
  return joined;
}

/**
 * Where an archive or stream entry goes inside a staging directory. Trailing slashes (directory
 * entries) are ignored; names the launcher owns there (the `.lanspread_owned` marker) are refused.
 */
export function stagingPath(targetDir: string, name: string): string {
  const relative = name.replace(/\/+$/, '');
  const first = splitRelativePath(relative)[0] ?? '';
  if (first.toLowerCase().startsWith('.lanspread')) {
    throw new LanspreadError('PATH_FORBIDDEN', `Entry uses a launcher-owned name: ${printable(name)}`);
  }
  return joinInside(targetDir, relative);
}

function printable(value: string): string {
  return JSON.stringify(String(value).slice(0, 200));
}

function invalid(relative: string, why: string): LanspreadError {
  return new LanspreadError('PATH_INVALID', `Invalid path ${printable(relative)}: ${why}`);
}

function outside(relative: string, why: string): LanspreadError {
  return new LanspreadError('PATH_OUTSIDE_ROOT', `Path ${printable(relative)} is outside the game root: ${why}`);
}
