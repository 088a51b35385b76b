import { readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Which root-level files start a RAR volume set. Later volumes are opened by unrar itself from
 * the first one and are never extracted on their own:
 * - `x.partN.rar`: the first is N == 1, in any digit width (`part1`, `part01`, `part0001`);
 * - `x.NNN.rar`: the lowest number of the set (`.000.rar`, or `.001.rar` when there is no `.000`);
 * - `x.rar`: the first volume of old `.rar/.r00/.r01` sets, and every single-volume archive.
 */

export interface ArchiveSets {
  /** Absolute paths of first volumes, sorted by name. */
  firstVolumes: string[];
  /** Sets found only by their later volumes (e.g. `x.part2.rar` without `x.part1.rar`). */
  orphanVolumes: string[];
}

const PART = /^(.*)\.part(\d+)\.rar$/i;
const NUMBERED = /^(.*)\.(\d{3})\.rar$/i;

export function classifyArchiveNames(names: string[]): { first: string[]; orphans: string[] } {
  const rars = names.filter((name) => name.toLowerCase().endsWith('.rar')).sort();
  const first: string[] = [];
  const partSets = new Map<string, Array<{ name: string; n: number }>>();
  const numberedSets = new Map<string, Array<{ name: string; n: number }>>();
  for (const name of rars) {
    const part = PART.exec(name);
    const numbered = NUMBERED.exec(name);
    if (part) push(partSets, (part[1] ?? '').toLowerCase(), name, Number(part[2]));
    else if (numbered) push(numberedSets, (numbered[1] ?? '').toLowerCase(), name, Number(numbered[2]));
    else first.push(name);
  }
  const orphans: string[] = [];
  for (const members of partSets.values()) {
    const one = members.find((m) => m.n === 1);
    if (one) first.push(one.name);
    else orphans.push(...members.map((m) => m.name));
  }
  for (const members of numberedSets.values()) {
    const lowest = members.reduce((a, b) => (b.n < a.n ? b : a));
    if (lowest.n <= 1) first.push(lowest.name);
    else orphans.push(...members.map((m) => m.name));
  }
  return { first: first.sort(), orphans: orphans.sort() };
}

export async function findArchiveSets(root: string): Promise<ArchiveSets> {
  const entries = await readdir(root, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
  const { first, orphans } = classifyArchiveNames(names);
  return { firstVolumes: first.map((name) => path.join(root, name)), orphanVolumes: orphans.map((name) => path.join(root, name)) };
}

function push(map: Map<string, Array<{ name: string; n: number }>>, key: string, name: string, n: number): void {
  const list = map.get(key) ?? [];
  list.push({ name, n });
  map.set(key, list);
}
