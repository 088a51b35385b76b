import type { OperationView } from '../../shared/api';
import { formatBytes, formatEta, formatSpeed, percentOf } from '../format';
import { operationLabel } from '../store/selectors';

/** Progress of one operation: bar plus percent, and (unless compact) speed, ETA and peers. */
export function ProgressBar({ operation, compact = false }: { operation: OperationView; compact?: boolean }) {
  const percent = percentOf(operation.bytesDone, operation.totalBytes);
  // Until the first chunk is verified there is nothing done to show: bytes are on their way (a
  // chunk is counted once checked), so "0 %" beside a speed would contradict itself.
  const starting = operation.phase === 'transfer' && operation.bytesDone === 0 && operation.totalBytes > 0;
  const indeterminate = operation.totalBytes <= 0 || starting;
  return (
    <div className={`progress${compact ? ' progress-compact' : ''}`} data-testid="progress" data-percent={percent}>
      <div
        className={`progress-track${indeterminate ? ' progress-indeterminate' : ''}`}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={indeterminate ? undefined : percent}
      >
        <div className="progress-fill" style={{ width: indeterminate ? '100%' : `${percent}%` }} />
      </div>
      {compact ? null : (
        <div className="progress-stats">
          <span className="progress-percent" data-testid="progress-percent">
            {operationLabel(operation)} {starting ? '· first chunks on their way' : indeterminate ? '' : percent === 0 && operation.bytesDone > 0 ? '<1%' : `${percent}%`}
          </span>
          {operation.totalBytes > 0 && !starting ? (
            <span>
              {formatBytes(operation.bytesDone)} / {formatBytes(operation.totalBytes)}
            </span>
          ) : null}
          {starting ? null : (
            <>
              <span data-testid="progress-speed">{formatSpeed(operation.bytesPerSecond)}</span>
              <span data-testid="progress-eta">ETA {formatEta(operation.etaSeconds)}</span>
            </>
          )}
          <span data-testid="progress-peers">
            {operation.activePeers} peer{operation.activePeers === 1 ? '' : 's'}
          </span>
          {operation.fullSources === undefined ? null : (
            <span data-testid="progress-sources" title="Peers with the whole game, and peers still downloading it that pass on what they have">
              {operation.fullSources} full · {operation.partialSources ?? 0} partial
            </span>
          )}
          {operation.uploadedBytes ? <span data-testid="progress-uploaded">↑ {formatBytes(operation.uploadedBytes)} shared</span> : null}
        </div>
      )}
    </div>
  );
}
