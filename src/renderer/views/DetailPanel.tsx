import { useState, type ReactNode } from 'react';
import type { GameView, InstallMode } from '../../shared/api';
import { Badge } from '../components/Badge';
import { CancelButton } from '../components/CancelButton';
import { Cover } from '../components/Cover';
import { ProgressBar } from '../components/ProgressBar';
import { useActions, useAppState } from '../context';
import { formatBytes } from '../format';
import { installSpace, primaryActionOf, sharedText } from '../store/selectors';

function PrimaryButton({ game, mode }: { game: GameView; mode: InstallMode }) {
  const actions = useActions();
  const action = primaryActionOf(game);
  // Cancel deletes what was fetched: it asks first, as on the Downloads page.
  if (action.kind === 'cancel') return <CancelButton gameId={game.id} title={game.title} className="btn btn-primary btn-cancel" testId="primary-action" />;
  const run = () => {
    switch (action.kind) {
      case 'install':
        return void actions.install(game.id, game.downloaded ? 'normal' : mode);
      case 'update':
        return void actions.update(game.id);
      case 'play':
        return void actions.play(game.id);
      case 'stop':
        return void actions.stop(game.id);
      case 'none':
        return undefined;
    }
  };
  return (
    <button
      type="button"
      className={`btn btn-primary btn-${action.kind}`}
      data-testid="primary-action"
      data-action={action.kind}
      disabled={action.kind === 'none'}
      onClick={run}
    >
      {action.label}
    </button>
  );
}

/** The normal / streamed choice, with what each needs on disk. Only before a fresh install. */
function InstallModeChoice({ game, mode, onChange }: { game: GameView; mode: InstallMode; onChange: (mode: InstallMode) => void }) {
  const space = installSpace(game);
  return (
    <fieldset className="mode-choice" data-testid="install-mode">
      <legend>Install mode</legend>
      <label className={mode === 'normal' ? 'mode mode-on' : 'mode'}>
        <input type="radio" name="mode" value="normal" checked={mode === 'normal'} onChange={() => onChange('normal')} data-testid="mode-normal" />
        <span className="mode-name">Normal</span>
        <span className="mode-space">needs ~{formatBytes(space.normal)}</span>
        <span className="mode-hint">Keeps the archives so you can share the game with others.</span>
      </label>
      <label className={mode === 'streamed' ? 'mode mode-on' : 'mode'}>
        <input type="radio" name="mode" value="streamed" checked={mode === 'streamed'} onChange={() => onChange('streamed')} data-testid="mode-streamed" />
        <span className="mode-name">Streamed (low disk)</span>
        <span className="mode-space">needs ~{formatBytes(space.streamed)}</span>
        <span className="mode-hint">Unpacks straight from peers; this machine will not share it.</span>
      </label>
    </fieldset>
  );
}

