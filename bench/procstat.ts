// Per-process CPU time and memory from /proc (Linux): what the server used during one run.
import { readFileSync, writeFileSync } from 'node:fs';

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

/** Direct children of pid (nginx's workers). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU and peak memory of a set of processes over a window: start(), then stop(). */
export class ProcWindow {
  private cpu0 = 0;
  private peakKb = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: () => number[]) {}

  private cpuNow(): number {
    return this.pids().reduce((s, p) => s + (readCpuTicks(p) ?? 0), 0);
  }

  private sample(): void {
    // The set's RSS is the sum over its processes; sampling catches peaks between resets.
    let sum = 0;
    for (const p of this.pids()) sum += readMemory(p)?.rssKb ?? 0;
    if (sum > this.peakKb) this.peakKb = sum;
  }

  start(): void {
    for (const p of this.pids()) resetPeak(p);
    this.cpu0 = this.cpuNow();
    this.peakKb = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  /** CPU seconds used since start() and the peak RSS (MiB): VmHWM summed, or the sampled peak if larger. */
  stop(): { cpuS: number; peakRssMiB: number } {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    let hwm = 0;
    for (const p of this.pids()) hwm += readMemory(p)?.hwmKb ?? 0;
    return { cpuS: (this.cpuNow() - this.cpu0) / CLK_TCK, peakRssMiB: Math.max(hwm, this.peakKb) / 1024 };
  }
}
