import { describe, expect, it } from 'vitest';
import type { GameSummary } from '../../../src/shared/model';
import { ServedRevision } from '../../../src/main/peer/swarm/served-revision';

const game = (id: string, version = '1.0', partial = false): GameSummary => ({ id, version, sizeBytes: 10, fileCount: 1, ...(partial ? { partial: true } : {}) });

describe('ServedRevision', () => {
  it('tells a swarm change (a download here starts, then finishes) from a catalog one', () => {
    let served: GameSummary[] = [game('own')];
    const revisions = new ServedRevision(() => served, 1_000);
    const start = revisions.current();
    expect(start).toEqual({ revision: 1_002, catalogRevision: 1_001, swarming: false });
    // Asked again with nothing new: the same numbers (peers compare them with the last they listed at).
    expect(revisions.current()).toEqual(start);

    // A download here holds its first verified chunk: listed as partial.
    served = [game('own'), game('fetched', '2.0', true)];
    const partial = revisions.current();
    expect(partial.revision).toBeGreaterThan(start.revision);
    expect(partial.catalogRevision).toBe(start.catalogRevision);
    expect(partial.swarming).toBe(true);

    // It finishes: served whole from now on, still the swarm's.
    revisions.downloaded('fetched', '2.0');
    served = [game('own'), game('fetched', '2.0')];
    const whole = revisions.current();
    expect(whole.revision).toBeGreaterThan(partial.revision);
    expect(whole.catalogRevision).toBe(start.catalogRevision);
    expect(whole.swarming).toBe(true);

    // The organiser adds a game to the folder: a catalog change.
    served = [game('own'), game('fetched', '2.0'), game('added')];
    const added = revisions.current();
    expect(added.catalogRevision).toBeGreaterThan(whole.catalogRevision);
    expect(added.revision).toBeGreaterThan(whole.revision);
  });

  it('a game downloaded here that is removed or replaced by another version is a catalog change', () => {
    let served: GameSummary[] = [game('fetched', '2.0')];
    const revisions = new ServedRevision(() => served);
    revisions.downloaded('fetched', '2.0');
    const before = revisions.current();
    expect(before.swarming).toBe(true);
    served = [];
    const removed = revisions.current();
    expect(removed.catalogRevision).toBeGreaterThan(before.catalogRevision);
    expect(removed.swarming).toBe(false);

    revisions.downloaded('other', '1.0');
    served = [game('other', '1.0')];
    const fetched = revisions.current();
    served = [game('other', '1.1')];
    expect(revisions.current().catalogRevision).toBeGreaterThan(fetched.catalogRevision);
  });

  it('a withdrawn partial share is a swarm change: the catalog revision stays', () => {
    let served: GameSummary[] = [game('g', '1.0', true)];
    const revisions = new ServedRevision(() => served);
    const listed = revisions.current();
    served = [];
    const withdrawn = revisions.current();
    expect(withdrawn.revision).not.toBe(listed.revision);
    expect(withdrawn.catalogRevision).toBe(listed.catalogRevision);
    expect(withdrawn.swarming).toBe(false);
  });
});
