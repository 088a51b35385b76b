import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { GameView, LauncherApi } from '../shared/api';

/** Placeholder library page: lists the games the runtime reports (the full UI comes with issue 6). */
declare global {
  interface Window {
    lanspread?: LauncherApi;
  }
}

function App() {
  const [games, setGames] = useState<GameView[]>([]);
  useEffect(() => {
    const api = window.lanspread;
    if (!api) return;
    void api.invoke('request_games').then(setGames);
    return api.on('games-list-updated', ({ games: next }) => setGames(next));
  }, []);
  return (
    <main style={{ fontFamily: 'system-ui', color: '#e6e9f0', background: '#0d1017', minHeight: '100vh', padding: 24 }}>
      <h1>Lanspread</h1>
      {games.length === 0 ? <p>No games on this machine or the LAN yet.</p> : null}
      <ul>
        {games.map((game) => (
          <li key={game.id}>
            {game.title} — {game.installed ? 'installed' : game.downloaded ? 'downloaded' : `on ${game.sourcePeers.length} peers`}
          </li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
