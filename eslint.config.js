import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Import direction (ARCHITECTURE.md): a file's folder says where it may run and what it may import. */
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'bench/results/**', 'test-results/**', 'e2e/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: restrict([
      { group: ['node:*', 'electron', 'react', 'react-dom'], message: 'src/shared is plain data and types: no Node, DOM or Electron.' },
      { group: ['**/main/**', '**/renderer/**', '**/preload/**'], message: 'src/shared imports nothing else of ours.' },
    ]),
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: restrict([
      { group: ['node:*', 'electron'], message: 'The renderer cannot reach Node or Electron: use the LauncherApi contract.' },
      { group: ['**/main/**', '**/preload/**'], message: 'The renderer imports only src/shared.' },
    ]),
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: restrict([{ group: ['**/main/**', '**/renderer/**'], message: 'The preload only forwards the contract.' }]),
  },
  {
    files: ['src/main/peer/**/*.ts'],
    rules: restrict([
      { group: ['electron'], message: 'The peer runtime runs under plain Node: no Electron.' },
      { group: ['**/app/**', '**/cli/**', '**/renderer/**'], message: 'peer never imports app, cli or renderer.' },
    ]),
  },
  {
    files: ['src/main/cli/**/*.ts'],
    rules: restrict([
      { group: ['electron'], message: 'The CLI runs without Electron.' },
      { group: ['**/app/**', '**/renderer/**'], message: 'cli imports peer and shared only.' },
    ]),
  },
);
