#!/usr/bin/env node
// What answering costs on this machine before any S3 work: the floor under Strata's per-request and
// per-MiB CPU (docs/performance.md, "The floor under the missed targets"). One process per side, in
// one run, rounds interleaved in rotating order; server CPU from /proc (every thread), per request or
// per MiB, median round.
//   small: GET 4 KiB over 16 keep-alive connections (wrk) — nginx (1 worker), a raw node:net
//          responder, a bare node:http responder (bench/floor-server.ts), Strata --workers 1
//          (presigned GET, as the main bench sends);
//   large: 64 MiB PUT and GET, one at a time — node:http writing chunk by chunk + fdatasync with no
//          hash, the ETag's MD5, MD5 and SHA-256; node:http reading 1 MiB blocks, with and without a
//          SHA-256 per block; Strata (presigned, UNSIGNED-PAYLOAD); nginx (sendfile; its WebDAV PUT
//          does not sync).
//   node dist/bench/floor.js [ROUNDS=5] [SECONDS=3] [--only small|large] [--before DIST/src/main.js]
//   (--before: another build's Strata as one more side, e.g. main's before a change; loops bounded)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHead, Connection, type HttpRequest, requestOnce } from './client.js';
import { readCpuNs } from './procstat.js';
import { startNginx, startStrata } from './servers.js';
import { objectPath, presign, type S3Credentials, signHeaders } from './sign.js';
import { runWrk, wrkAvailable } from './wrk.js';

const HOST = '127.0.0.1';
const ROOT: S3Credentials = { accessKey: 'rustfsadmin', secretKey: 'rustfssecret', region: 'us-east-1' };
const MIB = 1024 * 1024;
const LARGE = 64 * MIB;
const LARGE_PER_ROUND = 3;

interface Side {
  name: string;
  port: number;
  pids: () => number[];
  stop: () => Promise<void>;
}

