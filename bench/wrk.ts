// wrk (Debian's, LuaJIT) as the load generator for GET/PUT/DELETE: one thread, a generated Lua
// script per run. Static mode (one request replayed, wrk's fastest path) for single-key cells;
// list mode (paths read from a file and cycled) for distinct keys; count mode (stop after N
// answers, timed with clock_gettime through LuaJIT's ffi, since wrk's own rate divides by the
// whole -d duration) for DELETE and for populating.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from './client.js';
import { readCpuTicks, CLK_TCK } from './procstat.js';

export interface WrkSpec {
  host: string;
  port: number;
  concurrency: number;
  /** Upper bound of the run in whole seconds (wrk's -d). */
  durationS: number;
  method: string;
  /** One path: static mode (unless maxRequests); several: cycled in order. */
  paths: readonly string[];
  bodySize: number;
  /** Headers every request sends (besides Host and Content-Length). */
  headers?: Readonly<Record<string, string>>;
  /** Count mode: stop after this many answers (needs list mode; a single path becomes a list). */
  maxRequests?: number;
  /** Directory for the script and the path list. */
  workDir: string;
  timeoutS?: number;
}

export function wrkAvailable(): boolean {
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return r.error === undefined && /wrk/.test(`${r.stdout}${r.stderr}`);
}

let runCounter = 0;

const luaString = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;

function script(spec: WrkSpec, listFile: string | undefined): string {
  const list = listFile !== undefined;
  const count = spec.maxRequests ?? 0;
  const lines: string[] = [
    'local ffi = require("ffi")',
    'ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_ts; int clock_gettime(int clk, bench_ts *tp); ]]',
    'local ts = ffi.new("bench_ts")',
    'local function now() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9 end',
    `local METHOD = ${luaString(spec.method)}`,
    // PUT always sends a body ("" makes wrk.format send Content-Length: 0); other methods none.
    spec.bodySize > 0
      ? `local BODY = string.rep("0123456789abcdef", ${Math.floor(spec.bodySize / 16)}) .. string.rep("x", ${spec.bodySize % 16})`
      : spec.method === 'PUT'
        ? 'local BODY = ""'
        : 'local BODY = nil',
    `local MAX = ${count}`,
    `wrk.headers["Host"] = ${luaString(`${spec.host}:${spec.port}`)}`,
    ...Object.entries(spec.headers ?? {}).map(([n, v]) => `wrk.headers[${luaString(n)}] = ${luaString(v)}`),
    'wrk.method = METHOD',
    'wrk.body = BODY',
    `wrk.path = ${luaString(spec.paths[0]!)}`,
    't0 = 0; t1 = 0; n = 0; ok = 0; bad = 0; rep = 0; wrapped = 0',
    'paths = {}',
    'idx = 0',
  ];
  if (list) {
    lines.push(
      'function init(args)',
      `  for line in io.lines(${luaString(listFile)}) do paths[#paths + 1] = line end`,
      'end',
      'function request()',
      '  idx = idx + 1',
      '  if idx > #paths then idx = 1; wrapped = 1 end',
      '  if t0 == 0 then t0 = now() end',
      '  return wrk.format(METHOD, paths[idx], nil, BODY)',
      'end',
    );
  }
  if (count > 0) {
    lines.push(
      'function response(status, headers, body)',
      '  if n < MAX then',
      '    n = n + 1; t1 = now()',
      // After the list ran out, the few requests still needed to fill the connections repeat
      // its first entries (a DELETE of a key already deleted): not an error of the server.
      '    if status < 400 then ok = ok + 1 elseif wrapped == 1 then rep = rep + 1 else bad = bad + 1 end',
      // wrk sleeps for the whole -d even when every thread has stopped: the marker tells the
      // bench to end it early with SIGINT (wrk then reports and calls done() as usual).
      '    if n >= MAX then wrk.thread:stop(); io.write("BENCHDONE\\n"); io.stdout:flush() end',
      '  end',
      'end',
    );
  }
  lines.push(
    'local threads = {}',
    'function setup(thread) threads[#threads + 1] = thread end',
    'function done(summary, latency, requests)',
    '  local tn, tok, tbad, trep, el, wr = 0, 0, 0, 0, 0, 0',
    '  for _, t in ipairs(threads) do',
    '    tn = tn + t:get("n"); tok = tok + t:get("ok"); tbad = tbad + t:get("bad"); trep = trep + t:get("rep")',
    '    local d = t:get("t1") - t:get("t0"); if d > el then el = d end',
    '    if t:get("wrapped") == 1 then wr = 1 end',
    '  end',
    '  local e = summary.errors',
    '  io.write(string.format(\'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"n":%d,"ok":%d,"bad":%d,"rep":%d,"el":%.6f,"wrapped":%d}\\n\',',
    '    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,',
    '    latency:percentile(50.0), latency:percentile(99.0), tn, tok, tbad, trep, el, wr))',
    'end',
  );
  return `${lines.join('\n')}\n`;
}

