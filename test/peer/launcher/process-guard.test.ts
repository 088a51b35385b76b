import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../../support/runtime-harness';

it('an escaped rejection and an escaped exception are logged and reported as coded errors; the process lives on', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/support/process-guard-child.ts')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code, stderr).toBe(0);
  const line = stdout.split('\n').find((text) => text.startsWith('REPORTS '));
  expect(line, stdout + stderr).toBeDefined();
  expect(JSON.parse((line as string).slice('REPORTS '.length))).toEqual([
    { code: 'DISK_FULL', message: 'Not enough disk space' },
    { code: 'INTERNAL', message: 'thrown from a timer' },
  ]);
  expect(stderr).toMatch(/unhandled rejection: \[DISK_FULL\]/);
  expect(stderr).toMatch(/uncaught exception: \[INTERNAL\] thrown from a timer/);
});
