#!/usr/bin/env node
// 4 KiB PUT on six drives against one directory (issue 16's "4 KiB cells unchanged";
// docs/performance.md, "Metadata copies: the small PUT"). Starts the one-directory Strata and
// Strata on six directories of the same file system at EC 4+2 (bench/erasure.ts's `strata-ec`:
// three metadata copies), each as users run it (default workers), then, after a warm-up:
//   1. ROUNDS rounds of N PUTs of 4 KiB to distinct keys at concurrency C, the two servers
//      alternating: rate, server CPU per PUT (every thread of every process, /proc schedstat), and
//      what the disk under the data directories wrote per PUT (KiB and write requests, from the
//      block device's counters: every writer of the device counts, so run it on a quiet machine);
//   2. system calls per PUT: strace -c -f attached to every server process over N PUTs.
// The rates move with the machine's load (compare the ratio within a run); CPU and system calls
// per PUT do not depend on it as much.
// With `--before DIST` (another build's dist/: e.g. the commit before a change), a third side runs
// six drives on that build, in the same rounds.
//   node dist/bench/ec-put4k.js [N=3000] [C=64] [ROUNDS=3] [--no-strace] [--before DIST] [--workers N]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHead, type HttpRequest, requestOnce, runLoad } from './client.js';
import { EC_DRIVES, EC_PARITY } from './erasure.js';
import { readCpuNs, readDeviceWrites } from './procstat.js';
import { type RunningStrata, startStrata } from './servers.js';
import { objectPath, presign, type S3Credentials, signHeaders } from './sign.js';
import { underStrace } from './syscalls.js';

const CREDS: S3Credentials = { accessKey: 'rustfsadmin', secretKey: 'rustfssecret', region: 'us-east-1' };
const BODY = Buffer.alloc(4096, 0x61);

interface Side {
  name: string;
  s: RunningStrata;
  host: string;
}

const cpuNs = (s: RunningStrata): number => s.pids().reduce((a, p) => a + (readCpuNs(p) ?? 0), 0);

function puts(side: Side, prefix: string, n: number): HttpRequest[] {
  return Array.from({ length: n }, (_, i) => ({
    head: buildHead('PUT', presign(CREDS, side.host, 'PUT', objectPath('bench', `${prefix}/${i}`)), side.host, {}, BODY.length),
    body: [BODY],
  }));
}

