#!/usr/bin/env node
// System calls per request as root and as the bench's policy-bound user (docs/iam.md, "Cost"):
// starts Strata on a fresh data directory, makes the user through the admin API (bench/auth.ts),
// then for each principal sends N sequential HEADs (or GETs) of a 4 KiB object on one connection
// while `strace -c -f` is attached to the server, and prints the counts per request.
//   node dist/bench/auth-syscalls.js [N=2000] [HEAD|GET]      (needs strace; bounded: N ≤ 100 000)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BENCH_USER, createBenchUser } from './auth.js';
import { buildHead, Connection, requestOnce } from './client.js';
import { startStrata } from './servers.js';
import { objectPath, presign, type S3Credentials, signHeaders } from './sign.js';

const HOST = '127.0.0.1';
const ROOT: S3Credentials = { accessKey: 'rustfsadmin', secretKey: 'rustfssecret', region: 'us-east-1' };

async function main(): Promise<void> {
  const n = Math.min(100_000, Math.max(1, Number(process.argv[2] ?? 2000)));
  const method = process.argv[3] === 'GET' ? 'GET' : 'HEAD';
  if (spawnSync('strace', ['-V']).error) throw new Error('strace is not installed');
  const dir = mkdtempSync(join(os.tmpdir(), 'strata-auth-syscalls-'));
  const s = await startStrata({ dataDir: join(dir, 'data'), logFile: join(dir, 'strata.log') });
  try {
    const side = { creds: ROOT, hostHeader: `${HOST}:${s.port}`, port: s.port };
    const put = async (path: string, body?: Buffer) => {
      const { target, headers } = signHeaders(ROOT, side.hostHeader, 'PUT', path);
      const res = await requestOnce(HOST, s.port, {
        head: buildHead('PUT', target, side.hostHeader, headers, body?.length ?? 0),
        body: body && [body],
        keepBody: true,
      });
      if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status}`);
    };
    await put(objectPath('bench'));
    await put(objectPath('bench', 'k'), Buffer.alloc(4096, 7));
    const user = await createBenchUser(side);
    const loop = async (creds: S3Credentials, count: number) => {
      const conn = await Connection.connect(HOST, s.port, 10_000);
      const req = { head: buildHead(method, presign(creds, side.hostHeader, method, objectPath('bench', 'k')), side.hostHeader), isHead: method === 'HEAD' };
      try {
        for (let i = 0; i < count; i++) if ((await conn.request(req)).status !== 200) throw new Error(`${method}: not 200`);
      } finally {
        conn.close();
      }
    };
    for (const [who, creds] of [
      ['root', ROOT],
      [`user ${BENCH_USER.name}`, user],
    ] as const) {
      await loop(creds, 500); // warm: JIT, caches
      const out = join(dir, 'strace.txt');
      const st = spawn('strace', ['-c', '-f', '-o', out, '-p', String(s.pid)], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 500)); // attached
      await loop(creds, n);
      st.kill('SIGINT');
      await new Promise((r) => st.once('exit', r));
      const rows = readFileSync(out, 'utf8')
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((c) => c.length >= 5 && /^\d+$/.test(c[3]!) && c.at(-1) !== 'syscall');
      const per = rows.map((c) => `${c.at(-1)} ${(Number(c[3]) / n).toFixed(2)}`).join(', ');
      process.stdout.write(`${who}: ${n} ${method}s, system calls per request: ${per}\n`);
    }
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`auth-syscalls: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
