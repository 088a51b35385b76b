import { describe, expect, it } from 'vitest';
import { BandwidthLimits } from '../../../src/main/peer/bandwidth/bandwidth-limits';
import { UplinkGuard } from '../../../src/main/peer/bandwidth/uplink-guard';

const MBIT = 1_000_000 / 8;

/** A guard over counters the test moves by hand, one sample per simulated second. */
function harness(downloadCapped = false) {
  let clock = 0;
  let sent = 0;
  let received = 0;
  const caps: number[] = [];
  const guard = new UplinkGuard({ sent: () => sent, received: () => received, cap: (rate) => caps.push(rate), now: () => clock, downloadCapped: () => downloadCapped });
  /** One second at these rates (Mbit/s), then a sample. */
  const second = (upMbit: number, downMbit: number) => {
    clock += 1000;
    sent += upMbit * MBIT;
    received += downMbit * MBIT;
    guard.sample();
  };
  return { guard, caps, second };
}

describe('UplinkGuard', () => {
  it('caps the uploads of a downloader whose download fell well below its best while it uploads more, and lifts the cap once its download is over', () => {
    const { guard, caps, second } = harness();
    for (let i = 0; i < 4; i++) second(20, 30);
    expect(guard.capBytesPerSec).toBe(0);
    // Its uplink fills; its download sinks under its ACKs and requests queued behind the uploads.
    second(30, 18);
    second(30, 18);
    expect(guard.capBytesPerSec).toBeGreaterThan(0);
    expect(guard.capBytesPerSec).toBeLessThan(30 * MBIT * 0.85);
    expect(caps).toEqual([guard.capBytesPerSec]);
    // Capped while the download runs, even once it recovered.
    for (let i = 0; i < 5; i++) second(22, 30);
    expect(guard.capBytesPerSec).toBeGreaterThan(0);
    // Three seconds without a received byte: the download is over and uploads run free.
    second(30, 0);
    second(30, 0);
    expect(guard.capBytesPerSec).toBeGreaterThan(0);
    second(30, 0);
    expect(guard.capBytesPerSec).toBe(0);
    expect(caps.at(-1)).toBe(0);
  });

  it('leaves a player alone early in a crowd, passing on the seed chunks much faster than it receives', () => {
    const { guard, caps, second } = harness();
    // Its download never yet reached half its upload rate: how fast this link downloads is unknown.
    for (let i = 0; i < 10; i++) second(30, 4 + (i % 3));
    expect(guard.capBytesPerSec).toBe(0);
    expect(caps).toEqual([]);
  });

  it('stays out while the player capped its downloads: their rate says nothing of the link', () => {
    const { caps, second } = harness(true);
    for (let i = 0; i < 4; i++) second(20, 30);
    for (let i = 0; i < 6; i++) second(30, 18);
    expect(caps).toEqual([]);
  });

  it('never caps a peer that only uploads, nor one whose download holds its pace', () => {
    const seeding = harness();
    for (let i = 0; i < 10; i++) seeding.second(50, 0);
    expect(seeding.caps).toEqual([]);
    const steady = harness();
    for (let i = 0; i < 10; i++) steady.second(45, 48);
    for (let i = 0; i < 10; i++) steady.second(50, 44);
    expect(steady.caps).toEqual([]);
  });
});

describe('BandwidthLimits with the uplink guard', () => {
  it('applies the lower of the upload setting and the guard, and restores the setting when the guard lifts', () => {
    const limits = new BandwidthLimits({ downloadBytesPerSec: 0, uploadBytesPerSec: 0 });
    limits.guardUpload(3 * MBIT);
    expect(limits.upload.bytesPerSec).toBe(3 * MBIT);
    limits.apply({ uploadBytesPerSec: 2 * MBIT });
    expect(limits.upload.bytesPerSec).toBe(2 * MBIT);
    limits.apply({ uploadBytesPerSec: 5 * MBIT });
    expect(limits.upload.bytesPerSec).toBe(3 * MBIT);
    limits.guardUpload(0);
    expect(limits.upload.bytesPerSec).toBe(5 * MBIT);
    limits.apply({ uploadBytesPerSec: 0 });
    expect(limits.upload.bytesPerSec).toBe(0);
  });
});