/** Uninstall and Remove delete files: they ask first, saying what goes and what stays. */
function Confirm({ kind, game, onYes, onNo }: { kind: 'uninstall' | 'remove'; game: GameView; onYes: () => void; onNo: () => void }) {
  const text =
    kind === 'uninstall'
      ? `Uninstall ${game.title}? Its installed files are deleted, with any saves or settings the game keeps among them. ${
          game.downloaded ? 'The downloaded archives stay: you can install it again without downloading, and this machine keeps sharing it.' : 'Nothing of it stays here: installing it again downloads it again.'
        }`
      : `Remove the downloaded files of ${game.title} (${formatBytes(game.sizeBytes)})? This machine stops sharing it; installing it later downloads it again.`;
  return (
    <div className="confirm" role="alertdialog" aria-label={kind === 'uninstall' ? 'Confirm uninstall' : 'Confirm removal'} data-testid={`confirm-${kind}`}>
      <p>{text}</p>
      <div className="row">
        <button type="button" className="btn btn-danger" data-testid="confirm-yes" autoFocus onClick={onYes}>
          {kind === 'uninstall' ? 'Uninstall' : 'Remove files'}
        </button>
        <button type="button" className="btn" data-testid="confirm-no" onClick={onNo}>
          Keep it
        </button>
      </div>
    </div>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function DetailPanel({ game, onClose }: { game: GameView; onClose: () => void }) {
  const actions = useActions();
  const peers = useAppState((s) => s.peers);
  const lowDiskDefault = useAppState((s) => s.settings?.lowDiskDefault ?? false);
  const [mode, setMode] = useState<InstallMode>(lowDiskDefault ? 'streamed' : 'normal');
  const [confirming, setConfirming] = useState<'uninstall' | 'remove' | null>(null);
  const busy = game.operation !== null;
  const freshInstall = !game.installed && !game.downloaded && game.sourcePeers.length > 0 && !busy;

  return (
    <aside className="detail" data-testid="detail-panel" aria-label={`${game.title} details`}>
      <button type="button" className="detail-close" aria-label="Close details" data-testid="detail-close" onClick={onClose}>
        ×
      </button>
      <div className="detail-hero">
        <Cover game={game} className="detail-cover" />
        <div className="detail-heading">
          <h2 data-testid="detail-title">{game.title}</h2>
          <Badge game={game} />
          <p className="detail-sub">
            {game.releaseYear > 0 ? `${game.releaseYear} · ` : ''}
            {formatBytes(game.sizeBytes)} · up to {game.maxPlayers} player{game.maxPlayers === 1 ? '' : 's'}
          </p>
        </div>
      </div>

      <div className="detail-actions">
        <PrimaryButton game={game} mode={mode} />
        {game.installed && !busy ? (
          <button type="button" className="btn btn-secondary" data-testid="action-uninstall" disabled={game.running} onClick={() => setConfirming('uninstall')}>
            Uninstall
          </button>
        ) : null}
        {game.shared?.own && !busy ? (
          <button type="button" className="btn btn-secondary" data-testid="action-unshare" onClick={() => void actions.unshareGame(game.id)}>
            Stop sharing
          </button>
        ) : null}
        {/* Upstream removes a downloaded game's whole folder, so only one that is not installed. */}
        {game.downloaded && !game.installed && !busy ? (
          <button type="button" className="btn btn-secondary" data-testid="action-remove-downloaded" onClick={() => setConfirming('remove')}>
            Remove downloaded files
          </button>
        ) : null}
      </div>
      {game.downloaded && game.installed && !busy ? (
        <p className="muted small" data-testid="remove-explained">
          The downloaded archives ({formatBytes(game.sizeBytes)}) stay beside the installed game: they are what this machine shares. To remove them, uninstall the game first.
        </p>
      ) : null}
      {confirming && !busy ? (
        <Confirm
          kind={confirming}
          game={game}
          onYes={() => {
            setConfirming(null);
            void (confirming === 'uninstall' ? actions.uninstall(game.id) : actions.removeDownloaded(game.id));
          }}
          onNo={() => setConfirming(null)}
        />
      ) : null}
      {freshInstall ? <InstallModeChoice game={game} mode={mode} onChange={setMode} /> : null}
      {game.operation ? <ProgressBar operation={game.operation} /> : null}

      <p className="detail-description" data-testid="detail-description">
        {game.description || (game.shared ? 'No description given.' : 'No description in the catalog.')}
      </p>
      {game.shared && game.shared.conflicts.length > 0 ? (
        <div className="detail-conflict" data-testid="detail-description-conflict">
          <p className="small">Other peers describe this game differently; this is the description {game.shared.own ? 'you' : 'most of its peers'} gave. The others:</p>
          <ul>
            {game.shared.conflicts.map((conflict) => (
              <li key={`${conflict.title}/${conflict.sharedBy.join(',')}`}>
                <strong>{conflict.title}</strong> <span className="muted">by {conflict.sharedBy.join(', ')}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <dl className="facts">
        <Fact label="Genres">
          <span className="chips">
            {game.genres.map((genre) => (
              <span className="chip" key={genre}>
                {genre}
              </span>
            ))}
          </span>
        </Fact>
        <Fact label="Players">{game.maxPlayers}</Fact>
        {game.shared ? (
          <Fact label="Not in the catalog">
            <span data-testid="detail-shared-by">{sharedText(game.shared)}</span>
          </Fact>
        ) : null}
        <Fact label="Latest version">{game.latestVersion ?? '—'}</Fact>
        <Fact label="Downloaded">{game.localVersion ?? 'no'}</Fact>
        <Fact label="Installed">{game.installed ? (game.installedVersion ?? 'yes') : 'no'}</Fact>
        <Fact label="Sources">
          {game.manifestConflict ? (
            <p className="muted small" data-testid="detail-manifest-conflict">
              Peers share different builds of version {game.latestVersion}. Lanspread downloads one of them and never mixes their files.
            </p>
          ) : null}
          {game.sourcePeers.length === 0 ? (
            <span className="muted">No peer offers this version right now</span>
          ) : (
            <ul className="sources" data-testid="detail-sources">
              {game.sourcePeers.map((peerId) => (
                <li key={peerId}>
                  <span className="dot dot-on" /> {peers[peerId]?.name ?? `${peerId.slice(0, 12)}…`}
                </li>
              ))}
            </ul>
          )}
        </Fact>
      </dl>
    </aside>
  );
}