/** A floor server (bench/floor-server.ts) as a child process; its port from its first line. */
async function startFloor(mode: 'net' | 'http', dir: string): Promise<Side> {
  const script = fileURLToPath(new URL('./floor-server.js', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [script, mode, '0', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`floor server ${mode} did not start`)), 10_000);
    child.stdout!.once('data', (d: Buffer) => {
      clearTimeout(t);
      resolve(Number(d.toString().trim()));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  return { name: mode === 'net' ? 'node:net, no parser' : 'node:http, bare', port, pids: () => [child.pid!], stop };
}

const cpuNs = (side: Side) => side.pids().reduce((sum, pid) => sum + (readCpuNs(pid) ?? 0), 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const rotate = <T>(xs: readonly T[], r: number): T[] => xs.map((_, i) => xs[(i + r) % xs.length]!);

interface Cell {
  label: string;
  side: Side;
  /** One measured unit of work: returns operations done (requests, or MiB moved). */
  run: () => Promise<{ ops: number; seconds: number }>;
}

/** Runs each cell once (warm-up), then round by round in rotating order; prints rate and server CPU per op (median round). */
async function measure(title: string, unit: string, cpuUnit: 'µs' | 'ms', cells: Cell[], rounds: number): Promise<void> {
  const rate = new Map<string, number[]>(cells.map((c) => [c.label, []]));
  const cpu = new Map<string, number[]>(cells.map((c) => [c.label, []]));
  for (const cell of cells) await cell.run(); // warm: JIT, caches
  for (let r = 0; r < rounds; r++) {
    for (const cell of rotate(cells, r)) {
      const before = cpuNs(cell.side);
      const { ops, seconds } = await cell.run();
      const used = cpuNs(cell.side) - before;
      rate.get(cell.label)!.push(ops / seconds);
      cpu.get(cell.label)!.push(used / ops / (cpuUnit === 'µs' ? 1e3 : 1e6));
    }
  }
  process.stdout.write(`\n${title} (median of ${rounds} rounds)\n`);
  process.stdout.write(`  ${'side'.padEnd(56)} ${unit.padStart(12)}   server CPU per ${unit === 'req/s' ? 'request' : 'MiB'}\n`);
  const digits = cpuUnit === 'µs' ? 1 : 2;
  for (const cell of cells) {
    const rs = median(rate.get(cell.label)!).toFixed(unit === 'req/s' ? 0 : 1);
    const cs = cpu.get(cell.label)!;
    const range = `${Math.min(...cs).toFixed(digits)}–${Math.max(...cs).toFixed(digits)}`;
    process.stdout.write(`  ${cell.label.padEnd(56)} ${rs.padStart(12)}   ${median(cs).toFixed(digits)} ${cpuUnit} (${range})\n`);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flagValue = (flag: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const only = flagValue('--only');
  const before = flagValue('--before');
  const pos = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const rounds = Math.min(20, Math.max(1, Number(pos[0] ?? 5)));
  const seconds = Math.min(30, Math.max(1, Number(pos[1] ?? 3)));
  if (!wrkAvailable()) throw new Error('wrk not found: run scripts/bench-deps.sh');
  const dir = mkdtempSync(join(os.tmpdir(), 'strata-floor-'));
  const sides: Side[] = [];
  try {
    const large = randomBytes(LARGE);
    const nginx = await startNginx({ dir: join(dir, 'nginx'), workers: 1 });
    mkdirSync(join(nginx.root, 'bench'), { recursive: true });
    writeFileSync(join(nginx.root, 'bench', 'k'), Buffer.alloc(4096, 7));
    writeFileSync(join(nginx.root, 'bench', 'large'), large);
    const ng: Side = { name: 'nginx, 1 worker', port: nginx.port, pids: nginx.pids, stop: nginx.stop };
    sides.push(ng);
    const floorDir = join(dir, 'floor');
    mkdirSync(floorDir);
    writeFileSync(join(floorDir, 'large'), large);
    const raw = await startFloor('net', floorDir);
    sides.push(raw);
    const bare = await startFloor('http', floorDir);
    sides.push(bare);
    /** A Strata side (this build, or another one's main.js) with bucket `bench` and its 4 KiB object `k`. */
    const strataSide = async (name: string, main?: string) => {
      const s = await startStrata({
        dataDir: join(dir, `data-${sides.length}`),
        logFile: join(dir, `strata-${sides.length}.log`),
        args: ['--workers', '1'],
        ...(main ? { main } : {}),
      });
      const side: Side = { name, port: s.port, pids: s.pids, stop: s.stop };
      sides.push(side);
      const host = `${HOST}:${s.port}`;
      const control = async (method: string, path: string, body?: Buffer) => {
        const { target, headers } = signHeaders(ROOT, host, method, path);
        const res = await requestOnce(HOST, s.port, {
          head: buildHead(method, target, host, headers, body?.length ?? 0),
          body: body && [body],
          keepBody: true,
        });
        if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status}`);
      };
      await control('PUT', objectPath('bench'));
      await control('PUT', objectPath('bench', 'k'), Buffer.alloc(4096, 7));
      const target = (method: string, key: string) => presign(ROOT, host, method, objectPath('bench', key));
      return { side, getK: target('GET', 'k'), putBig: target('PUT', 'big'), getBig: target('GET', 'big') };
    };
    const stratas = [await strataSide('Strata --workers 1')];
    if (before !== undefined) stratas.push(await strataSide('Strata --workers 1, --before build', before));

    if (only === undefined || only === 'small') {
      const wrkCell = (label: string, side: Side, path: string): Cell => ({
        label,
        side,
        run: async () => {
          const r = await runWrk({ host: HOST, port: side.port, concurrency: 16, durationS: seconds, method: 'GET', paths: [path], bodySize: 0, workDir: dir });
          if (r.errors > 0) throw new Error(`${label}: ${r.errors} errors`);
          return { ops: r.ops, seconds: r.elapsedS };
        },
      });
      const cells = [
        wrkCell('nginx, 1 worker (static file)', ng, '/bench/k'),
        wrkCell('node:net, no HTTP parser', raw, '/small'),
        wrkCell('node:http, bare', bare, '/small'),
        ...stratas.map((x) => wrkCell(`${x.side.name} (presigned GET)`, x.side, x.getK)),
      ];
      await measure(`GET 4 KiB, c16, ${seconds} s per round and side`, 'req/s', 'µs', cells, rounds);
    }

    if (only === undefined || only === 'large') {
      /** LARGE_PER_ROUND requests one after another on one connection; ops in MiB. */
      const seqCell = (label: string, side: Side, make: () => HttpRequest): Cell => ({
        label,
        side,
        run: async () => {
          const conn = await Connection.connect(HOST, side.port, 60_000);
          const t0 = performance.now();
          try {
            for (let i = 0; i < LARGE_PER_ROUND; i++) {
              const res = await conn.request(make());
              if (res.status < 200 || res.status > 299) throw new Error(`${label}: HTTP ${res.status}`);
            }
          } finally {
            conn.close();
          }
          return { ops: (LARGE_PER_ROUND * LARGE) / MIB, seconds: (performance.now() - t0) / 1000 };
        },
      });
      const put = (side: Side, target: string) => () => ({ head: buildHead('PUT', target, `${HOST}:${side.port}`, {}, LARGE), body: [large] });
      const get = (side: Side, target: string) => () => ({ head: buildHead('GET', target, `${HOST}:${side.port}`) });
      const puts = [
        seqCell('nginx WebDAV PUT (no sync)', ng, put(ng, '/bench/put-big')),
        seqCell('node:http + fdatasync, no hash', bare, put(bare, '/put?hash=none')),
        seqCell('node:http + fdatasync, MD5', bare, put(bare, '/put?hash=md5')),
        seqCell('node:http + fdatasync, MD5 + SHA-256', bare, put(bare, '/put?hash=md5%2Bsha256')),
        ...stratas.map((x) => seqCell(`${x.side.name} (presigned PUT)`, x.side, put(x.side, x.putBig))),
      ];
      await measure(`PUT 64 MiB, one at a time, ${LARGE_PER_ROUND} per round and side`, 'MiB/s', 'ms', puts, rounds);
      const gets = [
        seqCell('nginx (sendfile)', ng, get(ng, '/bench/large')),
        seqCell('node:http, 1 MiB reads', bare, get(bare, '/large?hash=none')),
        seqCell('node:http, 1 MiB reads + SHA-256 each', bare, get(bare, '/large?hash=sha256')),
        ...stratas.map((x) => seqCell(`${x.side.name} (presigned GET)`, x.side, get(x.side, x.getBig))),
      ];
      await measure(`GET 64 MiB, one at a time, ${LARGE_PER_ROUND} per round and side`, 'MiB/s', 'ms', gets, rounds);
    }
    process.stdout.write(
      `\nprocesses: ${sides.map((x) => `${x.name} ${x.pids().length}`).join(', ')}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
  } finally {
    for (const side of sides.reverse()) await side.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
