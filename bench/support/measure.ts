import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface Measured {
  seconds: number;
  peakRssMb: number;
  lagP99Ms: number;
  cpuSeconds: number;
}

const MB = 1024 * 1024;

/** Wall time, peak RSS, CPU seconds and main-thread event-loop lag p99 of one piece of work. */
export async function measure(work: () => Promise<unknown>): Promise<Measured> {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 25);
  const cpu = process.cpuUsage();
  lag.enable();
  const start = performance.now();
  try {
    await work();
  } finally {
    clearInterval(sampler);
    lag.disable();
  }
  const used = process.cpuUsage(cpu);
  return {
    seconds: (performance.now() - start) / 1000,
    peakRssMb: Math.max(peak, process.memoryUsage.rss()) / MB,
    lagP99Ms: lag.percentile(99) / 1e6,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
