import { Worker } from 'node:worker_threads';

/**
 * Worker entry files, by name. In the bundled app electron.vite.config.ts emits each as
 * `out/main/<name>.js` beside the main bundle, which is where `import.meta.url` then points.
 * From source (tsx, vitest) a worker cannot load TypeScript by itself, so a small bootstrap
 * registers tsx's loader inside the worker first and then imports the entry.
 */
export const WORKER_ENTRIES = {
  'hash-worker': '../library/hash-worker.ts',
  'unrar-worker': '../unpack/unrar-worker.ts',
  'unrar-stream-worker': '../stream/unrar-stream-worker.ts',
} as const;

export type WorkerName = keyof typeof WORKER_ENTRIES;

const runningFromSource = import.meta.url.endsWith('.ts');

const SOURCE_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import('tsx/esm/api').then(({ register }) => { register(); return import(workerData.__entry); });
`;

/** `workerData` must be a plain object (the source bootstrap adds its own key to it). */
export function spawnWorker(name: WorkerName, workerData: Record<string, unknown> = {}): Worker {
  if (!runningFromSource) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  const entry = new URL(WORKER_ENTRIES[name], import.meta.url).href;
  return new Worker(SOURCE_BOOTSTRAP, { eval: true, workerData: { __entry: entry, ...workerData } });
}
