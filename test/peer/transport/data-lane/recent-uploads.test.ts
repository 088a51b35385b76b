import { describe, expect, it } from 'vitest';
import { RecentUploads } from '../../../../src/main/peer/transport/data-lane/recent-uploads';

const chunk = (key: string, bytes = 100, gameId = 'demo') => ({ key, gameId, bytes });

describe('RecentUploads (super-seeding memory)', () => {
  it('says a chunk went elsewhere only to another peer, and only within its window', () => {
    let now = 0;
    const recent = new RecentUploads(1_000, 10, () => now);
    recent.record(chunk('c1'), 'peer-a');
    expect(recent.sentElsewhere('c1', 'peer-b')).toBe(true);
    expect(recent.sentElsewhere('c1', 'peer-a')).toBe(false);
    expect(recent.sentElsewhere('c2', 'peer-b')).toBe(false);
    now = 1_000;
    expect(recent.sentElsewhere('c1', 'peer-b')).toBe(false);
  });

  it('keeps at most its bound, dropping the oldest', () => {
    let now = 0;
    const recent = new RecentUploads(60_000, 3, () => now);
    for (const key of ['a', 'b', 'c', 'd']) {
      now++;
      recent.record(chunk(key), 'peer-a');
    }
    expect(recent.sentElsewhere('a', 'peer-b')).toBe(false);
    expect(recent.sentElsewhere('d', 'peer-b')).toBe(true);
    expect(recent.distinctBytes('demo')).toBe(300);
  });

  it('counts the distinct bytes of each game sent within the window: a repeat once, a failed send not, an old one no longer', () => {
    let now = 0;
    const recent = new RecentUploads(1_000, 10, () => now);
    recent.record(chunk('a', 100), 'peer-a');
    recent.record(chunk('a', 100), 'peer-b');
    recent.record(chunk('b', 50), 'peer-a');
    recent.record(chunk('x', 7, 'other'), 'peer-a');
    expect(recent.distinctBytes('demo')).toBe(150);
    expect(recent.distinctBytes('other')).toBe(7);
    // Only the peer it went to can take it back.
    recent.forget('b', 'peer-b');
    expect(recent.distinctBytes('demo')).toBe(150);
    recent.forget('b', 'peer-a');
    expect(recent.distinctBytes('demo')).toBe(100);
    now = 999;
    recent.record(chunk('c', 10), 'peer-a');
    now = 1_000;
    expect(recent.distinctBytes('demo')).toBe(10);
    expect(recent.distinctBytes('other')).toBe(0);
  });

  it('forgets what went to a peer that left: no longer a repeat, and no longer counted as given to the room', () => {
    const recent = new RecentUploads(60_000, 10, () => 0);
    recent.record(chunk('a', 100), 'peer-a');
    recent.record(chunk('b', 50), 'peer-b');
    recent.forgetPeer('peer-a');
    expect(recent.sentElsewhere('a', 'peer-c')).toBe(false);
    expect(recent.sentElsewhere('b', 'peer-c')).toBe(true);
    expect(recent.distinctBytes('demo')).toBe(50);
  });
});
