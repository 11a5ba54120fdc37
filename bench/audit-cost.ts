#!/usr/bin/env node
// What the audit log costs the server (docs/audit.md, docs/performance.md "Audit log"): three servers
// started side by side — audit off, to a file, to a webhook (a local receiver answering 200) — with
// the same server arguments (after `--`, e.g. `-- --workers 2`), then ROUNDS rounds of N requests
// (GET and HEAD of a 4 KiB object, PUT of 4 KiB to distinct keys, over C connections) sent to each
// server in turn, so the three see the same machine load. Per server and operation: server CPU per
// request (utime+stime from /proc, primary and workers summed; and the primary's share), median of
// the rounds. Load-independent enough to compare on a busy machine; no throughput is claimed.
//   node dist/bench/audit-cost.js [N=2000] [C=16] [ROUNDS=7] [-- server args…]
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { buildHead, type HttpRequest, requestOnce, runLoad } from './client.js';
import { CLK_TCK, childrenOf, readCpuTicks } from './procstat.js';
import { type RunningStrata, startStrata } from './servers.js';
import { objectPath, presign, type S3Credentials, signHeaders } from './sign.js';

const HOST = '127.0.0.1';
const ROOT: S3Credentials = { accessKey: 'rustfsadmin', secretKey: 'rustfssecret', region: 'us-east-1' };
const OPS = ['GET', 'HEAD', 'PUT'] as const;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const dash = process.argv.indexOf('--');
  const pos = dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash);
  const serverArgs = dash < 0 ? [] : process.argv.slice(dash + 1);
  const n = Math.min(100_000, Math.max(1, Number(pos[0] ?? 2000)));
  const c = Math.min(256, Math.max(1, Number(pos[1] ?? 16)));
  const rounds = Math.min(50, Math.max(1, Number(pos[2] ?? 7)));
  const dir = mkdtempSync(join(os.tmpdir(), 'strata-audit-cost-'));
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end());
  });
  await new Promise<void>((ok) => sink.listen(0, HOST, ok));
  const hook = `http://${HOST}:${(sink.address() as AddressInfo).port}/`;
  const variants: Record<string, string[]> = {
    off: [],
    file: ['--audit-file', join(dir, 'audit.log')],
    webhook: ['--audit-webhook', hook],
  };
  const servers: Record<string, RunningStrata> = {};
  try {
    for (const [name, extra] of Object.entries(variants)) {
      servers[name] = await startStrata({ dataDir: join(dir, name), logFile: join(dir, `${name}.log`), args: [...serverArgs, ...extra] });
    }
    const body = Buffer.alloc(4096, 7);
    const cpu: Record<string, Record<string, { all: number[]; primary: number[] }>> = {};
    for (const [name, s] of Object.entries(servers)) {
      const host = `${HOST}:${s.port}`;
      for (const [path, b] of [
        [objectPath('bench'), undefined],
        [objectPath('bench', 'k'), body],
      ] as const) {
        const { target, headers } = signHeaders(ROOT, host, 'PUT', path);
        const res = await requestOnce(HOST, s.port, { head: buildHead('PUT', target, host, headers, b?.length ?? 0), body: b && [b], keepBody: true });
        if (res.status !== 200) throw new Error(`${name}: PUT ${path}: ${res.status}`);
      }
      cpu[name] = Object.fromEntries(OPS.map((op) => [op, { all: [], primary: [] }]));
    }
    let putSeq = 0;
    const request = (s: RunningStrata, op: (typeof OPS)[number]): (() => HttpRequest) => {
      const host = `${HOST}:${s.port}`;
      if (op === 'PUT')
        return () => ({ head: buildHead('PUT', presign(ROOT, host, 'PUT', objectPath('bench', `p/${putSeq++}`)), host, {}, body.length), body: [body] });
      const r = { head: buildHead(op, presign(ROOT, host, op, objectPath('bench', 'k')), host), isHead: op === 'HEAD' };
      return () => r;
    };
    const load = async (s: RunningStrata, op: (typeof OPS)[number], count: number) => {
      const make = request(s, op);
      const out = await runLoad({ host: HOST, port: s.port, concurrency: c, durationMs: 600_000, maxRequests: count, next: () => make() });
      if (out.errors > 0) throw new Error(`${op}: ${out.errors} errors (${JSON.stringify(out.statuses)})`);
    };
    for (const s of Object.values(servers)) for (const op of OPS) await load(s, op, 500); // warm: JIT, caches
    for (let r = 0; r < rounds; r++) {
      for (const op of OPS) {
        for (const [name, s] of Object.entries(servers)) {
          const pids = [s.pid, ...childrenOf(s.pid)];
          const ticks = () => pids.map((p) => readCpuTicks(p) ?? 0);
          const t0 = ticks();
          await load(s, op, n);
          const d = ticks().map((t, i) => t - t0[i]!);
          const perReq = (t: number) => (t / CLK_TCK / n) * 1e6;
          cpu[name]![op]!.all.push(perReq(d.reduce((a, b) => a + b, 0)));
          cpu[name]![op]!.primary.push(pids.length > 1 ? perReq(d[0]!) : 0);
        }
      }
    }
    process.stdout.write(`server CPU per request, µs (median of ${rounds} rounds × ${n}, c${c}; server args: ${serverArgs.join(' ') || 'none'})\n`);
    for (const op of OPS) {
      const row = Object.keys(servers).map((name) => {
        const m = cpu[name]![op]!;
        const primary = median(m.primary);
        return `${name} ${median(m.all).toFixed(0)}${primary > 0 ? ` (primary ${primary.toFixed(0)})` : ''}`;
      });
      process.stdout.write(`${op}: ${row.join(', ')}\n`);
    }
  } finally {
    for (const s of Object.values(servers)) await s.stop();
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
