import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError } from '../../../shared/errors';
import { splitRelativePath } from '../../peer/fs/safe-path';

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export function mimeTypeOf(file: string): string {
  return MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Maps a request path ("/assets/x.js") to a regular file inside `root`. The path goes through the
 * same validation as paths from peers (no "..", no backslash, no control characters), and the
 * real location is checked too, so a symlink cannot lead out of the built renderer.
 */
export async function resolveStaticFile(root: string, urlPath: string): Promise<string> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch (error) {
    throw new LanspreadError('PATH_INVALID', 'Malformed URL encoding', { cause: error });
  }
  const relative = decoded.replace(/^\/+/, '') || 'index.html';
  const segments = splitRelativePath(relative);
  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath(path.join(realRoot, ...segments));
  } catch (error) {
    throw new LanspreadError('FILE_NOT_FOUND', `No such file: ${relative}`, { cause: error });
  }
  const inside = path.relative(realRoot, real);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) throw new LanspreadError('PATH_OUTSIDE_ROOT', `Outside the web root: ${relative}`);
  if (!(await stat(real)).isFile()) throw new LanspreadError('FILE_NOT_FOUND', `Not a file: ${relative}`);
  return real;
}
