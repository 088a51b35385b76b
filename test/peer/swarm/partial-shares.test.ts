import { describe, expect, it } from 'vitest';
import { PartialShares, type ShareableDownload } from '../../../src/main/peer/swarm/partial-shares';
import { ServedRevision } from '../../../src/main/peer/swarm/served-revision';

const h = (n: number): string => n.toString(16).padStart(64, '0');

function download(gameId: string): ShareableDownload {
  return {
    gameId,
    manifest: { gameId, version: '1.0', chunkSize: 4, files: [{ path: 'a.rar', size: 8, chunkHashes: [h(1), h(2)] }] },
    manifestId: h(9),
    chunks: [
      { id: 0, fileIndex: 0, offset: 0, length: 4 },
      { id: 1, fileIndex: 0, offset: 4, length: 4 },
    ],
    targets: [`/games/${gameId}/a.rar`],
    sentinelIndex: -1,
    sentinelBytes: () => new Uint8Array(),
  };
}

describe('PartialShares', () => {
  it('lists a download only once it holds a verified chunk, and withdraws it at once', () => {
    let announced = 0;
    const shares = new PartialShares(() => announced++);
    const share = shares.open(download('g'));
    // Nothing to offer yet: not listed, and the room is not told (each peer would re-list us for nothing).
    expect(shares.summaries()).toEqual([]);
    expect(announced).toBe(0);
    const served = new ServedRevision(() => shares.summaries());
    const before = served.current();
    expect(before.swarming).toBe(false);
    // Still servable by request: the lane asks the share itself, which refuses what it lacks.
    expect(() => share.locate('a.rar', 0, 4)).toThrow(/does not hold/);

    share.markHave(0);
    expect(shares.summaries().map((game) => [game.id, game.partial])).toEqual([['g', true]]);
    expect(announced).toBe(1);
    // A new revision (ListGames answers more), but not a new catalog one: only the swarm changed.
    const listed = served.current();
    expect(listed.revision).not.toBe(before.revision);
    expect(listed.catalogRevision).toBe(before.catalogRevision);
    expect(listed.swarming).toBe(true);
    expect(share.locate('a.rar', 0, 4)).toEqual({ file: '/games/g/a.rar', offset: 0, length: 4 });
    share.markHave(1);
    expect(announced).toBe(1);

    share.end('withdrawn');
    expect(shares.summaries()).toEqual([]);
    expect(announced).toBe(2);
  });

  it('a download that ends before its first chunk was never heard of: no announcement', () => {
    let announced = 0;
    const shares = new PartialShares(() => announced++);
    shares.open(download('g')).end('withdrawn');
    expect(shares.get('g')).toBeUndefined();
    expect(announced).toBe(0);
  });
});
