// Per-process CPU time and memory from /proc (Linux): what the server used during one run.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

/** utime + stime in clock ticks, or undefined when the process is gone. */
export function readCpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  } catch {
    return undefined;
  }
}

/**
 * CPU time of every thread of the process in nanoseconds (the first field of each
 * /proc/<pid>/task/<tid>/schedstat), or undefined when the process is gone. Finer than
 * readCpuTicks' 10 ms ticks: a few hundred small requests are measurable. Threads that ended
 * since the last call are no longer counted (Node's and libuv's threads live as long as the process).
 */
export function readCpuNs(pid: number): number | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let ns = 0;
  for (const t of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns;
}

/**
 * What the block device holding `path` has written since boot (/sys/dev/block/MAJ:MIN/stat: write
 * requests completed, sectors of 512 bytes written), or undefined when the kernel does not say
 * (no such device: tmpfs, overlay). Counts every writer of the device, the kernel's journal included.
 */
export function readDeviceWrites(path: string): { ios: number; bytes: number } | undefined {
  try {
    const dev = statSync(path).dev;
    const major = Math.floor(dev / 256) % 4096;
    const minor = (dev % 256) + (Math.floor(dev / 1048576) % 4096) * 256;
    const f = readFileSync(`/sys/dev/block/${major}:${minor}/stat`, 'utf8').trim().split(/\s+/).map(Number);
    return f.length >= 7 ? { ios: f[4]!, bytes: f[6]! * 512 } : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size now and its high-water mark, in KiB. */
export function readMemory(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    const hwm = /VmHWM:\s+(\d+)/.exec(status);
    if (!rss || !hwm) return undefined;
    return { rssKb: Number(rss[1]), hwmKb: Number(hwm[1]) };
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (clear_refs 5). False when the kernel or permissions refuse. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Direct children of pid, over all its threads (a child forked from any thread is listed there). */
export function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out = new Set<number>();
  for (const t of tasks) {
    try {
      for (const s of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (s !== '') out.add(Number(s));
    } catch {
      // the thread ended meanwhile
    }
  }
  return [...out];
}

/** pid and every process below it (children, their children …), pid first; bounded depth and count. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length && out.length < 1024; i++) for (const c of childrenOf(out[i]!)) if (!out.includes(c)) out.push(c);
  return out;
}

export interface WindowUsage {
  /** CPU seconds used by the set over the window (utime + stime, every thread). */
  cpuS: number;
  /** Peak RSS of the set, summed over its processes (MiB). */
  peakRssMiB: number;
  /** The largest peak RSS of any one process of the set (MiB): a cluster's busiest worker. */
  peakRssMaxMiB: number;
  /** How many processes the set had at the end. */
  processes: number;
}

/**
 * CPU and peak memory of a set of processes over a window: start(), then stop(). The set is read
 * again at every sample (a cluster's workers), CPU is counted per process from its own start value
 * (a process that appears meanwhile counts from zero).
 */
export class ProcWindow {
  private cpu0 = new Map<number, number>();
  private peakKb = 0;
  private peakOneKb = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: () => number[]) {}

  private sample(): void {
    // The set's RSS is the sum over its processes; sampling catches peaks between resets.
    let sum = 0;
    for (const p of this.pids()) {
      const kb = readMemory(p)?.rssKb ?? 0;
      sum += kb;
      if (kb > (this.peakOneKb.get(p) ?? 0)) this.peakOneKb.set(p, kb);
    }
    if (sum > this.peakKb) this.peakKb = sum;
  }

  start(): void {
    this.cpu0.clear();
    this.peakOneKb.clear();
    for (const p of this.pids()) {
      resetPeak(p);
      this.cpu0.set(p, readCpuTicks(p) ?? 0);
    }
    this.peakKb = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  /** CPU seconds used since start() and the peak RSS: VmHWM summed (or the sampled peak if larger), and per process. */
  stop(): WindowUsage {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const pids = this.pids();
    let hwm = 0;
    let ticks = 0;
    let maxOne = 0;
    for (const p of pids) {
      const m = readMemory(p);
      hwm += m?.hwmKb ?? 0;
      maxOne = Math.max(maxOne, m?.hwmKb ?? 0, this.peakOneKb.get(p) ?? 0);
      const t = readCpuTicks(p);
      if (t !== undefined) ticks += t - (this.cpu0.get(p) ?? 0);
    }
    return { cpuS: ticks / CLK_TCK, peakRssMiB: Math.max(hwm, this.peakKb) / 1024, peakRssMaxMiB: maxOne / 1024, processes: pids.length };
  }
}
