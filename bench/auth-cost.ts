#!/usr/bin/env node
// What authorization costs a request, root against the bench's policy-bound user (docs/iam.md,
// "Cost"): starts Strata on a fresh data directory, makes the user through the admin API
// (bench/auth.ts), then sends sequential HEADs (or GETs) of a 4 KiB object on one connection:
//   1. system calls per request, `strace -c -f` attached to the server during N requests each;
//   2. server CPU per request (/proc), root and user alternating in batches of 1000 for several
//      rounds, so the machine's changing load hits both alike; the ratio is the median of the
//      rounds' ratios;
//   3. in this process, on a metadata database file of its own: the per-request steps (the
//      credential lookup before and after the cache, the bucket reads, authorize) in µs per call.
//   node dist/bench/auth-cost.js [N=2000] [HEAD|GET] [ROUNDS=10]   (strace optional; every loop bounded)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { authorize } from '../src/iam/authorize.js';
import { identityCredentials, identityPolicies } from '../src/iam/credentials.js';
import { SecretBox } from '../src/iam/secret-box.js';
import { SqliteMetaStore } from '../src/store/meta/sqlite.js';
import { ACCESS_CONFIG_NAMES } from '../src/s3/bucket-access.js';
import { BENCH_USER, createBenchUser } from './auth.js';
import { buildHead, Connection, requestOnce } from './client.js';
import { CLK_TCK, readCpuTicks } from './procstat.js';
import { startStrata } from './servers.js';
import { objectPath, presign, type S3Credentials, signHeaders } from './sign.js';

const HOST = '127.0.0.1';
const ROOT: S3Credentials = { accessKey: 'rustfsadmin', secretKey: 'rustfssecret', region: 'us-east-1' };

async function main(): Promise<void> {
  const n = Math.min(100_000, Math.max(1, Number(process.argv[2] ?? 2000)));
  const method = process.argv[3] === 'GET' ? 'GET' : 'HEAD';
  const rounds = Math.min(100, Math.max(1, Number(process.argv[4] ?? 10)));
  const haveStrace = spawnSync('strace', ['-V']).error === undefined;
  const dir = mkdtempSync(join(os.tmpdir(), 'strata-auth-cost-'));
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
    const sides = [
      ['root', ROOT],
      [`user ${BENCH_USER.name}`, user],
    ] as const;
    for (const [who, creds] of haveStrace ? sides : []) {
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
    if (!haveStrace) process.stdout.write('strace is not installed: no system call counts\n');
    // Server CPU per request, the two sides alternating.
    const cpuOf = async (creds: S3Credentials): Promise<number> => {
      const t0 = readCpuTicks(s.pid) ?? 0;
      await loop(creds, 1000);
      return (((readCpuTicks(s.pid) ?? 0) - t0) / CLK_TCK / 1000) * 1e6;
    };
    const ratios: number[] = [];
    const sums = [0, 0];
    for (let r = 0; r < rounds; r++) {
      const root = await cpuOf(ROOT);
      const u = await cpuOf(user);
      sums[0]! += root;
      sums[1]! += u;
      if (root > 0) ratios.push(u / root);
    }
    ratios.sort((a, b) => a - b);
    const median = ratios.length === 0 ? NaN : ratios[ratios.length >> 1]!;
    process.stdout.write(
      `server CPU per ${method} (${rounds} rounds of 1000 each, alternating): root ${(sums[0]! / rounds).toFixed(0)} µs, user ${(sums[1]! / rounds).toFixed(0)} µs; ` +
        `user/root median of the rounds ${median.toFixed(3)} (range ${ratios[0]?.toFixed(3)}–${ratios.at(-1)?.toFixed(3)})\n`,
    );
    await s.stop();
    await steps(dir);
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** µs per call of each step, in this process (the median of 5 runs of 20 000 calls). */
async function steps(dir: string): Promise<void> {
  const m = SqliteMetaStore.open(join(dir, 'steps.db'));
  try {
    await m.createBucket({ name: 'bench', region: 'us-east-1', createdAt: 1, versioning: '', owner: 'root', objectLock: false });
    const ids = m.identities;
    const box = new SecretBox({ rootSecret: 'bench' });
    const doc = (action: string, resource: string) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] });
    await ids.createUser({ name: 'u', userId: 'UBENCH', status: 'enabled', created: 1 });
    await ids.createAccessKey({
      accessKeyId: 'AK',
      userName: 'u',
      secret: box.seal('secret-secret', 'AK'),
      status: 'enabled',
      created: 1,
      policy: doc('s3:GetObject', 'arn:aws:s3:::bench/*'),
    });
    await ids.putPolicy('mine', doc('s3:Get*', '*'), 1);
    await ids.putPolicy('team', doc('s3:GetObject', 'arn:aws:s3:::bench/*'), 1);
    await ids.attachPolicy('mine', { user: 'u' });
    await ids.createGroup('g', 1);
    await ids.updateGroupMembers('g', ['u'], []);
    await ids.attachPolicy('team', { group: 'g' });
    const source = identityCredentials({ rootAccessKey: 'ROOT', rootSecretKey: 'root-secret', identities: ids, box });
    const principal = (await source('AK'))!.principal;
    const time = (fn: () => unknown): number => {
      const runs: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < 20_000; i++) fn();
        runs.push(Number(process.hrtime.bigint() - t0) / 20_000 / 1000);
      }
      return runs.sort((a, b) => a - b)[2]!;
    };
    const rows: Array<[string, () => unknown]> = [
      ['credential lookup, cached principal (the identity generation)', () => source('AK')],
      ['credential lookup without the cache (key row + groups, attachments, 2 documents)', () => (ids.getAccessKey('AK'), identityPolicies(ids, 'u'))],
      ["root's bucket read (getBucket)", () => m.getBucket('bench')],
      ["a user's bucket read (getBucketWithConfigs, 4 documents)", () => m.getBucketWithConfigs('bench', ACCESS_CONFIG_NAMES)],
      ['the 4 documents one by one (getBucketConfig × 4)', () => ACCESS_CONFIG_NAMES.forEach((n) => m.getBucketConfig('bench', n))],
      ['authorize s3:GetObject (user + group + key policies)', () => authorize(principal, 's3:GetObject', { kind: 'object', bucket: 'bench', key: 'k' })],
    ];
    for (const [what, fn] of rows) process.stdout.write(`in-process: ${what}: ${time(fn).toFixed(2)} µs\n`);
  } finally {
    await m.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`auth-cost: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
