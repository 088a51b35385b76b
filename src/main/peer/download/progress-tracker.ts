import type { LauncherEvents } from '../../../shared/api';
import type { PeerId } from '../../../shared/model';

export type DownloadProgress = LauncherEvents['game-download-progress'];

export interface ProgressTrackerOptions {
  gameId: string;
  totalBytes: number;
  /** Bytes already verified before this run (resume): progress starts there, not at 0. */
  initialBytes: number;
  /** At most one event per interval; 250 ms = 4 per second. */
  intervalMs?: number;
  /** Weight of the newest sample in the smoothed speed (0..1]. */
  smoothing?: number;
  now?: () => number;
  emit: (progress: DownloadProgress) => void;
  /** Live sources holding the whole game and part of it (the swarm). */
  sources?: () => { full: number; partial: number };
}

const DEFAULT_INTERVAL_MS = 250;
const DEFAULT_SMOOTHING = 0.3;

/**
 * Samples counters on a timer instead of emitting per chunk, so a fast LAN cannot flood the UI:
 * bytesDone counts verified bytes (it never goes back when a chunk is re-fetched), the speed is
 * an exponential moving average of received bytes (the disk rate one of verified bytes, which
 * are written), activePeers counts sources that sent bytes since the previous sample, and
 * peerBytes what each source sent in this run.
 */
export class ProgressTracker {
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly smoothing: number;
  private verifiedBytes: number;
  private receivedBytes = 0;
  private lastSampleAt = 0;
  private lastReceived = 0;
  private lastVerified: number;
  private speed: number | null = null;
  private diskSpeed: number | null = null;
  private readonly senders = new Set<PeerId>();
  /** Bytes each source sent in this run. */
  private readonly perPeer = new Map<PeerId, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ProgressTrackerOptions) {
    this.now = options.now ?? (() => performance.now());
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.smoothing = options.smoothing ?? DEFAULT_SMOOTHING;
    this.verifiedBytes = options.initialBytes;
    this.lastVerified = options.initialBytes;
  }

  get bytesDone(): number {
    return this.verifiedBytes;
  }

  start(): void {
    if (this.timer) return;
    this.lastSampleAt = this.now();
    this.options.emit(this.snapshot(0));
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  received(peerId: PeerId, bytes: number): void {
    this.receivedBytes += bytes;
    this.senders.add(peerId);
    this.perPeer.set(peerId, (this.perPeer.get(peerId) ?? 0) + bytes);
  }

  verified(bytes: number): void {
    this.verifiedBytes += bytes;
  }

  /** Emits a sample now (also used for the final 100% event). */
  sample(): void {
    const at = this.now();
    const elapsedMs = at - this.lastSampleAt;
    if (elapsedMs > 0) {
      const rate = ((this.receivedBytes - this.lastReceived) * 1000) / elapsedMs;
      this.speed = this.speed === null ? rate : this.speed + this.smoothing * (rate - this.speed);
      // Verified bytes are on disk (a chunk counts once written and checked): their rate is the disk's.
      const diskRate = ((this.verifiedBytes - this.lastVerified) * 1000) / elapsedMs;
      this.diskSpeed = this.diskSpeed === null ? diskRate : this.diskSpeed + this.smoothing * (diskRate - this.diskSpeed);
    }
    this.lastSampleAt = at;
    this.lastReceived = this.receivedBytes;
    this.lastVerified = this.verifiedBytes;
    const active = this.senders.size;
    this.senders.clear();
    this.options.emit(this.snapshot(active));
  }

  private snapshot(activePeers: number): DownloadProgress {
    const { gameId, totalBytes } = this.options;
    const bytesPerSecond = Math.max(0, Math.round(this.speed ?? 0));
    const diskBytesPerSecond = Math.max(0, Math.round(this.diskSpeed ?? 0));
    const peerBytes = [...this.perPeer].map(([peerId, bytes]) => ({ peerId, bytes }));
    const remaining = Math.max(0, totalBytes - this.verifiedBytes);
    const etaSeconds = remaining === 0 ? 0 : bytesPerSecond > 0 ? Math.ceil(remaining / bytesPerSecond) : null;
    const sources = this.options.sources?.();
    return { gameId, bytesDone: this.verifiedBytes, totalBytes, bytesPerSecond, diskBytesPerSecond, etaSeconds, activePeers, peerBytes, ...(sources ? { fullSources: sources.full, partialSources: sources.partial } : {}) };
  }
}
