// Server CPU per MiB of PUT and GET: starts the built server (dist/src/main.js) on a free port with a
// temp data directory, PUTs one object (64 MiB by default) N times and GETs it N times with
// aws-sdk-js, reading the server process's user+system CPU from /proc/<pid>/stat around each phase. Not a test: a figure
// to compare builds (e.g. before/after block checksums), `npm run build && node scripts/measure-get-cpu.mjs`.
// Env: SIZE_MIB (64), ROUNDS (16), RANGE=1 to GET 8 MiB ranges starting mid-block instead,
// STRATA_ROOT to measure another build (a directory with dist/src/main.js).
process.removeAllListeners('warning'); // the SDK's Node-version notice
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';

const SIZE_MIB = Number(process.env.SIZE_MIB ?? 64);
const ROUNDS = Number(process.env.ROUNDS ?? 16);
const root = process.env.STRATA_ROOT ?? new URL('..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'strata-measure-'));
const child = spawn(process.execPath, [join(root, 'dist/src/main.js'), '--address', '127.0.0.1:0', '--data', dataDir], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise((resolve, reject) => {
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    const m = /"msg":"listening"[^\n]*"port":(\d+)|"port":(\d+)[^\n]*"msg":"listening"/.exec(buf);
    if (m) resolve(Number(m[1] ?? m[2]));
  });
  child.once('exit', () => reject(new Error('server exited')));
});
child.stdout.resume();
const ticks = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks (USER_HZ = 100)
};
const s3 = new S3Client({
  endpoint: `http://127.0.0.1:${port}`,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'rustfsadmin', secretAccessKey: 'rustfssecret' },
});
try {
  await s3.send(new CreateBucketCommand({ Bucket: 'measure' }));
  const body = Buffer.alloc(SIZE_MIB * 1024 * 1024, 'x');
  await s3.send(new PutObjectCommand({ Bucket: 'measure', Key: 'big', Body: body }));
  const p0 = ticks();
  for (let i = 0; i < ROUNDS; i++) await s3.send(new PutObjectCommand({ Bucket: 'measure', Key: 'big', Body: body }));
  const putMs = (ticks() - p0) * 10;
  console.log(`server CPU: ${(putMs / (ROUNDS * SIZE_MIB)).toFixed(3)} ms per MiB stored (${putMs} ms for ${ROUNDS * SIZE_MIB} MiB of PUT)`);
  const get = async () => {
    const range = process.env.RANGE ? `bytes=${512 * 1024}-${512 * 1024 + 8 * 1024 * 1024 - 1}` : undefined;
    const r = await s3.send(new GetObjectCommand({ Bucket: 'measure', Key: 'big', Range: range }));
    let n = 0;
    for await (const c of r.Body) n += c.length;
    return n;
  };
  await get(); // warm up
  const t0 = ticks();
  const w0 = Date.now();
  let bytes = 0;
  for (let i = 0; i < ROUNDS; i++) bytes += await get();
  const ms = (ticks() - t0) * 10;
  const wall = Date.now() - w0;
  console.log(
    `server CPU: ${(ms / (bytes / 1048576)).toFixed(3)} ms per MiB served${process.env.RANGE ? ' (8 MiB ranges)' : ''} (${ms} ms for ${(bytes / 1048576).toFixed(0)} MiB; wall ${(bytes / 1048576 / (wall / 1000)).toFixed(0)} MiB/s, one client, sequential)`,
  );
} finally {
  s3.destroy();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
