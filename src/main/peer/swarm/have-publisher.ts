import { setTimeout as sleep } from 'node:timers/promises';
import { LanspreadError } from '../../../shared/errors';
import type { HaveEndReason, HaveFrame } from '../protocol/have';
import { MAX_HAVE_IDS } from '../protocol/have';
import type { HaveHandler } from '../transport/types';
import type { PartialShares } from './partial-shares';

export interface HavePublisherDeps {
  partials: PartialShares;
  /** Whether this peer serves the game whole with exactly this manifest id (a subscriber then needs no have-map). */
  servesWhole(gameId: string, manifestId: string): Promise<boolean>;
  /** New chunks are gathered this long before a Have frame goes out: at most a few frames a second per subscriber. */
  batchMs?: number;
  /** An empty Have frame this often keeps a quiet subscription (and the lane's idle timer) alive. */
  keepAliveMs?: number;
}

const DEFAULT_BATCH_MS = 200;
const DEFAULT_KEEP_ALIVE_MS = 15_000;

/**
 * Answers SubscribeHave on the data lane: the partial share's have-map, then its new chunks in
 * batches, until it completes or is withdrawn. A game served whole ends at once with
 * HaveEnd(complete); a game not shared with that manifest id is GAME_NOT_SERVED.
 */
export function createHavePublisher(deps: HavePublisherDeps): HaveHandler {
  const batchMs = deps.batchMs ?? DEFAULT_BATCH_MS;
  const keepAliveMs = deps.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  return async function* publish(request, signal): AsyncGenerator<HaveFrame> {
    const share = deps.partials.get(request.gameId);
    if (!share || share.manifestId !== request.manifestId) {
      if (await deps.servesWhole(request.gameId, request.manifestId)) {
        yield { type: 'HaveEnd', reason: 'complete' };
        return;
      }
      throw new LanspreadError('GAME_NOT_SERVED', `${request.gameId} is not shared here with manifest ${request.manifestId.slice(0, 12)}`);
    }
    const fresh: number[] = [];
    const fetching = new Set<number>();
    const abandoned = new Set<number>();
    let ended: HaveEndReason | null = null;
    let wake: (() => void) | null = null;
    const off = share.subscribe((event) => {
      if (event.type === 'end') ended = event.reason;
      else if (event.type === 'have') {
        fresh.push(event.id);
        fetching.delete(event.id);
      } else if (event.type === 'fetching') {
        fetching.add(event.id);
        abandoned.delete(event.id);
      } else if (!fetching.delete(event.id)) abandoned.add(event.id);
      wake?.();
    });
    const pending = () => fresh.length + fetching.size + abandoned.size;
    try {
      // Subscribed first, then the snapshot: a chunk verified in between is announced twice, never missed.
      yield { type: 'HaveMap', chunks: share.have.size, bits: share.have.toBase64() };
      for (const id of share.fetching) fetching.add(id);
      while (!signal.aborted) {
        if (pending() === 0 && ended === null) {
          const news = await new Promise<boolean>((resolve) => {
            const settle = (value: boolean) => {
              clearTimeout(timer);
              signal.removeEventListener('abort', onAbort);
              wake = null;
              resolve(value);
            };
            const onAbort = () => settle(false);
            const timer = setTimeout(() => settle(false), keepAliveMs);
            signal.addEventListener('abort', onAbort, { once: true });
            wake = () => settle(true);
          });
          if (signal.aborted) return;
          if (!news) {
            yield { type: 'Have', ids: [] };
            continue;
          }
          // Let a burst of verified chunks gather into one frame.
          if (ended === null) await sleep(batchMs, undefined, { signal }).catch(() => undefined);
        }
        while (pending() > 0) yield { type: 'Have', ids: fresh.splice(0, MAX_HAVE_IDS), ...drain('fetching', fetching), ...drain('abandoned', abandoned) };
        const reason: HaveEndReason | null = ended;
        if (reason !== null) {
          yield { type: 'HaveEnd', reason };
          return;
        }
      }
    } finally {
      off();
    }
  };
}

/** Up to MAX_HAVE_IDS ids taken out of `set`, as an optional frame field. */
function drain<K extends 'fetching' | 'abandoned'>(key: K, set: Set<number>): Partial<Record<K, number[]>> {
  if (set.size === 0) return {};
  const ids = [...set].slice(0, MAX_HAVE_IDS);
  for (const id of ids) set.delete(id);
  return { [key]: ids } as Partial<Record<K, number[]>>;
}
