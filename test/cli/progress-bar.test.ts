import { describe, expect, it } from 'vitest';
import { renderProgress } from '../../src/main/cli/progress-bar';

describe('renderProgress', () => {
  it('names full and partial sources and the bytes shared when a download has them', () => {
    const line = renderProgress('download', 512, 1024, 256, 2, 3, { fullSources: 1, partialSources: 2, uploadedBytes: 2 * 1024 * 1024 }, 10);
    expect(line).toContain('50%');
    expect(line).toContain('3 peers (1 full, 2 partial)');
    expect(line).toMatch(/up 2(\.0)? MiB/);
  });

  it('says nothing of a swarm where there is none (an install)', () => {
    const line = renderProgress('install', 1, 2, 0, null, null, {}, 10);
    expect(line).not.toContain('full');
    expect(line).not.toContain(' up ');
  });

  it('shows no 0 % and no speed before the first verified chunk', () => {
    const line = renderProgress('download', 0, 4 * 1024 * 1024, 9_000_000, 1, 2, {}, 10);
    expect(line).not.toMatch(/\b0%/);
    expect(line).not.toContain('/s');
    expect(line).toContain('starting: first chunks on their way, 4.0 MiB in all from 2 peers');
    expect(renderProgress('download', 1, 4 * 1024 * 1024, 9_000_000, 1, 2, {}, 10)).toContain('8.6 MiB/s');
  });
});
