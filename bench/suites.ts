import type { BenchFigure } from './figures';

/** Every benchmark suite by name; each runs in its own child process so RSS figures are its own. */
export const SUITES: Record<string, () => Promise<BenchFigure[]>> = {
  'data-lane': async () => (await import('./data-lane.bench')).runDataLaneBench(),
  download: async () => (await import('./download.bench')).runDownloadBench(),
  'download-netns': async () => (await import('./download-netns.bench')).runDownloadNetnsBench(),
  install: async () => (await import('./install.bench')).runInstallBench(),
  machine: async () => (await import('./machine.bench')).runMachineBench(),
  mesh: async () => (await import('./mesh.bench')).runMeshBench(),
  stream: async () => (await import('./stream.bench')).runStreamBench(),
  swarm: async () => (await import('./swarm.bench')).runSwarmBench(),
};
