#!/usr/bin/env node
// What encryption costs a small request (docs/performance.md, "Encryption: small objects"): starts
// Strata with the built-in key service on a fresh data directory (extra server arguments after
// `--`, e.g. `-- --workers 1`), then for GET and PUT of one 4 KiB key stored in the clear, with
// SSE-S3 and with SSE-C (as the bench's `sse-*-4k` cells send them), over C connections:
//   1. system calls per request, `strace -c -f` attached to every server process during N requests;
//   2. server CPU per request (the CPU time of every thread of every server process, /proc schedstat: ns) over ROUNDS rounds of N
//      requests per kind, the kinds alternating within each round (the order reversed every other
//      round), so the machine's changing load hits them alike: each kind's median, and the median of
//      the rounds' ratios to plain.
// Load-independent figures (counts and CPU, not throughput), so they mean something on a busy machine.
//   node dist/bench/sse-cost.js [N=3000] [C=16] [ROUNDS=5] [--no-strace] [--profile DIR] [--only GET|PUT] [--kinds plain,s3,c] [-- server args…]
// --profile DIR runs the server under `node --cpu-prof` (each process writes DIR/CPU.*.cpuprofile on exit).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { buildHead, Connection, type HttpRequest, requestOnce } from './client.js';
import { processTree, readCpuNs } from './procstat.js';
import { startStrata } from './servers.js';
import { headersOf, type Kind, SSE_SERVER_ARGS } from './sse.js';
import { underStrace } from './syscalls.js';
import { objectPath, presign, type S3Credentials, signHeaders } from './sign.js';

const HOST = '127.0.0.1';
const ROOT: S3Credentials = { accessKey: 'rustfsadmin', secretKey: 'rustfssecret', region: 'us-east-1' };
const KINDS: readonly Kind[] = ['plain', 's3', 'c'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const dash = process.argv.indexOf('--');
  const all = dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash);
  const serverArgs = dash < 0 ? [] : process.argv.slice(dash + 1);
  const optionValue = (name: string) => (all.includes(name) ? all[all.indexOf(name) + 1] : undefined);
  const profileDir = optionValue('--profile');
  const only = optionValue('--only');
  const kinds = KINDS.filter((k) => (optionValue('--kinds') ?? KINDS.join(',')).split(',').includes(k));
  const pos = all.filter((a, i) => !a.startsWith('--') && !all[i - 1]?.match(/^--(profile|only|kinds)$/));
  const n = Math.min(100_000, Math.max(1, Number(pos[0] ?? 3000)));
  const c = Math.min(256, Math.max(1, Number(pos[1] ?? 16)));
  const rounds = Math.min(50, Math.max(1, Number(pos[2] ?? 5)));
  const haveStrace = !all.includes('--no-strace') && spawnSync('strace', ['-V']).error === undefined;
  const dir = mkdtempSync(join(os.tmpdir(), 'strata-sse-cost-'));
  const s = await startStrata({
    dataDir: join(dir, 'data'),
    logFile: join(dir, 'strata.log'),
    args: [...SSE_SERVER_ARGS, ...serverArgs],
    nodeArgs: profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir],
  });
  try {
    const host = `${HOST}:${s.port}`;
    const body = Buffer.alloc(4096, 7);
    const send = async (method: 'PUT' | 'GET', path: string, extra: Record<string, string>, b?: Buffer) => {
      const { target, headers } = signHeaders(ROOT, host, method, path, [], Date.now(), undefined, extra);
      const res = await requestOnce(HOST, s.port, { head: buildHead(method, target, host, headers, b?.length), body: b && [b], keepBody: true });
      if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${res.body?.toString('utf8', 0, 300)}`);
    };
    await send('PUT', objectPath('bench'), {}, Buffer.alloc(0));
    for (const kind of KINDS) await send('PUT', objectPath('bench', `k-${kind}`), headersOf(kind, 'PUT'), body);
    const requestOf = (method: 'GET' | 'PUT', kind: Kind): HttpRequest => {
      const h = headersOf(kind, method);
      const target = presign(ROOT, host, method, objectPath('bench', `k-${kind}`), [], undefined, undefined, h);
      return method === 'GET' ? { head: buildHead('GET', target, host, h) } : { head: buildHead('PUT', target, host, h, body.length), body: [body] };
    };
    /** `count` requests over `c` connections (kept open between calls), each sending its next when the last is answered. */
    let conns: Connection[] = [];
    const load = async (req: HttpRequest, count: number) => {
      if (conns.length === 0) conns = await Promise.all(Array.from({ length: c }, () => Connection.connect(HOST, s.port, 30_000)));
      let next = 0;
      await Promise.all(
        conns.map(async (conn) => {
          while (next < count) {
            next++;
            const res = await conn.request(req);
            if (res.status !== 200) throw new Error(`status ${res.status}`);
          }
        }),
      );
    };
    const pids = () => processTree(s.pid);
    const cpuNs = (ps: number[]) => ps.reduce((sum, p) => sum + (readCpuNs(p) ?? 0), 0);
    for (const method of (['GET', 'PUT'] as const).filter((m) => only === undefined || m === only)) {
      for (const kind of kinds) await load(requestOf(method, kind), 500); // warm: JIT, caches
      if (haveStrace) {
        for (const kind of kinds) {
          const calls = await underStrace(pids(), join(dir, 'strace.txt'), () => load(requestOf(method, kind), n));
          const total = Object.values(calls).reduce((a, b) => a + b, 0);
          const per = Object.entries(calls)
            .sort((a, b) => b[1] - a[1])
            .filter(([, v]) => v / n >= 0.01)
            .map(([name, v]) => `${name} ${(v / n).toFixed(2)}`)
            .join(', ');
          process.stdout.write(`${method} ${kind}: ${(total / n).toFixed(2)} system calls per request (${n}, c${c}): ${per}\n`);
        }
      }
      const cpu: Record<Kind, number[]> = { plain: [], s3: [], c: [] };
      for (let r = 0; r < rounds; r++) {
        for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) {
          const ps = pids();
          const t0 = cpuNs(ps);
          await load(requestOf(method, kind), n);
          cpu[kind].push((cpuNs(ps) - t0) / 1e3 / n);
        }
      }
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      for (const kind of kinds) {
        const ratios = cpu[kind].map((v, i) => v / (cpu.plain[i] ?? Number.NaN));
        const shown = rounds <= 10 ? ` (${cpu[kind].map((v) => v.toFixed(0)).join(' ')})` : '';
        process.stdout.write(
          `${method} ${kind}: server CPU per request over ${rounds} × ${n}: mean ${(sum(cpu[kind]) / rounds).toFixed(0)} µs, median ${median(cpu[kind]).toFixed(0)} µs${shown}` +
            (kind === 'plain'
              ? '\n'
              : `; ${(sum(cpu[kind]) / sum(cpu.plain)).toFixed(2)}× plain (ratio of the sums; median of the rounds' ratios ${median(ratios).toFixed(2)}×)\n`),
        );
      }
    }
    for (const x of conns) x.close();
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
