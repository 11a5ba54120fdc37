// The benchmark (bench/run.ts, `npm run bench`) still runs: its --smoke mode (one round, three
// cells, tiny counts) against a second Strata as the reference (--vs), so no nginx is needed; wrk
// is used when installed, the bench's own Node client otherwise. Checks the markdown table and the
// JSON result, not the numbers' size: this machine's speed is not under test here. Also: the system
// calls per request (strace, when installed), --compare on two result files, and the process-tree
// CPU and memory accounting (bench/procstat.ts) against a stand-in cluster (a primary and 2 workers),
// and the disk side (bench/disk.ts: dd writes whole operations, as many as asked).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { diskWrite } from '../../bench/disk.js';
import { ProcWindow, processTree, readCpuTicks, CLK_TCK } from '../../bench/procstat.js';
import type { SyscallCount } from '../../bench/syscalls.js';
import { REPO_ROOT, startServer, type RunningServer } from '../helpers/server.js';

const BENCH_JS = join(REPO_ROOT, 'dist', 'bench', 'run.js');
const RUN_TIMEOUT_MS = 90_000;
const HAVE_STRACE = spawnSync('strace', ['-V']).status === 0;

interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBench(args: string[]): Promise<BenchRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH_JS, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface SideStats {
  median: number;
  runs: Array<{ value: number; ops: number; elapsedS: number }>;
}
interface BenchJson {
  schema: string;
  mode: string;
  indicative: boolean;
  syscalls?: { requests: number; counts: SyscallCount[]; skipped?: string };
  strataPeakRssPerProcessMiB: number;
  strataProcesses: number;
  reference: string;
  machine: { nproc: number; node: string };
  clientCeiling: { runs: Array<{ reqPerS: number }> };
  startup: { listeningMsMedian: number };
  strataPeakRssMiB: number;
  cells: Array<{ id: string; unit: string; sides: Record<string, SideStats | undefined>; ratio?: number }>;
  table: string;
}

