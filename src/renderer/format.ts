/** Human-readable numbers for sizes, speeds and durations. Sizes are binary (KiB, MiB, GiB), as in the CLI (shared/units.ts). */

export { formatBytes } from '../shared/units';
import { formatBytes } from '../shared/units';

export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function percentOf(done: number, total: number): number {
  if (total <= 0) return 0;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}

/** How long something took: "42s", "3m 05s", "1h 02m" ("—" when unknown). */
export function formatDuration(ms: number | null): string {
  return ms === null ? '—' : formatEta(ms / 1000);
}
