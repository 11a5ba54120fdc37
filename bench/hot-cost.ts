#!/usr/bin/env node
// What a small request costs the server (docs/performance.md, "Round two: the small-request path"):
// starts Strata on a fresh data directory (extra server arguments after `--`, e.g. `-- --shared yes`),
// puts a 4 KiB object, then for GET, HEAD and PUT of 4 KiB (distinct keys), with C connections:
//   1. system calls per request, `strace -c -f` attached to the server during N requests;
//   2. server CPU per request (utime+stime from /proc, the primary and its workers summed) over ROUNDS
//      batches of N, the median batch.
// Load-independent figures (counts and CPU, not throughput), so they mean something on a busy machine.
//   node dist/bench/hot-cost.js [N=3000] [C=16] [ROUNDS=5] [-- server args…]   (strace optional; loops bounded)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { buildHead, Connection, type HttpRequest, requestOnce } from './client.js';
import { CLK_TCK, childrenOf, readCpuTicks } from './procstat.js';
import { startStrata } from './servers.js';
import { objectPath, presign, type S3Credentials, signHeaders } from './sign.js';

const HOST = '127.0.0.1';
const ROOT: S3Credentials = { accessKey: 'rustfsadmin', secretKey: 'rustfssecret', region: 'us-east-1' };

async function main(): Promise<void> {
  const dash = process.argv.indexOf('--');
  const pos = dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash);
  const serverArgs = dash < 0 ? [] : process.argv.slice(dash + 1);
  const n = Math.min(100_000, Math.max(1, Number(pos[0] ?? 3000)));
  const c = Math.min(256, Math.max(1, Number(pos[1] ?? 16)));
  const rounds = Math.min(50, Math.max(1, Number(pos[2] ?? 5)));
  const haveStrace = spawnSync('strace', ['-V']).error === undefined;
  const dir = mkdtempSync(join(os.tmpdir(), 'strata-hot-cost-'));
  const s = await startStrata({ dataDir: join(dir, 'data'), logFile: join(dir, 'strata.log'), args: serverArgs });
  try {
    const host = `${HOST}:${s.port}`;
    const put = async (path: string, body?: Buffer) => {
      const { target, headers } = signHeaders(ROOT, host, 'PUT', path);
      const res = await requestOnce(HOST, s.port, { head: buildHead('PUT', target, host, headers, body?.length ?? 0), body: body && [body], keepBody: true });
      if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status}`);
    };
    const body = Buffer.alloc(4096, 7);
    await put(objectPath('bench'));
    await put(objectPath('bench', 'k'), body);
    let putSeq = 0;
    const requests: Record<string, () => HttpRequest> = {
      GET: (() => {
        const r = { head: buildHead('GET', presign(ROOT, host, 'GET', objectPath('bench', 'k')), host) };
        return () => r;
      })(),
      HEAD: (() => {
        const r = { head: buildHead('HEAD', presign(ROOT, host, 'HEAD', objectPath('bench', 'k')), host), isHead: true };
        return () => r;
      })(),
      PUT: () => ({ head: buildHead('PUT', presign(ROOT, host, 'PUT', objectPath('bench', `p/${putSeq++}`)), host, {}, body.length), body: [body] }),
    };
    /** `count` requests over `c` connections, each sending its next when the last is answered. */
    const load = async (make: () => HttpRequest, count: number) => {
      const reqs = Array.from({ length: count }, make);
      const conns = await Promise.all(Array.from({ length: c }, () => Connection.connect(HOST, s.port, 30_000)));
      let next = 0;
      try {
        await Promise.all(
          conns.map(async (conn) => {
            while (next < count) {
              const res = await conn.request(reqs[next++]!);
              if (res.status !== 200) throw new Error(`status ${res.status}`);
            }
          }),
        );
      } finally {
        for (const x of conns) x.close();
      }
    };
    for (const [name, make] of Object.entries(requests)) {
      await load(make, 500); // warm: JIT, caches
      if (haveStrace) {
        const out = join(dir, 'strace.txt');
        const st = spawn('strace', ['-c', '-f', '-o', out, '-p', String(s.pid)], { stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 700)); // attached
        await load(make, n);
        st.kill('SIGINT');
        await new Promise((r) => st.once('exit', r));
        const rows = readFileSync(out, 'utf8')
          .split('\n')
          .map((l) => l.trim().split(/\s+/))
          .filter((cols) => cols.length >= 5 && /^\d+$/.test(cols[3]!) && cols.at(-1) !== 'syscall' && cols.at(-1) !== 'total');
        const total = rows.reduce((sum, cols) => sum + Number(cols[3]), 0);
        const per = rows
          .filter((cols) => Number(cols[3]) / n >= 0.01)
          .map((cols) => `${cols.at(-1)} ${(Number(cols[3]) / n).toFixed(2)}`)
          .join(', ');
        process.stdout.write(`${name}: ${n} requests, c${c}: ${(total / n).toFixed(2)} system calls per request: ${per}\n`);
      }
      // The server's processes: the single process, or a cluster primary and its workers.
      const pids = [s.pid, ...childrenOf(s.pid)];
      const ticks = () => pids.reduce((sum, pid) => sum + (readCpuTicks(pid) ?? 0), 0);
      const cpus: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = ticks();
        await load(make, n);
        cpus.push(((ticks() - t0) / CLK_TCK / n) * 1e6);
      }
      cpus.sort((a, b) => a - b);
      process.stdout.write(
        `${name}: server CPU per request (median of ${rounds} × ${n}): ${cpus[cpus.length >> 1]!.toFixed(0)} µs (range ${cpus[0]!.toFixed(0)}–${cpus.at(-1)!.toFixed(0)})\n`,
      );
    }
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
