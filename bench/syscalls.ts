// System calls per request, measured apart from the timed rounds (strace slows a server several
// times over): for GET, HEAD and PUT (distinct keys) of 4 KiB, after a warm-up, `strace -c -f` is
// attached to every process of the server (a cluster's primary and workers; nginx's master and
// workers; -f takes in every thread and any thread started meanwhile), a fixed number of requests
// is sent by the bench's Node client at a fixed concurrency, and strace is detached with SIGINT —
// its summary (calls per system call name, all processes and threads together) is written then.
// Calls per request = calls / requests answered; the idle timers of the server in that window count
// too (they are part of what a request costs at that rate).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildHead, type HttpRequest, runLoad } from './client.js';

export type SyscallMethod = 'GET' | 'HEAD' | 'PUT';
export const SYSCALL_METHODS: readonly SyscallMethod[] = ['GET', 'HEAD', 'PUT'];

/** One side's count for one method. */
export interface SyscallCount {
  side: string;
  method: SyscallMethod;
  requests: number;
  errors: number;
  /** Processes strace was attached to. */
  processes: number;
  /** System calls per request, all names together. */
  perRequest: number;
  /** System calls per request by name, largest first. */
  byName: Record<string, number>;
  /** strace's raw call counts by name. */
  calls: Record<string, number>;
}

export interface SyscallReport {
  requests: number;
  warmup: number;
  concurrency: number;
  bodyBytes: number;
  tool: string;
  counts: SyscallCount[];
  /** Why nothing was counted (strace missing, not permitted …). */
  skipped?: string;
}

/** The names shown as columns in the table (the rest are summed in "other"). */
export const SHOWN = [
  'fcntl',
  'read',
  'readv',
  'write',
  'writev',
  'pread64',
  'pwrite64',
  'fdatasync',
  'fsync',
  'futex',
  'epoll_wait',
  'epoll_ctl',
  'io_uring_enter',
];

export function straceAvailable(): string | undefined {
  const r = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'strace is not installed (scripts/bench-deps.sh installs it)';
  return undefined;
}

/** What the measurement needs to know of a side. */
export interface SyscallSide {
  name: string;
  port: number;
  /** Several gateways of one namespace: the connections alternate between them (client.ts runLoad). */
  ports?: readonly number[];
  hostHeader: string;
  pids: () => number[];
  /** The request target of method on bucket/key (presigned on S3, the plain path on nginx). */
  target(method: string, key: string): string;
  /** Creates key with body (unmeasured). */
  put(key: string, body: Buffer): Promise<void>;
}

/** Parses `strace -c` output: calls by name (the "total" line left out). */
export function parseStraceSummary(text: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const c = line.trim().split(/\s+/);
    // % time, seconds, usecs/call, calls, [errors,] syscall
    if (c.length < 5 || !/^\d+$/.test(c[3]!) || !/^[\d.]+$/.test(c[0]!)) continue;
    const name = c.at(-1)!;
    if (name === 'total' || name === 'syscall') continue;
    calls[name] = (calls[name] ?? 0) + Number(c[3]);
  }
  return calls;
}