interface WrkJson {
  requests: number;
  duration_us: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50_us: number;
  p99_us: number;
  n: number;
  ok: number;
  bad: number;
  rep: number;
  el: number;
  wrapped: number;
}

export async function runWrk(spec: WrkSpec): Promise<LoadResult> {
  const id = `${process.pid}-${++runCounter}`;
  const countMode = spec.maxRequests !== undefined;
  let listFile: string | undefined;
  if (spec.paths.length > 1 || countMode) {
    listFile = join(spec.workDir, `wrk-${id}.paths`);
    writeFileSync(listFile, `${spec.paths.join('\n')}\n`);
  }
  const scriptFile = join(spec.workDir, `wrk-${id}.lua`);
  writeFileSync(scriptFile, script(spec, listFile));
  const args = [
    '-t1',
    `-c${spec.concurrency}`,
    `-d${Math.max(1, Math.round(spec.durationS))}s`,
    `--timeout`,
    `${spec.timeoutS ?? 30}s`,
    '-s',
    scriptFile,
    `http://${spec.host}:${spec.port}/`,
  ];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let interrupted = false;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!interrupted && out.includes('BENCHDONE')) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // wrk's CPU: sampled while it runs (it is gone, and its counters with it, once it exits).
  let cpuTicks = 0;
  const sample = setInterval(() => {
    const t = readCpuTicks(child.pid!);
    if (t !== undefined) cpuTicks = t;
  }, 50);
  const hardLimitMs = (spec.durationS + (spec.timeoutS ?? 30) + 15) * 1000;
  const killer = setTimeout(() => child.kill('SIGKILL'), hardLimitMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearInterval(sample);
  clearTimeout(killer);
  const line = out.split('\n').find((l) => l.startsWith('BENCHJSON '));
  if (code !== 0 || line === undefined) {
    throw new Error(`wrk failed (exit ${code}): ${err.trim() || out.trim()}`);
  }
  const j = JSON.parse(line.slice('BENCHJSON '.length)) as WrkJson;
  const socketErrors = j.connect + j.read + j.write + j.timeout;
  if (countMode) {
    return {
      ops: j.n,
      elapsedS: Math.max(1e-6, j.el),
      statuses: { ok: j.ok, bad: j.bad, repeated: j.rep, socket: socketErrors },
      errors: j.bad + socketErrors,
      bytesIn: j.bytes,
      latencyMs: { p50: j.p50_us / 1000, p99: j.p99_us / 1000 },
      clientCpuS: cpuTicks / CLK_TCK,
      tool: 'wrk',
      // In count mode the list has exactly maxRequests entries: running past its end is by design.
      wrapped: j.n > spec.paths.length,
    };
  }
  return {
    ops: j.requests,
    elapsedS: j.duration_us / 1e6,
    statuses: { bad: j.status, socket: socketErrors },
    errors: j.status + socketErrors,
    bytesIn: j.bytes,
    latencyMs: { p50: j.p50_us / 1000, p99: j.p99_us / 1000 },
    clientCpuS: cpuTicks / CLK_TCK,
    tool: 'wrk',
    wrapped: j.wrapped === 1,
  };
}
