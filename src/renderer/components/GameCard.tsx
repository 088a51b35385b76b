import { forwardRef } from 'react';
import type { GameView } from '../../shared/api';
import { sharedText } from '../store/selectors';
import { formatBytes } from '../format';
import { Badge } from './Badge';
import { Cover } from './Cover';
import { ProgressBar } from './ProgressBar';

interface Props {
  game: GameView;
  selected: boolean;
  /** The one card reachable with Tab (roving tab stop). */
  tabbable: boolean;
  onSelect: () => void;
  onOpen: () => void;
}

export const GameCard = forwardRef<HTMLDivElement, Props>(function GameCard({ game, selected, tabbable, onSelect, onOpen }, ref) {
  return (
    <div
      ref={ref}
      role="option"
      aria-selected={selected}
      tabIndex={tabbable ? 0 : -1}
      className={`card${selected ? ' card-selected' : ''}${game.running ? ' card-running' : ''}`}
      data-testid={`game-card-${game.id}`}
      data-game-id={game.id}
      onClick={() => {
        onSelect();
        onOpen();
      }}
      onFocus={onSelect}
    >
      <div className="card-cover">
        <Cover game={game} />
        <Badge game={game} />
        {game.operation ? (
          <div className="card-progress">
            <ProgressBar operation={game.operation} compact />
          </div>
        ) : null}
      </div>
      <div className="card-meta">
        <span className="card-title" title={game.title}>
          {game.title}
        </span>
        <span className="card-size">{formatBytes(game.sizeBytes)}</span>
      </div>
      {game.shared ? (
        <div className="card-shared" data-testid="card-shared" title={sharedText(game.shared)}>
          {sharedText(game.shared)}
        </div>
      ) : null}
    </div>
  );
});