describe('benchmark smoke run (npm run bench -- --smoke)', () => {
  let reference: RunningServer;
  let work: string;
  let run: BenchRun;
  let jsonFile: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'strata-bench-smoke-'));
    jsonFile = join(work, 'result.json');
    reference = await startServer();
    run = await runBench(['--smoke', '--vs', reference.url, '--json', jsonFile, '--tmp', work]);
  });

  after(async () => {
    await reference?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('exits 0 within the time limit', () => {
    assert.equal(run.code, 0, `bench exited with ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  });

  it('prints one markdown table with a row per cell', () => {
    const lines = run.stdout.split('\n').filter((l) => l.startsWith('|'));
    assert.ok(lines.length >= 5, `expected a table, got:\n${run.stdout}`);
    assert.match(lines[0]!, /^\| cell \| unit \| Strata \| reference \| Strata\/reference \|/);
    assert.match(lines[1]!, /^\| --- \|/);
    for (const title of ['GET 4 KiB, c16', 'HEAD 4 KiB, c16', 'ListObjectsV2']) {
      assert.ok(
        lines.some((l) => l.startsWith(`| ${title}`)),
        `no row for ${title}`,
      );
    }
    assert.match(run.stdout, /Client ceiling/);
    assert.match(run.stdout, /Startup with/);
    // Smoke and quick figures say they are indicative only.
    assert.match(run.stdout, /## Strata benchmark \(smoke: INDICATIVE ONLY/);
  });

  it('writes valid JSON with numbers for both sides', async () => {
    const j = JSON.parse(await readFile(jsonFile, 'utf8')) as BenchJson;
    assert.equal(j.schema, 'strata-bench/1');
    assert.equal(j.mode, 'smoke');
    assert.equal(j.reference, 'reference');
    assert.ok(j.machine.nproc >= 1);
    assert.ok(j.clientCeiling.runs.length > 0 && j.clientCeiling.runs.every((r) => r.reqPerS > 0));
    assert.ok(Number.isFinite(j.startup.listeningMsMedian) && j.startup.listeningMsMedian > 0);
    assert.ok(j.strataPeakRssMiB > 0);
    assert.deepEqual(j.cells.map((c) => c.id).sort(), ['get-4k-c16', 'head-4k-c16', 'list-small']);
    for (const c of j.cells) {
      for (const side of ['strata', 'reference']) {
        const s = c.sides[side];
        assert.ok(s, `${c.id}: no ${side} result`);
        assert.ok(Number.isFinite(s.median) && s.median > 0, `${c.id} ${side}: median ${s.median}`);
        assert.ok(s.runs.every((r) => r.ops > 0 && r.elapsedS > 0));
      }
      assert.ok(typeof c.ratio === 'number' && c.ratio > 0, `${c.id}: ratio ${c.ratio}`);
    }
    assert.equal(j.table.split('\n').length, 2 + j.cells.length);
    assert.equal(j.indicative, true);
    assert.ok(j.strataProcesses >= 1);
    assert.ok(j.strataPeakRssPerProcessMiB > 0 && j.strataPeakRssPerProcessMiB <= j.strataPeakRssMiB + 1e-9);
  });

  it('counts system calls per request for GET, HEAD and PUT 4 KiB on Strata (strace -c -f)', async () => {
    const j = JSON.parse(await readFile(jsonFile, 'utf8')) as BenchJson;
    assert.ok(j.syscalls, 'no syscalls in the JSON');
    if (!HAVE_STRACE) {
      assert.match(j.syscalls.skipped ?? '', /strace is not installed/);
      return;
    }
    assert.equal(j.syscalls.skipped, undefined);
    // The reference of the smoke run is an endpoint the bench did not start: not counted.
    assert.deepEqual(j.syscalls.counts.map((c) => `${c.side} ${c.method}`).sort(), ['strata GET', 'strata HEAD', 'strata PUT']);
    for (const c of j.syscalls.counts) {
      assert.equal(c.requests, 200, `${c.method}: ${c.requests} requests answered`);
      assert.equal(c.errors, 0);
      assert.ok(c.processes >= 1);
      const total = Object.values(c.calls).reduce((s, n) => s + n, 0);
      assert.ok(Math.abs(c.perRequest - total / c.requests) < 0.01, `${c.method}: perRequest ${c.perRequest} vs ${total}/${c.requests}`);
      // Every request is read from its socket and answered on it.
      const reads = (c.calls.read ?? 0) + (c.calls.readv ?? 0) + (c.calls.recvfrom ?? 0);
      const writes = (c.calls.write ?? 0) + (c.calls.writev ?? 0) + (c.calls.sendto ?? 0) + (c.calls.sendmsg ?? 0);
      assert.ok(reads >= c.requests * 0.9 && writes >= c.requests * 0.9, `${c.method}: ${reads} reads, ${writes} writes`);
    }
    // A durable PUT syncs: the metadata WAL (group commit: at most one sync per request).
    const put = j.syscalls.counts.find((c) => c.method === 'PUT')!;
    const syncs = (put.calls.fdatasync ?? 0) + (put.calls.fsync ?? 0);
    assert.ok(syncs >= 1 && syncs <= put.requests * 1.1, `PUT: ${syncs} syncs for ${put.requests} requests`);
    assert.match(run.stdout, /System calls per request \(`strace -c -f`/);
    assert.match(run.stdout, /\| strata \| PUT 4 KiB \(distinct keys\) \| /);
  });

  it('--compare BASE --to NEW: nothing moved against itself; a halved cell and more system calls did', async () => {
    const same = spawnSync(process.execPath, [BENCH_JS, '--compare', jsonFile, '--to', jsonFile], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stdout, /Nothing moved beyond the noise\./);
    const j = JSON.parse(await readFile(jsonFile, 'utf8')) as BenchJson & {
      cells: Array<{ id: string; sides: Record<string, { runs: Array<{ value: number }> }> }>;
    };
    const worse = structuredClone(j);
    const get = worse.cells.find((c) => c.id === 'get-4k-c16')!;
    for (const r of get.sides.strata!.runs) r.value /= 2;
    const head = worse.cells.find((c) => c.id === 'head-4k-c16')!;
    for (const r of head.sides.strata!.runs) r.value *= 1.05; // within the floor: not a move
    const sys = worse.syscalls?.counts.find((c) => c.method === 'GET');
    if (sys) {
      sys.perRequest += 2;
      sys.byName.fcntl = (sys.byName.fcntl ?? 0) + 2;
    }
    const worseFile = join(work, 'worse.json');
    await writeFile(worseFile, JSON.stringify(worse));
    const moved = spawnSync(process.execPath, [BENCH_JS, '--compare', jsonFile, '--to', worseFile], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(moved.status, 0, moved.stderr);
    assert.match(moved.stdout, /\| get-4k-c16 \| strata \| req\/s \| [^|]+ \| [^|]+ \| -50 % \| worse \|/);
    assert.doesNotMatch(moved.stdout, /\| head-4k-c16 \| strata \| req\/s/);
    // One round each: the floor is the single-round one (the spread is unknown).
    assert.match(moved.stdout, /≥ 25 % where a run had one round/);
    if (sys) assert.match(moved.stdout, /\| syscalls GET 4 KiB \| strata \| fcntl per request \| [^|]+ \| [^|]+ \| (\+\d+ %|new) \| worse \|/);
  });
});

describe("the bench's process-tree accounting (a cluster: primary + workers)", () => {
  // A stand-in for `strata --workers 2`: a primary that starts 2 worker processes; on "go" each
  // worker runs a fixed loop, then reports the CPU it used (its own process.cpuUsage).
  const WORKER = `
    process.stdin.once('data', () => {
      const c0 = process.cpuUsage();
      let x = 0;
      for (let i = 0; i < 30_000_000; i++) x = (x * 31 + i) % 1000003;
      const c = process.cpuUsage(c0);
      process.stdout.write(JSON.stringify({ cpuUs: c.user + c.system, x }) + '\\n');
    });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  const PRIMARY = `
    const { spawn } = require('node:child_process');
    const kids = [0, 1].map(() => spawn(process.execPath, ['-e', ${JSON.stringify(WORKER)}], { stdio: ['pipe', 'pipe', 'inherit'] }));
    let ready = 0;
    const results = [];
    for (const k of kids) {
      k.stdout.on('data', (d) => {
        for (const line of d.toString().split('\\n').filter(Boolean)) {
          if (line === 'ready') { if (++ready === 2) process.stdout.write('ready\\n'); }
          else { results.push(JSON.parse(line)); if (results.length === 2) process.stdout.write(JSON.stringify(results) + '\\n'); }
        }
      });
    }
    process.stdin.on('data', () => { for (const k of kids) k.stdin.write('go\\n'); });
    process.on('SIGTERM', () => { for (const k of kids) k.kill(); process.exit(0); });`;

  it('sums CPU over the primary and its workers, and reports peak RSS per process and summed', async () => {
    const primary = spawn(process.execPath, ['-e', PRIMARY], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    primary.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    // The n-th line the primary wrote (bounded wait).
    const line = async (n: number): Promise<string> => {
      for (let i = 0; i < 3000; i++) {
        const lines = out.split('\n').filter((l) => l !== '');
        if (lines.length >= n) return lines[n - 1]!;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`stand-in: no line ${n} in 60 s: ${out}`);
    };
    try {
      assert.equal(await line(1), 'ready');
      const tree = processTree(primary.pid!);
      assert.equal(tree.length, 3, `process tree ${tree.join(' ')}`);
      assert.equal(tree[0], primary.pid);
      const win = new ProcWindow(() => processTree(primary.pid!));
      win.start();
      const primary0 = readCpuTicks(primary.pid!)!;
      primary.stdin!.write('go\n');
      const reported = JSON.parse(await line(2)) as Array<{ cpuUs: number }>;
      const primaryOnlyS = (readCpuTicks(primary.pid!)! - primary0) / CLK_TCK;
      const usage = win.stop();
      const workersS = reported.reduce((s, r) => s + r.cpuUs, 0) / 1e6;
      assert.equal(usage.processes, 3);
      // /proc counts in ticks (10 ms): allow one tick per process either way.
      assert.ok(usage.cpuS >= workersS - 3 / CLK_TCK, `window ${usage.cpuS} s, the workers report ${workersS} s`);
      assert.ok(usage.cpuS > primaryOnlyS + workersS / 2, `window ${usage.cpuS} s, primary alone ${primaryOnlyS} s`);
      assert.ok(
        usage.peakRssMaxMiB > 0 && usage.peakRssMiB > usage.peakRssMaxMiB,
        `peak ${usage.peakRssMaxMiB} MiB per process, ${usage.peakRssMiB} MiB summed`,
      );
    } finally {
      primary.kill('SIGTERM');
    }
  });
});

describe("the bench's disk side (dd … conv=fdatasync, bench/disk.ts)", () => {
  it('writes whole operations, as many as asked, and leaves no file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-bench-disk-'));
    try {
      // PUT-like: independent streams, exactly maxOps files of 1 MiB (the duration is not what stops it).
      const puts = await diskWrite(dir, { jobBytes: 1024 * 1024, jobsPerOp: 1, concurrency: 2 }, 600, 3);
      assert.equal(puts.ops, 3);
      assert.equal(puts.tool, 'dd');
      assert.ok(puts.elapsedS > 0 && puts.errors === 0);
      // Multipart-like: one operation = 4 parts of 1 MiB, 2 at a time; a zero duration still completes one.
      const mpu = await diskWrite(dir, { jobBytes: 1024 * 1024, jobsPerOp: 4, concurrency: 2 }, 0, 20);
      assert.equal(mpu.ops, 1);
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
