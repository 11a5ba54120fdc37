// The benchmark (bench/run.ts, `npm run bench`) still runs: its --smoke mode (one round, three
// cells, tiny counts) against a second Strata as the reference (--vs), so no nginx is needed; wrk
// is used when installed, the bench's own Node client otherwise. Checks the markdown table and the
// JSON result, not the numbers' size: this machine's speed is not under test here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startServer, type RunningServer } from '../helpers/server.js';

const BENCH_JS = join(REPO_ROOT, 'dist', 'bench', 'run.js');
const RUN_TIMEOUT_MS = 60_000;

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
  });
});
