import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built renderer (out/renderer) for the web UI host. Searched upwards from this module, so it
 * is found both when running from source (src/main/cli/web) and from a bundle (out/main).
 */
export function findRendererDir(start = path.dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, 'out', 'renderer');
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    const sibling = path.join(dir, 'renderer');
    if (path.basename(dir) === 'out' && existsSync(path.join(sibling, 'index.html'))) return sibling;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
