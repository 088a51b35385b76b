import { useEffect } from 'react';
import { Toasts } from './components/Toasts';
import { useAppState, useStoreApi } from './context';
import { downloadsCount } from './store/selectors';
import type { View } from './store/store';
import { DownloadsView } from './views/DownloadsView';
import { LibraryView } from './views/LibraryView';
import { PeersView } from './views/PeersView';
import { SettingsView } from './views/SettingsView';

const NAV: { view: View; label: string; icon: string }[] = [
  { view: 'library', label: 'Library', icon: '▦' },
  { view: 'downloads', label: 'Downloads', icon: '⇣' },
  { view: 'peers', label: 'Peers', icon: '⇄' },
  { view: 'settings', label: 'Settings', icon: '⚙' },
];

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  open: null,
  reconnecting: 'Connection lost — reconnecting…',
  unauthorized: 'Access denied: open the URL printed by the host (with its ?token=).',
} as const;

function Sidebar() {
  const store = useStoreApi();
  const view = useAppState((s) => s.view);
  const peerCount = useAppState((s) => s.peerCount);
  const name = useAppState((s) => s.settings?.displayName ?? s.status?.displayName ?? '');
  // Two number selectors rather than one object: a fresh object per read would re-render forever.
  const installed = useAppState((s) => Object.values(s.games).filter((g) => g.installed).length);
  const busy = useAppState((s) => Object.values(s.games).filter((g) => g.operation).length);
  const downloads = useAppState((s) => downloadsCount(s.downloads));
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <span className="brand-mark">◆</span> Lanspread
      </div>
      {NAV.map((item) => (
        <button
          key={item.view}
          type="button"
          className={`nav${view === item.view ? ' nav-on' : ''}`}
          aria-current={view === item.view ? 'page' : undefined}
          data-testid={`nav-${item.view}`}
          onClick={() => store.setState({ view: item.view })}
        >
          <span className="nav-icon" aria-hidden="true">
            {item.icon}
          </span>
          {item.label}
          {item.view === 'peers' ? (
            <span className="nav-count" data-testid="peer-count">
              {peerCount}
            </span>
          ) : null}
          {item.view === 'downloads' && downloads > 0 ? (
            <span className="nav-count nav-count-on" data-testid="downloads-count" aria-label={`${downloads} active or queued`}>
              {downloads}
            </span>
          ) : null}
        </button>
      ))}
      <div className="sidebar-foot">
        <div>
          <span className={`dot ${peerCount > 0 ? 'dot-on' : 'dot-off'}`} /> {peerCount > 0 ? `${peerCount} peer${peerCount === 1 ? '' : 's'} online` : 'No peers yet'}
        </div>
        <div className="muted small">
          {installed} installed{busy ? ` · ${busy} active` : ''}
        </div>
        {name ? <div className="muted small">You are {name}</div> : null}
      </div>
    </nav>
  );
}

/** Escape closes the detail panel, or leaves settings/peers for the library. */
function useEscape() {
  const store = useStoreApi();
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      const { detailOpen, view } = store.getState();
      if (detailOpen) store.setState({ detailOpen: false });
      else if (view !== 'library') store.setState({ view: 'library' });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);
}

function CurrentView({ view }: { view: View }) {
  switch (view) {
    case 'library':
      return <LibraryView />;
    case 'downloads':
      return <DownloadsView />;
    case 'peers':
      return <PeersView />;
    case 'settings':
      return <SettingsView />;
  }
}

export function App() {
  const view = useAppState((s) => s.view);
  const connection = useAppState((s) => s.connection);
  useEscape();
  const banner = CONNECTION_TEXT[connection];
  return (
    <div className="app">
      <Sidebar />
      <main className="content">
        {banner ? (
          <div className={`connection connection-${connection}`} data-testid="connection-banner" role="status">
            {banner}
          </div>
        ) : null}
        <CurrentView view={view} />
      </main>
      <Toasts />
    </div>
  );
}
