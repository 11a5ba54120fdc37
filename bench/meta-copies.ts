#!/usr/bin/env node
// What copies of the metadata database cost a write (docs/performance.md, "Metadata copies"): in
// one process, metadata PUTs of 4 KiB inline objects on 1, 2 and 3 copies (separate directories;
// on this machine one disk), C writes at a time:
//   1. CPU per write (process.cpuUsage over N writes, the median of ROUNDS, copies alternating);
//   2. system calls per write (strace -c -f of a child doing N writes minus one doing none).
// Load-independent figures (counts and CPU), so they mean something on a busy machine.
//   node dist/bench/meta-copies.js [N=2000] [C=1] [ROUNDS=3]   (strace optional; loops bounded)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { objectRecord } from '../src/store/contract.js';
import { openMirroredMeta } from '../src/store/meta/mirror.js';

async function writes(copies: number, n: number, c: number): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'strata-meta-copies-'));
  try {
    const s = await openMirroredMeta(
      Array.from({ length: copies }, (_, i) => join(root, `d${i}`)),
      { start: true },
    );
    await s.createBucket({ name: 'b', region: 'us-east-1', createdAt: 1, versioning: '', owner: 'root', objectLock: false });
    const body = Buffer.alloc(4096, 7);
    const put = (k: string) => s.putObject(objectRecord('b', k, { size: 4096, data: [], inline: body }));
    for (let i = 0; i < 200; i++) await put(`warm${i}`);
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i += c) await Promise.all(Array.from({ length: Math.min(c, n - i) }, (_, j) => put(`k${i + j}`)));
    const used = process.cpuUsage(c0);
    await s.close();
    return (used.user + used.system) / Math.max(1, n);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function syscalls(copies: number, n: number, c: number): number | undefined {
  const count = (k: number): number | undefined => {
    const out = join(tmpdir(), `strata-meta-copies-${process.pid}-${k}.strace`);
    const r = spawnSync('strace', ['-c', '-f', '-o', out, process.execPath, fileURLToPath(import.meta.url), 'child', String(copies), String(k), String(c)]);
    if (r.error || r.status !== 0) return undefined;
    const total = readFileSync(out, 'utf8')
      .split('\n')
      .find((l) => l.trim().endsWith('total'));
    rmSync(out, { force: true });
    return total ? Number(total.trim().split(/\s+/)[3]) : undefined;
  };
  const a = count(n);
  const b = count(0);
  return a === undefined || b === undefined ? undefined : (a - b) / n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'child') {
    await writes(Number(args[1]), Number(args[2]), Number(args[3]));
    return;
  }
  const n = Math.min(100_000, Math.max(1, Number(args[0] ?? 2000)));
  const c = Math.min(256, Math.max(1, Number(args[1] ?? 1)));
  const rounds = Math.min(20, Math.max(1, Number(args[2] ?? 3)));
  const cpu = new Map<number, number[]>([1, 2, 3].map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) for (const k of [1, 2, 3]) cpu.get(k)!.push(await writes(k, n, c));
  for (const k of [1, 2, 3]) {
    const sc = syscalls(k, n, c);
    console.log(`copies ${k}, ${c} at a time: ${median(cpu.get(k)!).toFixed(0)} µs CPU/write, ${sc === undefined ? 'n/a' : sc.toFixed(1)} syscalls/write`);
  }
}

await main();
