import { describe, expect, it } from 'vitest';
import { canTransition, finishedFigures, isActive, isTerminal, newOperation, OPERATION_STATES, transition, type OperationState } from '../../src/shared/operation';

/** The steps the model allows, written out once more by hand: a change to the table must change this too. */
const ALLOWED: Record<OperationState, OperationState[]> = {
  queued: ['running', 'finishing', 'paused', 'waiting-for-peers', 'failed', 'cancelled'],
  running: ['queued', 'paused', 'waiting-for-peers', 'finishing', 'done', 'failed', 'cancelled'],
  paused: ['queued', 'cancelled'],
  'waiting-for-peers': ['queued', 'paused', 'failed', 'cancelled'],
  finishing: ['done', 'failed', 'cancelled'],
  done: [],
  failed: [],
  cancelled: [],
};

function at(state: OperationState) {
  return { ...newOperation('quake', 'download', 'queued', 1), state, bytesDone: 40, totalBytes: 100, bytesPerSecond: 7, etaSeconds: 9, activePeers: 2 };
}

describe('operation model', () => {
  it('allows exactly the listed steps, from every state to every state', () => {
    let checked = 0;
    for (const from of OPERATION_STATES) {
      for (const to of OPERATION_STATES) {
        const allowed = ALLOWED[from].includes(to);
        expect(canTransition(from, to), `${from} -> ${to}`).toBe(allowed);
        if (allowed) {
          expect(transition(at(from), to, 5).state).toBe(to);
        } else {
          expect(() => transition(at(from), to, 5), `${from} -> ${to}`).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
        }
        checked += 1;
      }
    }
    expect(checked).toBe(OPERATION_STATES.length ** 2);
  });

  it('ends stamp endedAt, only failed and waiting keep an error, and nothing moves while it waits', () => {
    const error = { code: 'NO_SOURCE' as const, message: 'every peer left' };
    const waiting = transition(at('running'), 'waiting-for-peers', 5, error);
    expect(waiting).toMatchObject({ error, endedAt: null, bytesDone: 40, bytesPerSecond: 0, etaSeconds: null, activePeers: 0 });
    const requeued = transition(waiting, 'queued', 6, error);
    expect(requeued.error).toBeNull();
    const failed = transition(at('finishing'), 'failed', 7, { code: 'ARCHIVE_DAMAGED', message: 'crc' });
    expect(failed).toMatchObject({ state: 'failed', endedAt: 7, error: { code: 'ARCHIVE_DAMAGED' } });
    expect(transition(at('running'), 'done', 8)).toMatchObject({ endedAt: 8, error: null, bytesDone: 40 });
    expect(transition(at('queued'), 'running', 9)).toMatchObject({ bytesPerSecond: 7, etaSeconds: 9 });
  });

  it('sorts every state into ended or not, and working or not', () => {
    expect(OPERATION_STATES.filter(isTerminal)).toEqual(['done', 'failed', 'cancelled']);
    expect(OPERATION_STATES.filter(isActive)).toEqual(['running', 'finishing']);
    expect(newOperation('quake', 'update', 'queued', 3)).toMatchObject({ kind: 'update', state: 'queued', phase: 'transfer', createdAt: 3, endedAt: null, error: null });
    expect(newOperation('quake', 'uninstall', 'running', 3).phase).toBe('finishing');
  });

  it('stamps the first start once, and an ended one tells the time it took and its average rate', () => {
    const queued = newOperation('quake', 'download', 'queued', 1);
    expect(queued.startedAt).toBeNull();
    const running = transition(queued, 'running', 10);
    const paused = transition(running, 'paused', 20);
    const again = transition(transition(paused, 'queued', 30), 'running', 40);
    expect([running.startedAt, paused.startedAt, again.startedAt]).toEqual([10, 10, 10]);
    const done = transition({ ...again, transferredBytes: 4_000 }, 'done', 2_010);
    expect(finishedFigures(done)).toEqual({ tookMs: 2_000, averageBytesPerSecond: 2_000 });
    // Never ran (cancelled in the queue): no time, no rate; ran but moved nothing: a time, no rate.
    expect(finishedFigures(transition(queued, 'cancelled', 5))).toEqual({ tookMs: null, averageBytesPerSecond: null });
    expect(finishedFigures(transition(running, 'failed', 510))).toEqual({ tookMs: 500, averageBytesPerSecond: null });
  });
});
