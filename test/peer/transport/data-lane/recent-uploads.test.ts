import { describe, expect, it } from 'vitest';
import { RecentUploads } from '../../../../src/main/peer/transport/data-lane/recent-uploads';

describe('RecentUploads (super-seeding memory)', () => {
  it('says a chunk went elsewhere only to another peer, and only within its window', () => {
    let now = 0;
    const recent = new RecentUploads(1_000, 10, () => now);
    recent.record('c1', 'peer-a');
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
      recent.record(key, 'peer-a');
    }
    expect(recent.sentElsewhere('a', 'peer-b')).toBe(false);
    expect(recent.sentElsewhere('d', 'peer-b')).toBe(true);
  });
});
