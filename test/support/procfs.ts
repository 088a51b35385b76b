/**
 * What a netns run costs, read from /proc: CPU seconds of a process tree, bytes through a
 * namespace's interface, and how busy the whole machine was. Linux only (the netns tests and
 * benches that use these skip elsewhere).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second for utime/stime; 100 on every Linux these run on (`getconf CLK_TCK`). */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

interface ProcStat {
  ppid: number;
  /** utime + stime. */
  ticks: number;
  /** stime: in the kernel on the process's behalf (system calls, and network-stack work run in its context). */
  systemTicks: number;
}

/** Fields after the command name, which is in parentheses and may itself hold spaces or ')'. */
function readStat(pid: number, file = `/proc/${pid}/stat`): ProcStat | null {
  try {
    const text = readFileSync(file, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), systemTicks: Number(fields[12]) };
  } catch {
    return null;
  }
}

export interface CpuTimes {
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  /** Of cpuSeconds, stime: the kernel's share. */
  systemSeconds: number;
}

/**
 * CPU time of the processes `pids` and every living descendant of each (all threads
 * included), summed, from one read of /proc. Read it while they run: an exited child's time
 * only shows up in its parent once reaped.
 */
export function treeCpuTimes(pids: readonly number[]): CpuTimes {
  const children = new Map<number, number[]>();
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    const id = Number(entry);
    if (!Number.isInteger(id)) continue;
    const stat = readStat(id);
    if (!stat) continue;
    stats.set(id, stat);
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), id]);
  }
  let ticks = 0;
  let systemTicks = 0;
  const pending = [...pids];
  while (pending.length > 0) {
    const id = pending.pop() as number;
    ticks += stats.get(id)?.ticks ?? 0;
    systemTicks += stats.get(id)?.systemTicks ?? 0;
    pending.push(...(children.get(id) ?? []));
  }
  return { cpuSeconds: ticks / CLOCK_TICKS, systemSeconds: systemTicks / CLOCK_TICKS };
}

/** utime+stime of `pid` and every living descendant, in seconds (treeCpuTimes). */
export function treeCpuSeconds(pid: number): number {
  return treeCpuTimes([pid]).cpuSeconds;
}

/** utime+stime of one thread of `pid` (its main thread by default), in seconds; NaN once it is gone. */
export function threadCpuSeconds(pid: number, tid = pid): number {
  const stat = readStat(pid, `/proc/${pid}/task/${tid}/stat`);
  return stat ? stat.ticks / CLOCK_TICKS : Number.NaN;
}

/** A field of /proc/PID/status given in kB (VmRSS, VmHWM, ...), in MB; NaN once the process is gone. */
export function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

export interface NetDevCounters {
  /** Bytes received and sent. */
  rx: number;
  tx: number;
  /** Packets received and sent (a segmentation-offload packet counts once, whatever its size). */
  rxPackets: number;
  txPackets: number;
}

/** What `iface` inside namespace `ns` received and sent (its /proc/net/dev). */
export function netDevCounters(ns: string, iface: string): NetDevCounters {
  const result = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/dev'], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) throw new Error(`cannot read /proc/net/dev in ${ns}: ${result.stderr || result.error?.message}`);
  for (const line of result.stdout.split('\n')) {
    const [name, counters] = line.split(':');
    if (name?.trim() !== iface || !counters) continue;
    const values = counters.trim().split(/\s+/).map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes ...
    return { rx: values[0] ?? 0, tx: values[8] ?? 0, rxPackets: values[1] ?? 0, txPackets: values[9] ?? 0 };
  }
  throw new Error(`no interface ${iface} in ${ns}`);
}

export interface CpuSample {
  busy: number;
  total: number;
}

/** The machine's aggregate CPU counters (first line of /proc/stat). */
export function machineCpuSample(): CpuSample {
  const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
  const values = first.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  return { busy: total - (values[3] ?? 0) - (values[4] ?? 0), total };
}

/** Busy % of all cores between two samples (100 = every core busy the whole time). */
export function busyPercent(from: CpuSample, to: CpuSample): number {
  const total = to.total - from.total;
  return total > 0 ? (100 * (to.busy - from.busy)) / total : 0;
}

/**
 * Waits until the process trees of `pids` together use less than `maxCores` of a core over a
 * one-second window (a peer that just started still indexes and hashes its games), or until
 * `timeoutMs` passes. Returns the cores they used over the last window.
 */
export async function waitUntilIdle(pids: readonly number[], maxCores: number, timeoutMs = 30_000): Promise<number> {
  const total = () => treeCpuTimes(pids).cpuSeconds;
  const deadline = Date.now() + timeoutMs;
  let before = total();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = total();
    if (now - before < maxCores || Date.now() > deadline) return now - before;
    before = now;
  }
}

/** Whether any process of the process group `pgid` is still alive (signal 0 probes without killing). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
