import { spawnSync } from 'node:child_process';

/** Debian package of each baseline tool the netns benches run. */
const PACKAGE_OF: Record<string, string> = {
  aria2c: 'aria2',
  opentracker: 'opentracker',
  mktorrent: 'mktorrent',
  nginx: 'nginx-light',
  curl: 'curl',
};

/**
 * null when every tool is on PATH (or in /usr/sbin, where Debian puts nginx); otherwise why the
 * baseline is skipped, with the exact command that installs what is missing.
 */
export function missingToolsReason(tools: readonly string[]): string | null {
  const missing = tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]).status !== 0);
  if (missing.length === 0) return null;
  const packages = [...new Set(missing.map((tool) => PACKAGE_OF[tool] ?? tool))];
  return `${missing.join(', ')} not installed; run: apt-get install -y ${packages.join(' ')}`;
}
