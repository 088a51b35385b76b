import { useMemo } from 'react';
import { coverSvg } from '../../shared/cover';
import type { GameView } from '../../shared/api';

/** The generated cover as a data: image (allowed by the CSP; no inline markup injection). */
export function Cover({ game, className }: { game: Pick<GameView, 'id' | 'title' | 'genres'>; className?: string }) {
  const src = useMemo(() => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(coverSvg(game))}`, [game]);
  return <img className={className ?? 'cover'} src={src} alt="" draggable={false} />;
}
