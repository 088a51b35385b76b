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
    let ended: HaveEndReason | null = null;
    let wake: (() => void) | null = null;
    const off = share.subscribe((event) => {
      if (event.type === 'have') fresh.push(event.id);
      else ended = event.reason;
      wake?.();
    });
    try {
      // Subscribed first, then the snapshot: a chunk verified in between is announced twice, never missed.
      yield { type: 'HaveMap', chunks: share.have.size, bits: share.have.toBase64() };
      while (!signal.aborted) {
        if (fresh.length === 0 && ended === null) {
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
        while (fresh.length > 0) yield { type: 'Have', ids: fresh.splice(0, MAX_HAVE_IDS) };
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