async function send(side: Side, list: HttpRequest[], c: number): Promise<{ ops: number; s: number; errors: number }> {
  const r = await runLoad({
    host: '127.0.0.1',
    port: side.s.port,
    concurrency: c,
    durationMs: 600_000,
    maxRequests: list.length,
    next: (i) => list[i],
    timeoutMs: 60_000,
  });
  return { ops: r.ops, s: r.elapsedS, errors: r.errors };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const bi = argv.indexOf('--before');
  const before = bi >= 0 ? argv[bi + 1] : undefined;
  const wi = argv.indexOf('--workers');
  const workers = wi >= 0 ? ['--workers', String(Number(argv[wi + 1]))] : [];
  const args = argv.filter((a, i) => !a.startsWith('--') && (bi < 0 || i !== bi + 1) && (wi < 0 || i !== wi + 1));
  const n = Math.min(50_000, Math.max(100, Number(args[0] ?? 3000)));
  const c = Math.min(256, Math.max(1, Number(args[1] ?? 64)));
  const rounds = Math.min(20, Math.max(1, Number(args[2] ?? 3)));
  const strace = !process.argv.includes('--no-strace');
  const root = mkdtempSync(join(tmpdir(), 'strata-ec-put4k-'));
  const sides: Side[] = [];
  try {
    mkdirSync(join(root, 'one'));
    const six = (ec: string): string => {
      for (let i = 1; i <= EC_DRIVES; i++) mkdirSync(join(root, ec, `d${i}`), { recursive: true });
      return join(root, ec, `d{1...${EC_DRIVES}}`);
    };
    const ecArgs = ['--parity', String(EC_PARITY)];
    const plan: Array<[string, string, string[], string | undefined]> = [
      ['one-dir', join(root, 'one'), [], undefined],
      ['six-drives', six('ec'), ecArgs, undefined],
    ];
    if (before) plan.push(['six-drives-before', six('ec-before'), ecArgs, join(before, 'src', 'main.js')]);
    for (const [name, dataDir, extra, main] of plan) {
      const s = await startStrata({ dataDir, logFile: join(root, `${name}.log`), args: ['--log-level', 'warn', ...workers, ...extra], main });
      sides.push({ name, s, host: `127.0.0.1:${s.port}` });
    }
    for (const side of sides) {
      const { target, headers } = signHeaders(CREDS, side.host, 'PUT', objectPath('bench'));
      const r = await requestOnce('127.0.0.1', side.s.port, { head: buildHead('PUT', target, side.host, headers, 0) });
      if (r.status !== 200) throw new Error(`${side.name}: CreateBucket ${r.status}`);
      const w = await send(side, puts(side, 'warm', Math.min(n, 2000)), c);
      if (w.errors > 0) throw new Error(`${side.name}: warm-up errors`);
    }
    const rate = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const written = new Map<string, number[]>();
    const writeIos = new Map<string, number[]>();
    for (let r = 0; r < rounds; r++) {
      // The order rotates: no side always runs right after the same other one.
      for (const side of sides.map((_, i) => sides[(i + r) % sides.length]!)) {
        const list = puts(side, `r${r}`, n);
        const c0 = cpuNs(side.s);
        const w0 = readDeviceWrites(root);
        const res = await send(side, list, c);
        const used = cpuNs(side.s) - c0;
        const w1 = readDeviceWrites(root);
        const kib = w0 && w1 ? (w1.bytes - w0.bytes) / 1024 / res.ops : NaN;
        const ios = w0 && w1 ? (w1.ios - w0.ios) / res.ops : NaN;
        if (res.errors > 0) throw new Error(`${side.name}: ${res.errors} errors`);
        rate.set(side.name, [...(rate.get(side.name) ?? []), res.ops / res.s]);
        cpu.set(side.name, [...(cpu.get(side.name) ?? []), used / 1000 / res.ops]);
        written.set(side.name, [...(written.get(side.name) ?? []), kib]);
        writeIos.set(side.name, [...(writeIos.get(side.name) ?? []), ios]);
        console.log(
          `round ${r} ${side.name}: ${(res.ops / res.s).toFixed(0)} PUT/s, ${(used / 1000 / res.ops).toFixed(0)} µs CPU/PUT, disk ${kib.toFixed(1)} KiB in ${ios.toFixed(2)} writes/PUT`,
        );
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const one = med(rate.get('one-dir')!);
    for (const s of sides) {
      const r = med(rate.get(s.name)!);
      console.log(
        `median ${s.name}: ${r.toFixed(0)} PUT/s (${(r / one).toFixed(2)}× one-dir), ${med(cpu.get(s.name)!).toFixed(0)} µs CPU/PUT, disk ${med(written.get(s.name)!).toFixed(1)} KiB in ${med(writeIos.get(s.name)!).toFixed(2)} writes/PUT`,
      );
    }
    if (strace) {
      for (const side of sides) {
        const list = puts(side, 'strace', n);
        let ops = 0;
        const calls = await underStrace(side.s.pids(), join(root, `${side.name}.strace`), async () => {
          ops = (await send(side, list, c)).ops;
        });
        const total = Object.values(calls).reduce((x, y) => x + y, 0);
        const top = Object.entries(calls)
          .sort((x, y) => y[1] - x[1])
          .slice(0, 14)
          .map(([k, v]) => `${k} ${(v / ops).toFixed(2)}`)
          .join(', ');
        console.log(`${side.name}: ${(total / ops).toFixed(1)} syscalls/PUT (${top})`);
      }
    }
  } finally {
    for (const side of sides) await side.s.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
