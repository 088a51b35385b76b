import { describe, expect, it } from 'vitest';
import { ProgressTracker, type DownloadProgress } from '../../../src/main/peer/download/progress-tracker';

describe('ProgressTracker', () => {
  it('reports the network rate, the disk rate of verified bytes and what each source sent', () => {
    let now = 0;
    const samples: DownloadProgress[] = [];
    const tracker = new ProgressTracker({ gameId: 'quake', totalBytes: 10_000, initialBytes: 1_000, smoothing: 1, now: () => now, emit: (p) => samples.push(p) });
    tracker.start();
    tracker.received('peer-a', 3_000);
    tracker.received('peer-b', 1_000);
    tracker.verified(2_000);
    now = 1_000;
    tracker.sample();
    tracker.stop();
    const last = samples.at(-1)!;
    expect(last).toMatchObject({ bytesDone: 3_000, bytesPerSecond: 4_000, diskBytesPerSecond: 2_000, activePeers: 2, etaSeconds: 2 });
    expect(last.peerBytes).toEqual([
      { peerId: 'peer-a', bytes: 3_000 },
      { peerId: 'peer-b', bytes: 1_000 },
    ]);
    // Resumed bytes are not counted as written in this run.
    expect(samples[0]).toMatchObject({ bytesDone: 1_000, diskBytesPerSecond: 0, peerBytes: [] });
  });
});
