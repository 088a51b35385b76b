/**
 * Where a process's CPU went, from a V8 `.cpuprofile` (`node --cpu-prof`): self time by
 * function and by module, and time by module anywhere on the stack, over a window of the
 * profile. Sample timestamps are CLOCK_MONOTONIC µs, the clock of `process.hrtime` in any
 * process on the machine, so a harness can cut out the window it measured.
 *
 * Also a script: `node --import tsx bench/support/cpu-profile.ts FILE.cpuprofile [fromUs toUs]`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  samples: number;
  /** Share of the window's busy samples (everything but `(idle)`), in %. */
  percent: number;
}

export interface ProfileSummary {
  /** Samples in the window, and how many of them were not `(idle)`. */
  samples: number;
  busySamples: number;
  /** Wall milliseconds the window's samples cover. */
  windowMs: number;
  selfByFunction: ProfileRow[];
  selfByModule: ProfileRow[];
  /** A module counted once per sample in which any of its functions is on the stack. */
  totalByModule: ProfileRow[];
}

const NODE_MODULES = '/node_modules/';

/** `@matrixai/quic`, `src/main/peer/peers/peer-manager.ts`, `node:internal/timers`, or `(native)`. */
export function moduleOf(url: string): string {
  if (url === '') return '(native)';
  const packageAt = url.lastIndexOf(NODE_MODULES);
  if (packageAt >= 0) {
    const [scope, name] = url.slice(packageAt + NODE_MODULES.length).split('/');
    return scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? url);
  }
  const srcAt = url.lastIndexOf('/src/');
  if (srcAt >= 0) return url.slice(srcAt + 1).replace(/\?.*$/, '');
  return url.replace(/^file:\/\//, '');
}

function functionKey(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (url === '') return functionName || '(anonymous)';
  const file = url.includes(NODE_MODULES) ? `${moduleOf(url)}/${path.basename(url)}` : moduleOf(url);
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

function rows(counts: Map<string, number>, busy: number, top: number): ProfileRow[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, samples]) => ({ name, samples, percent: busy > 0 ? (100 * samples) / busy : 0 }));
}

const bump = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

/** Summarises the samples taken between `fromUs` and `toUs` (the whole profile by default). */
export function summariseCpuProfile(profile: CpuProfile, window: { fromUs?: number; toUs?: number } = {}, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const fromUs = window.fromUs ?? -Infinity;
  const toUs = window.toUs ?? Infinity;
  const selfByFunction = new Map<string, number>();
  const selfByModule = new Map<string, number>();
  const totalByModule = new Map<string, number>();
  let samples = 0;
  let busy = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  let at = profile.startTime;
  for (const [index, id] of profile.samples.entries()) {
    at += profile.timeDeltas[index] ?? 0;
    if (at < fromUs || at > toUs) continue;
    const node = byId.get(id);
    if (!node) continue;
    samples++;
    if (Number.isNaN(first)) first = at;
    last = at;
    if (node.callFrame.functionName === '(idle)') continue;
    busy++;
    bump(selfByFunction, functionKey(node));
    bump(selfByModule, node.callFrame.url === '' ? functionKey(node) : moduleOf(node.callFrame.url));
    const onStack = new Set<string>();
    for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const frame = byId.get(cursor)?.callFrame;
      if (frame && frame.url !== '') onStack.add(moduleOf(frame.url));
    }
    for (const module of onStack) bump(totalByModule, module);
  }
  return {
    samples,
    busySamples: busy,
    windowMs: samples > 1 ? (last - first) / 1000 : 0,
    selfByFunction: rows(selfByFunction, busy, top),
    selfByModule: rows(selfByModule, busy, top),
    totalByModule: rows(totalByModule, busy, top),
  };
}

export async function readCpuProfile(file: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
}

/** The summary as markdown: three tables of name, samples and % of busy samples. */
export function formatProfileSummary(summary: ProfileSummary): string {
  const table = (title: string, list: ProfileRow[]) => [`| ${title} | samples | % of busy |`, '|---|---|---|', ...list.map((row) => `| ${row.name.replaceAll('|', '\\|')} | ${row.samples} | ${row.percent.toFixed(1)} |`)].join('\n');
  return [
    `${summary.samples} samples over ${(summary.windowMs / 1000).toFixed(1)} s, ${summary.busySamples} busy (${summary.samples > 0 ? ((100 * summary.busySamples) / summary.samples).toFixed(1) : '0'} % of samples not idle)`,
    '',
    table('self time: function', summary.selfByFunction),
    '',
    table('self time: module', summary.selfByModule),
    '',
    table('on the stack: module', summary.totalByModule),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, from, to] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: cpu-profile.ts FILE.cpuprofile [fromUs toUs]\n');
    process.exit(2);
  }
  const summary = summariseCpuProfile(await readCpuProfile(file), { ...(from ? { fromUs: Number(from) } : {}), ...(to ? { toUs: Number(to) } : {}) });
  process.stdout.write(`${formatProfileSummary(summary)}\n`);
}
