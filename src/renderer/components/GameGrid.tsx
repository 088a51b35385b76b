import { useEffect, useRef, type KeyboardEvent } from 'react';
import type { GameView } from '../../shared/api';
import { GameCard } from './GameCard';

interface Props {
  games: GameView[];
  selectedId: string | null;
  onSelect: (id: string) => void;
  onOpen: (id: string) => void;
}

/** Cards per row, read from the layout (the grid reflows with the window). */
function columnsOf(cards: HTMLElement[]): number {
  const top = cards[0]?.offsetTop;
  if (top === undefined) return 1;
  const sameRow = cards.findIndex((card) => card.offsetTop !== top);
  return sameRow === -1 ? cards.length : Math.max(1, sameRow);
}

/** The library grid: arrow keys move the selection, Enter opens the detail panel. */
export function GameGrid({ games, selectedId, onSelect, onOpen }: Props) {
  const refs = useRef(new Map<string, HTMLDivElement>());
  const index = Math.max(0, games.findIndex((g) => g.id === selectedId));

  useEffect(() => {
    if (selectedId && document.activeElement?.closest('[data-testid="game-grid"]')) refs.current.get(selectedId)?.focus();
  }, [selectedId]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (games.length === 0) return;
    const cards = games.map((g) => refs.current.get(g.id)).filter((c): c is HTMLDivElement => !!c);
    const columns = columnsOf(cards);
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns, Home: -games.length, End: games.length };
    const step = moves[event.key];
    if (step !== undefined) {
      event.preventDefault();
      const next = games[Math.min(games.length - 1, Math.max(0, index + step))];
      if (next) {
        onSelect(next.id);
        refs.current.get(next.id)?.focus();
      }
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      const current = games[index];
      if (current) onOpen(current.id);
    }
  };

  return (
    <div className="grid" role="listbox" aria-label="Games" data-testid="game-grid" onKeyDown={onKeyDown}>
      {games.map((game, i) => (
        <GameCard
          key={game.id}
          ref={(el) => {
            if (el) refs.current.set(game.id, el);
            else refs.current.delete(game.id);
          }}
          game={game}
          selected={game.id === selectedId}
          // With nothing selected yet, the first card takes the tab stop.
          tabbable={game.id === selectedId || (selectedId === null && i === 0)}
          onSelect={() => onSelect(game.id)}
          onOpen={() => onOpen(game.id)}
        />
      ))}
    </div>
  );
}