/** Runs fn with strace -c -f attached to pids; returns its summary's calls by name. Bounded waits. */
export async function underStrace(pids: number[], outFile: string, fn: () => Promise<void>): Promise<Record<string, number>> {
  const st = spawn('strace', ['-c', '-f', '-o', outFile, ...pids.flatMap((p) => ['-p', String(p)])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  st.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => st.once('exit', (code) => r(code)));
  // Attached when it has said so for every process (one line per thread, so at least one per pid).
  const t0 = Date.now();
  while ((err.match(/attached/g)?.length ?? 0) < pids.length && Date.now() - t0 < 10_000) {
    if (st.exitCode !== null) throw new Error(`strace exited: ${err.trim()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  if ((err.match(/attached/g)?.length ?? 0) < pids.length) {
    st.kill('SIGKILL');
    throw new Error(`strace did not attach within 10 s: ${err.trim()}`);
  }
  await new Promise((r) => setTimeout(r, 200)); // the remaining threads
  try {
    await fn();
  } finally {
    st.kill('SIGINT'); // strace writes its summary when it detaches
    const killer = setTimeout(() => st.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
  }
  return parseStraceSummary(readFileSync(outFile, 'utf8'));
}

/**
 * Counts system calls per request on each side: `requests` GETs and HEADs of one 4 KiB object and
 * PUTs of 4 KiB to distinct keys, each after `warmup` unmeasured requests of the same kind.
 */
export async function measureSyscalls(
  sides: readonly SyscallSide[],
  o: { requests: number; warmup: number; concurrency: number; workDir: string; body: Buffer },
): Promise<SyscallReport> {
  const report: SyscallReport = { requests: o.requests, warmup: o.warmup, concurrency: o.concurrency, bodyBytes: o.body.length, tool: 'node', counts: [] };
  const missing = straceAvailable();
  if (missing) return { ...report, skipped: missing };
  let n = 0;
  for (const side of sides) {
    if (side.pids().length === 0) continue;
    await side.put('syscalls/4k', o.body);
    for (const method of SYSCALL_METHODS) {
      const reqs = (count: number, phase: string): HttpRequest[] =>
        Array.from({ length: method === 'PUT' ? count : 1 }, (_, i) => ({
          head: buildHead(
            method,
            side.target(method, method === 'PUT' ? `syscalls/put/${phase}/${i}` : 'syscalls/4k'),
            side.hostHeader,
            {},
            method === 'PUT' ? o.body.length : undefined,
          ),
          body: method === 'PUT' ? [o.body] : undefined,
          isHead: method === 'HEAD',
        }));
      const send = async (list: HttpRequest[], count: number) =>
        runLoad({
          host: '127.0.0.1',
          port: side.port,
          ports: side.ports,
          concurrency: o.concurrency,
          durationMs: 600_000,
          maxRequests: count,
          next: (i) => list[i % list.length],
          timeoutMs: 60_000,
        });
      const warm = await send(reqs(o.warmup, 'warm'), o.warmup);
      if (warm.errors > 0) throw new Error(`${side.name} ${method} warm-up: ${warm.errors} errors ${JSON.stringify(warm.statuses)}`);
      const list = reqs(o.requests, 'counted');
      const pids = side.pids();
      let answered = 0;
      let errors = 0;
      const calls = await underStrace(pids, join(o.workDir, `strace-${++n}.txt`), async () => {
        const r = await send(list, o.requests);
        answered = r.ops;
        errors = r.errors;
      });
      const total = Object.values(calls).reduce((s, c) => s + c, 0);
      const byName = Object.fromEntries(
        Object.entries(calls)
          .sort((a, b) => b[1] - a[1])
          .map(([k, c]) => [k, round2(c / Math.max(1, answered))]),
      );
      report.counts.push({
        side: side.name,
        method,
        requests: answered,
        errors,
        processes: pids.length,
        perRequest: round2(total / Math.max(1, answered)),
        byName,
        calls,
      });
    }
  }
  return report;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The markdown table: a row per side and method, calls per request in total and by name. */
export function syscallTable(r: SyscallReport): string {
  if (r.skipped) return `System calls per request: not measured (${r.skipped}).`;
  if (r.counts.length === 0) return 'System calls per request: no side with known processes.';
  // The usual suspects where they occur, and anything else that reaches 0.5 per request somewhere.
  const frequent = [...new Set(r.counts.flatMap((c) => Object.keys(c.byName)))].filter(
    (n) => !SHOWN.includes(n) && r.counts.some((c) => (c.byName[n] ?? 0) >= 0.5),
  );
  const shown = [...SHOWN.filter((n) => r.counts.some((c) => (c.byName[n] ?? 0) > 0)), ...frequent];
  const head = ['side', 'request', 'processes', 'total', ...shown, 'other'];
  const rows = r.counts.map((c) => {
    const other = c.perRequest - shown.reduce((s, n) => s + (c.byName[n] ?? 0), 0);
    return [
      c.side,
      `${c.method} 4 KiB${c.method === 'PUT' ? ' (distinct keys)' : ''}`,
      String(c.processes),
      c.perRequest.toFixed(2),
      ...shown.map((n) => (c.byName[n] ?? 0).toFixed(2)),
      Math.max(0, other).toFixed(2),
    ];
  });
  const line = (cols: string[]) => `| ${cols.join(' | ')} |`;
  return [
    `System calls per request (\`strace -c -f\` on every server process, ${r.requests} requests after ${r.warmup} unmeasured, c${r.concurrency}, Node client; not timed):`,
    '',
    line(head),
    line(head.map(() => '---')),
    ...rows.map(line),
  ].join('\n');
}
