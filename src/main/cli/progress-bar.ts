import type { SwarmFigures } from '../../shared/api';
import { formatBytes } from './format';

/** One terminal line redrawn in place: `label [#####-----] 52% 12.3 MiB/s ETA 0:42 3 peers (1 full, 2 partial) up 4.0 MiB`. */
export function renderProgress(label: string, done: number, total: number, bytesPerSecond: number, etaSeconds: number | null, peers: number | null, swarm: SwarmFigures = {}, width = 30): string {
  // Nothing is done before the first verified chunk: a speed beside 0 % would contradict itself.
  if (done === 0 && total > 0) return `${label.padEnd(8)} [${'-'.repeat(width)}]   starting: first chunks on their way, ${formatBytes(total)} in all${peers === null ? '' : ` from ${peers} ${peers === 1 ? 'peer' : 'peers'}`}`;
  const fraction = total > 0 ? Math.min(done / total, 1) : 0;
  const filled = Math.round(fraction * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  const eta = etaSeconds === null ? '--:--' : formatDuration(etaSeconds);
  const peerText = peers === null ? '' : ` ${peers} ${peers === 1 ? 'peer' : 'peers'}`;
  const sourceText = swarm.fullSources === undefined ? '' : ` (${swarm.fullSources} full, ${swarm.partialSources ?? 0} partial)`;
  const uploadText = swarm.uploadedBytes ? ` up ${formatBytes(swarm.uploadedBytes)}` : '';
  return `${label.padEnd(8)} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)} ${formatBytes(bytesPerSecond)}/s ETA ${eta}${peerText}${sourceText}${uploadText}`;
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
