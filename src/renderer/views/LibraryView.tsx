import { useMemo } from 'react';
import { EmptyState } from '../components/EmptyState';
import { GameGrid } from '../components/GameGrid';
import { useAppState, useStoreApi } from '../context';
import { visibleGames, type LibraryFilter, type LibrarySort } from '../store/selectors';
import { DetailPanel } from './DetailPanel';

const FILTERS: { value: LibraryFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'installed', label: 'Installed' },
  { value: 'available', label: 'Available' },
  { value: 'updates', label: 'Updates' },
];

const SORTS: { value: LibrarySort; label: string }[] = [
  { value: 'title', label: 'Title' },
  { value: 'size', label: 'Size' },
  { value: 'year', label: 'Newest' },
  { value: 'peers', label: 'Most peers' },
];

function Toolbar() {
  const store = useStoreApi();
  const search = useAppState((s) => s.search);
  const filter = useAppState((s) => s.filter);
  const sort = useAppState((s) => s.sort);
  return (
    <div className="toolbar">
      <input
        className="search"
        type="search"
        placeholder="Search games or genres…"
        value={search}
        onChange={(e) => store.setState({ search: e.target.value })}
        data-testid="search"
        aria-label="Search"
      />
      <div className="filters" role="group" aria-label="Filter">
        {FILTERS.map((f) => (
          <button
            key={f.value}
            type="button"
            className={`filter${filter === f.value ? ' filter-on' : ''}`}
            aria-pressed={filter === f.value}
            data-testid={`filter-${f.value}`}
            onClick={() => store.setState({ filter: f.value })}
          >
            {f.label}
          </button>
        ))}
      </div>
      <label className="sort">
        <span>Sort</span>
        <select value={sort} onChange={(e) => store.setState({ sort: e.target.value as LibrarySort })} data-testid="sort">
          {SORTS.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

/** Why the library looks empty, if it does: the banner above the grid or the whole page. */
function useLibraryNotice(): 'no-dir' | 'no-peers' | 'nothing-shared' | null {
  const gameDir = useAppState((s) => (s.settings ? s.settings.gameDir : (s.status?.gameDir ?? null)));
  const known = useAppState((s) => s.settings !== null || s.status !== null);
  const peerCount = useAppState((s) => s.peerCount);
  const anyAvailable = useAppState((s) => Object.values(s.games).some((g) => g.sourcePeers.length > 0 || g.downloaded || g.installed));
  if (known && !gameDir) return 'no-dir';
  if (anyAvailable) return null;
  return peerCount === 0 ? 'no-peers' : 'nothing-shared';
}

export function LibraryView() {
  const store = useStoreApi();
  const games = useAppState((s) => s.games);
  const order = useAppState((s) => s.order);
  const loaded = useAppState((s) => s.loaded);
  const search = useAppState((s) => s.search);
  const filter = useAppState((s) => s.filter);
  const sort = useAppState((s) => s.sort);
  const selectedId = useAppState((s) => s.selectedId);
  const detailOpen = useAppState((s) => s.detailOpen);
  const notice = useLibraryNotice();
  const list = useMemo(() => visibleGames(games, order, { search, filter, sort }), [games, order, search, filter, sort]);
  const selected = selectedId ? games[selectedId] : undefined;

  return (
    <div className={`library${detailOpen && selected ? ' library-with-detail' : ''}`}>
      <section className="library-main">
        <Toolbar />
        {notice === 'no-dir' ? (
          <EmptyState icon="📁" title="Choose a game folder" testId="empty-no-dir">
            <p>Lanspread keeps one folder per game there, and shares what you have downloaded with the LAN.</p>
            <button type="button" className="btn btn-primary" data-testid="empty-open-settings" onClick={() => store.setState({ view: 'settings' })}>
              Open settings
            </button>
          </EmptyState>
        ) : null}
        {notice === 'no-peers' ? (
          <div className="notice" data-testid="empty-no-peers">
            <span className="pulse" /> Looking for peers on the LAN… Games become installable as soon as someone shares them.
          </div>
        ) : null}
        {notice === 'nothing-shared' ? (
          <div className="notice" data-testid="empty-nothing-shared">
            Peers are here, but nobody shares a game yet. Downloaded games are shared automatically.
          </div>
        ) : null}
        {!loaded ? (
          <EmptyState icon="⏳" title="Loading the library…" testId="empty-loading" />
        ) : list.length === 0 && notice !== 'no-dir' ? (
          order.length === 0 ? (
            // The catalog is bundled; games show once someone has them (a peer, or this machine's folder).
            <EmptyState icon="🎮" title="No games here yet" testId="empty-no-games">
              <p>Games appear as soon as a peer on the LAN shares one, or one is in your game folder.</p>
            </EmptyState>
          ) : (
            <EmptyState icon="🔍" title="No games match" testId="empty-no-match">
              <p>Try another search or filter.</p>
            </EmptyState>
          )
        ) : notice === 'no-dir' ? null : (
          <GameGrid
            games={list}
            selectedId={selectedId}
            onSelect={(id) => store.setState({ selectedId: id })}
            onOpen={(id) => store.setState({ selectedId: id, detailOpen: true })}
          />
        )}
      </section>
      {detailOpen && selected ? <DetailPanel key={selected.id} game={selected} onClose={() => store.setState({ detailOpen: false })} /> : null}
    </div>
  );
}
