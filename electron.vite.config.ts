import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';

/**
 * main: the Electron main process plus the worker entries, emitted beside it as
 * out/main/<name>.js (the names src/main/peer/workers/spawn-worker.ts loads).
 * preload: CommonJS, because sandboxed preloads cannot be ES modules.
 * renderer: React, JSX through Vite's built-in transform; minified (electron-vite leaves it
 * readable by default), since the web UI mode sends it over the network.
 */
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/app/index.ts'),
          'hash-worker': resolve(__dirname, 'src/main/peer/library/hash-worker.ts'),
          'unrar-worker': resolve(__dirname, 'src/main/peer/unpack/unrar-worker.ts'),
          'unrar-stream-worker': resolve(__dirname, 'src/main/peer/stream/unrar-stream-worker.ts'),
        },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: { minify: true, rollupOptions: { input: resolve(__dirname, 'src/renderer/index.html') } },
    oxc: { jsx: { runtime: 'automatic' } },
  },
});
