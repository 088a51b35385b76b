import { useState, type DragEvent } from 'react';
import type { OperationView, PeerView } from '../../shared/api';
import { finishedFigures } from '../../shared/operation';
import { CancelButton } from '../components/CancelButton';
import { Cover } from '../components/Cover';
import { EmptyState } from '../components/EmptyState';
import { useActions, useAppState } from '../context';
import { sentenceFor } from '../error-text';
import { formatBytes, formatDuration, formatEta, formatSpeed, percentOf } from '../format';
import { downloadControls, downloadStateText, operationLabel, splitQueue } from '../store/selectors';

function useTitle(gameId: string): string {
  return useAppState((s) => s.games[gameId]?.title ?? gameId);
}

function Bar({ operation }: { operation: OperationView }) {
  const percent = percentOf(operation.bytesDone, operation.totalBytes);
  return (
    <div className="progress-track" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={operation.totalBytes > 0 ? percent : undefined} data-testid="download-bar" data-percent={percent}>
      <div className="progress-fill" style={{ width: operation.totalBytes > 0 ? `${percent}%` : '0%' }} />
    </div>
  );
}

/** Network and disk rate, ETA, the swarm's full and partial sources, and what each peer sent. */
function LiveFigures({ operation, peers }: { operation: OperationView; peers: Record<string, PeerView> }) {
  const perPeer = [...(operation.peerBytes ?? [])].sort((a, b) => b.bytes - a.bytes);
  return (
    <>
      <dl className="dl-figures">
        <div>
          <dt>Network</dt>
          <dd data-testid="download-net-rate">{formatSpeed(operation.bytesPerSecond)}</dd>
        </div>
        {operation.diskBytesPerSecond === undefined ? null : (
          <div>
            <dt>Disk</dt>
            <dd data-testid="download-disk-rate">{formatSpeed(operation.diskBytesPerSecond)}</dd>
          </div>
        )}
        <div>
          <dt>ETA</dt>
          <dd data-testid="download-eta">{formatEta(operation.etaSeconds)}</dd>
        </div>
        {operation.fullSources === undefined ? null : (
          <div title="Peers with the whole game, and peers still downloading it that pass on what they have">
            <dt>Sources</dt>
            <dd data-testid="download-sources">
              {operation.fullSources} full · {operation.partialSources ?? 0} partial
            </dd>
          </div>
        )}
      </dl>
      {perPeer.length > 0 ? (
        <ul className="dl-peers" aria-label="Received from each peer" data-testid="download-peers">
          {perPeer.map((entry) => (
            <li key={entry.peerId} data-testid="download-peer">
              <span className="dot dot-on" /> {peers[entry.peerId]?.name ?? `${entry.peerId.slice(0, 12)}…`} <span className="muted">{formatBytes(entry.bytes)}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}

function Controls({ operation, title, place, waiting }: { operation: OperationView; title: string; place: number | null; waiting: number }) {
  const actions = useActions();
  const can = downloadControls(operation);
  const { gameId } = operation;
  return (
    <div className="dl-controls">
      {can.move && place !== null ? (
        <>
          <button type="button" className="btn btn-small btn-icon" data-testid="download-top" aria-label={`Move ${title} to the top`} title="Move to top" disabled={place === 0} onClick={() => void actions.move(gameId, 0)}>
            ⤒
          </button>
          <button type="button" className="btn btn-small btn-icon" data-testid="download-up" aria-label={`Move ${title} up`} title="Move up" disabled={place === 0} onClick={() => void actions.move(gameId, place - 1)}>
            ↑
          </button>
          <button type="button" className="btn btn-small btn-icon" data-testid="download-down" aria-label={`Move ${title} down`} title="Move down" disabled={place >= waiting - 1} onClick={() => void actions.move(gameId, place + 1)}>
            ↓
          </button>
        </>
      ) : null}
      {can.pause ? (
        <button type="button" className="btn btn-small" data-testid="download-pause" aria-label={`Pause ${title}`} onClick={() => void actions.pause(gameId)}>
          Pause
        </button>
      ) : null}
      {can.resume ? (
        <button type="button" className="btn btn-small btn-accent" data-testid="download-resume" aria-label={`Resume ${title}`} onClick={() => void actions.resume(gameId)}>
          Resume
        </button>
      ) : null}
      {can.cancel ? <CancelButton gameId={gameId} title={title} /> : null}
    </div>
  );
}

/** The game id a dragged queue row carries (a type of our own, so nothing else dropped here is taken for one). */
const DRAG_TYPE = 'application/x-lanspread-download';

/** Drag and drop within Up next (the buttons do the same from the keyboard): a row dropped on another takes its place. */
function useDropTarget(place: number | null) {
  const actions = useActions();
  const [over, setOver] = useState(false);
  if (place === null) return { over: false, handlers: {} };
  return {
    over,
    handlers: {
      onDragOver: (event: DragEvent) => {
        if (!event.dataTransfer.types.includes(DRAG_TYPE)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'move';
        setOver(true);
      },
      onDragLeave: () => setOver(false),
      onDrop: (event: DragEvent) => {
        setOver(false);
        const dragged = event.dataTransfer.getData(DRAG_TYPE);
        if (!dragged) return;
        event.preventDefault();
        void actions.move(dragged, place);
      },
    },
  };
}

function QueueItem({ operation, place, waiting, peers }: { operation: OperationView; place: number | null; waiting: number; peers: Record<string, PeerView> }) {
  const title = useTitle(operation.gameId);
  const game = useAppState((s) => s.games[operation.gameId]);
  const live = operation.state === 'running' || operation.state === 'finishing';
  const percent = percentOf(operation.bytesDone, operation.totalBytes);
  const drop = useDropTarget(place);
  const draggable = place !== null && downloadControls(operation).move;
  return (
    <li
      className={`dl-item dl-${operation.state}${drop.over ? ' dl-drop' : ''}${draggable ? ' dl-draggable' : ''}`}
      data-testid={`download-${operation.gameId}`}
      data-state={operation.state}
      data-kind={operation.kind}
      draggable={draggable}
      onDragStart={draggable ? (event) => event.dataTransfer.setData(DRAG_TYPE, operation.gameId) : undefined}
      {...drop.handlers}
    >
      {game ? <Cover game={game} className="dl-cover" /> : <div className="dl-cover" />}
      <div className="dl-main">
        <div className="dl-head">
          <strong className="dl-title">{title}</strong>
          <span className={`badge ${operation.state === 'waiting-for-peers' ? 'badge-update' : 'badge-busy'}`} data-testid="download-label">
            {live ? operationLabel(operation) : downloadStateText(operation)}
          </span>
          {place !== null ? (
            <span className="muted small" data-testid="download-place">
              #{place + 1}
            </span>
          ) : null}
        </div>
        {operation.state === 'waiting-for-peers' ? (
          <p className="dl-waiting" data-testid="download-waiting">
            Waiting for a peer that has it. It starts again on its own when one is back{operation.bytesDone > 0 ? '; what was downloaded is kept' : ''}.
          </p>
        ) : null}
        {operation.totalBytes > 0 || live ? (
          <div className="dl-progress">
            <Bar operation={operation} />
            <span className="small" data-testid="download-percent">
              {operation.totalBytes > 0 ? `${percent}% · ${formatBytes(operation.bytesDone)} / ${formatBytes(operation.totalBytes)}` : live ? downloadStateText(operation) : ''}
            </span>
          </div>
        ) : null}
        {live && operation.phase === 'transfer' ? <LiveFigures operation={operation} peers={peers} /> : null}
      </div>
      <Controls operation={operation} title={title} place={place} waiting={waiting} />
    </li>
  );
}

function FinishedItem({ operation }: { operation: OperationView }) {
  const title = useTitle(operation.gameId);
  const { tookMs, averageBytesPerSecond } = finishedFigures(operation);
  return (
    <li className={`dl-item dl-ended dl-${operation.state}`} data-testid={`finished-${operation.gameId}`} data-state={operation.state}>
      <div className="dl-main">
        <div className="dl-head">
          <strong className="dl-title">{title}</strong>
          <span className={`badge ${operation.state === 'done' ? 'badge-installed' : operation.state === 'failed' ? 'badge-failed' : 'badge-none'}`} data-testid="finished-label">
            {operation.state === 'done' ? `${OPERATION_DONE[operation.kind]}` : operationLabel(operation)}
          </span>
        </div>
        <div className="dl-figures-line muted small">
          {tookMs === null ? <span data-testid="finished-never">never started</span> : <span data-testid="finished-took">took {formatDuration(tookMs)}</span>}
          {operation.transferredBytes > 0 ? <span data-testid="finished-size">{formatBytes(operation.transferredBytes)}</span> : null}
          {averageBytesPerSecond === null ? null : <span data-testid="finished-rate">average {formatSpeed(averageBytesPerSecond)}</span>}
          {operation.endedAt !== null ? <span>ended {new Date(operation.endedAt).toLocaleTimeString()}</span> : null}
        </div>
        {operation.state === 'failed' && operation.error ? (
          <p className="dl-error small" data-testid="finished-error" data-code={operation.error.code}>
            {sentenceFor(operation.error.code)} <span className="muted">{operation.error.message}</span>
          </p>
        ) : null}
      </div>
    </li>
  );
}

const OPERATION_DONE: Record<OperationView['kind'], string> = {
  download: 'Downloaded',
  install: 'Installed',
  update: 'Updated',
  'stream-install': 'Installed (streamed)',
  uninstall: 'Uninstalled',
  'remove-downloaded': 'Removed',
};

/** Turns the browser's notifications on from a click (the only moment a browser lets a page ask). */
function NotificationToggle() {
  const actions = useActions();
  const state = useAppState((s) => s.notifications);
  switch (state) {
    case 'native':
    case 'unsupported':
      return null;
    case 'denied':
      return (
        <span className="muted small" data-testid="notifications-denied">
          Notifications are blocked for this page in the browser's settings.
        </span>
      );
    case 'off':
    case 'on':
      return (
        <label className="field-check dl-notify">
          <input type="checkbox" checked={state === 'on'} onChange={(e) => void actions.setNotifications(e.target.checked)} data-testid="notifications-toggle" />
          <span>Notify me when a download finishes or fails</span>
        </label>
      );
  }
}

export function DownloadsView() {
  const actions = useActions();
  const downloads = useAppState((s) => s.downloads);
  const peers = useAppState((s) => s.peers);
  const { now, next } = splitQueue(downloads?.queue ?? []);
  const finished = [...(downloads?.finished ?? [])].reverse();
  return (
    <section className="page downloads" data-testid="downloads-page">
      <div className="dl-header">
        <h1>
          Downloads <span className="count">{now.length + next.length}</span>
        </h1>
        <NotificationToggle />
      </div>
      {downloads === null ? <p className="muted">Loading…</p> : null}
      {downloads && now.length + next.length === 0 ? (
        <EmptyState icon="⇣" title="Nothing to download" testId="downloads-empty">
          <p>Install, update or download a game from the library: it joins this queue.</p>
        </EmptyState>
      ) : null}
      {now.length > 0 ? (
        <section className="dl-section" aria-labelledby="dl-now">
          <h2 id="dl-now">Now {downloads && downloads.concurrency > 1 ? <span className="muted small">up to {downloads.concurrency} at once</span> : null}</h2>
          <ul className="dl-list" data-testid="downloads-now">
            {now.map((operation) => (
              <QueueItem key={operation.gameId} operation={operation} place={null} waiting={next.length} peers={peers} />
            ))}
          </ul>
        </section>
      ) : null}
      {next.length > 0 ? (
        <section className="dl-section" aria-labelledby="dl-next">
          <h2 id="dl-next">Up next</h2>
          <ol className="dl-list" data-testid="downloads-queue">
            {next.map((operation, index) => (
              <QueueItem key={operation.gameId} operation={operation} place={operation.queuePosition ?? index} waiting={next.length} peers={peers} />
            ))}
          </ol>
        </section>
      ) : null}
      {finished.length > 0 ? (
        <section className="dl-section" aria-labelledby="dl-finished">
          <div className="dl-section-head">
            <h2 id="dl-finished">Finished</h2>
            <button type="button" className="btn btn-small" data-testid="downloads-clear" onClick={() => void actions.clearFinished()}>
              Clear
            </button>
          </div>
          <ul className="dl-list" data-testid="downloads-finished">
            {finished.map((operation) => (
              <FinishedItem key={`${operation.gameId}-${operation.seq}`} operation={operation} />
            ))}
          </ul>
        </section>
      ) : null}
    </section>
  );
}
