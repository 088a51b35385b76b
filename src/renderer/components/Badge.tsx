import type { GameView } from '../../shared/api';
import { badgeOf } from '../store/selectors';

export function Badge({ game }: { game: GameView }) {
  const { tone, label } = badgeOf(game);
  return (
    <span className={`badge badge-${tone}`} data-testid="game-badge" data-tone={tone}>
      {label}
    </span>
  );
}
