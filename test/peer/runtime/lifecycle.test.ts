import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { makeWorkDir, repoRoot } from '../../support/runtime-harness';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

it('stopping a runtime leaves nothing that keeps the process alive', async () => {
  const work = await makeWorkDir('lifecycle');
  cleanups.push(work.cleanup);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/support/runtime-lifecycle-child.ts'), work.dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Generous bound: a leaked handle keeps the child alive forever, a clean stop exits at once.
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exit;
  clearTimeout(timer);
  expect(output).toContain('stopped');
  expect(code, output).toBe(0);
});
