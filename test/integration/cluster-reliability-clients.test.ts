// Issue 17, reliability: the real clients, unmodified, against three gateways on one PostgreSQL and
// one data directory, through the random front (every request to a gateway picked at random, so a
// client's multipart upload, its listing and its reads land on different gateways): the seed boto3
// tutorial (tutorial_full.py) with the newest and Debian's boto3, the AWS CLI (cp/ls/rm, a multipart
// upload of a 20 MiB file), aws-sdk-js (lib-storage multipart, list, get, delete), rclone sync of a
// small tree both ways, curl with presigned PUT and GET URLs. Each test names the client versions
// that ran; at the end every gateway must have served requests and the front never had to answer
// for a missing gateway.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import {
  AWS_CLI,
  BOTO3_PYTHONS,
  CURL,
  PYTHON_TEST_DIR,
  RCLONE,
  awsCliEnv,
  describeRun,
  isolatedClientEnv,
  newBucketName,
  rcloneRemoteEnv,
  run,
} from '../helpers/clients.js';
import { testClient } from '../helpers/s3.js';
import { REPO_ROOT } from '../helpers/server.js';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const sdkVersion = (name: string): string => createRequire(join(REPO_ROOT, 'package.json'))(`${name}/package.json`).version as string;

async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p).split(sep).join('/'), sha256(await readFile(p)));
    }
  };
  await walk(dir);
  return out;
}

describe('cluster reliability › real clients through a random gateway per request', () => {
  let cluster: Cluster;
  let work: string;

  before(async () => {
    cluster = await startCluster({ gateways: 3, etcdMembers: 1 });
    work = await mkdtemp(join(tmpdir(), 'strata-cluster-clients-'));
  });

  after(async () => {
    await cluster?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Fails with the gateways' log tail. */
  const logsTail = () => `\n--- gateway logs (tail) ---\n${cluster.logs().slice(-4000)}`;

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`boto3 tutorial §3–§8 (tutorial_full.py) › ${label} → every step works as written`, { timeout: 300_000 }, async (t) => {
      const { env, cleanup } = await isolatedClientEnv({ S3_ENDPOINT: cluster.url, S3_BUCKET: newBucketName('cl-tutorial'), CURL });
      try {
        const r = await run(python, [join(PYTHON_TEST_DIR, 'tutorial_full.py')], { env, timeoutMs: 280_000 });
        t.diagnostic(r.stdout.split('\n')[0] ?? '');
        assert.equal(r.code, 0, describeRun(`${python} tutorial_full.py`, r) + logsTail());
        assert.match(r.stdout, /^OK: full tutorial passed$/m);
      } finally {
        await cleanup();
      }
    });
  }

  it('AWS CLI › mb, cp up (1 KiB and a 20 MiB multipart), ls, cp down byte-equal, rm, ls empty', { timeout: 240_000 }, async (t) => {
    const { env, cleanup } = await awsCliEnv();
    const aws = async (args: string[]) => {
      const r = await run(AWS_CLI, [...args, '--endpoint-url', cluster.url], { env, timeoutMs: 120_000, cwd: work });
      assert.equal(r.code, 0, describeRun(`aws ${args.join(' ')}`, r) + logsTail());
      return r;
    };
    try {
      t.diagnostic((await run(AWS_CLI, ['--version'], { env })).stdout.trim());
      const bucket = newBucketName('cl-cli');
      const small = randomBytes(1024);
      const big = randomBytes(20 * MiB);
      await writeFile(join(work, 'cli-small.bin'), small);
      await writeFile(join(work, 'cli-big.bin'), big);
      await aws(['s3', 'mb', `s3://${bucket}`]);
      await aws(['s3', 'cp', join(work, 'cli-small.bin'), `s3://${bucket}/dir/small.bin`]);
      await aws(['s3', 'cp', join(work, 'cli-big.bin'), `s3://${bucket}/dir/big.bin`]);
      const head = JSON.parse((await aws(['s3api', 'head-object', '--bucket', bucket, '--key', 'dir/big.bin', '--output', 'json'])).stdout);
      assert.match(head.ETag, /-\d+"$/, `a multipart ETag: ${head.ETag}`);
      assert.equal(head.ContentLength, big.length);
      const ls = await aws(['s3', 'ls', `s3://${bucket}/dir/`]);
      assert.match(ls.stdout, /\b1024 small\.bin$/m);
      assert.match(ls.stdout, new RegExp(`\\b${big.length} big\\.bin$`, 'm'));
      await aws(['s3', 'cp', `s3://${bucket}/dir/big.bin`, join(work, 'cli-big.back')]);
      await aws(['s3', 'cp', `s3://${bucket}/dir/small.bin`, join(work, 'cli-small.back')]);
      assert.equal(sha256(await readFile(join(work, 'cli-big.back'))), sha256(big));
      assert.equal(sha256(await readFile(join(work, 'cli-small.back'))), sha256(small));
      await aws(['s3', 'rm', '--recursive', `s3://${bucket}/dir/`]);
      assert.equal((await aws(['s3', 'ls', `s3://${bucket}/`, '--recursive'])).stdout.trim(), '');
      await aws(['s3', 'rb', `s3://${bucket}`]);
    } finally {
      await cleanup();
    }
  });

  it('aws-sdk-js › 12 MiB lib-storage multipart, 20 small PUTs, list, GET each byte-equal, delete', { timeout: 120_000 }, async (t) => {
    t.diagnostic(`@aws-sdk/client-s3 ${sdkVersion('@aws-sdk/client-s3')}, @aws-sdk/lib-storage ${sdkVersion('@aws-sdk/lib-storage')}`);
    const s3 = testClient(cluster.url);
    try {
      const bucket = newBucketName('cl-sdk');
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const bodies = new Map<string, Buffer>();
      bodies.set('big', randomBytes(12 * MiB));
      await new Upload({ client: s3, params: { Bucket: bucket, Key: 'big', Body: bodies.get('big') }, partSize: 5 * MiB, queueSize: 3 }).done();
      for (let i = 0; i < 20; i++) {
        const key = `small/${String(i).padStart(2, '0')}`;
        bodies.set(key, randomBytes(100 + i * 37));
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodies.get(key) }));
        // Read-after-write through another random gateway.
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        assert.equal(sha256(Buffer.from(await got.Body!.transformToByteArray())), sha256(bodies.get(key)!));
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual(
        (listed.Contents ?? []).map((o) => o.Key),
        [...bodies.keys()].sort(),
      );
      for (const [key, body] of bodies) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        assert.equal(sha256(Buffer.from(await got.Body!.transformToByteArray())), sha256(body), key);
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      }
      assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount, 0);
    } finally {
      s3.destroy();
    }
  });

  it('rclone › sync a small tree up, sync it back down into an empty directory: identical; sync after a local delete removes the object', {
    timeout: 180_000,
  }, async (t) => {
    const { env, cleanup } = await isolatedClientEnv(rcloneRemoteEnv(cluster.url, join(work, 'rclone.conf')));
    await writeFile(join(work, 'rclone.conf'), '');
    const rclone = async (args: string[]) => {
      const r = await run(RCLONE, args, { env, timeoutMs: 120_000 });
      assert.equal(r.code, 0, describeRun(`rclone ${args.join(' ')}`, r) + logsTail());
      return r;
    };
    try {
      t.diagnostic((await rclone(['version'])).stdout.split('\n')[0]!);
      const bucket = newBucketName('cl-rclone');
      const src = join(work, 'rc-src');
      const files: Record<string, Buffer> = {
        'a.txt': Buffer.from('a\n'),
        'd1/b.bin': randomBytes(50_000),
        'd1/d2/c.txt': Buffer.from('c\n'),
        'd3/empty': Buffer.alloc(0),
        'd3/big.bin': randomBytes(6 * MiB),
      };
      for (const [rel, body] of Object.entries(files)) {
        await mkdir(join(src, rel, '..'), { recursive: true });
        await writeFile(join(src, rel), body);
      }
      await rclone(['mkdir', `strata:${bucket}`]);
      await rclone(['sync', src, `strata:${bucket}/tree`]);
      await rclone(['check', src, `strata:${bucket}/tree`]);
      const down = join(work, 'rc-down');
      await rclone(['sync', `strata:${bucket}/tree`, down]);
      assert.deepEqual(await readTree(down), await readTree(src));
      await rm(join(src, 'd1/b.bin'));
      await rclone(['sync', src, `strata:${bucket}/tree`]);
      const lsf = await rclone(['lsf', '-R', '--files-only', `strata:${bucket}/tree`]);
      assert.deepEqual(lsf.stdout.trim().split('\n').sort(), ['a.txt', 'd1/d2/c.txt', 'd3/big.bin', 'd3/empty']);
    } finally {
      await cleanup();
    }
  });

  it('curl › a presigned PUT uploads the file, a presigned GET returns it byte-equal; the same URL with a tampered signature → 403', {
    timeout: 60_000,
  }, async (t) => {
    t.diagnostic((await run(CURL, ['--version'])).stdout.split('\n')[0]!);
    const s3 = testClient(cluster.url);
    try {
      const bucket = newBucketName('cl-curl');
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const body = randomBytes(300_000);
      await writeFile(join(work, 'curl.bin'), body);
      const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'via/curl.bin' }), { expiresIn: 600 });
      const put = await run(CURL, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-T', join(work, 'curl.bin'), putUrl], { timeoutMs: 60_000 });
      assert.equal(put.stdout, '200', describeRun('curl presigned PUT', put) + logsTail());
      const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'via/curl.bin' }), { expiresIn: 600 });
      for (let i = 0; i < 3; i++) {
        const get = await run(CURL, ['-sS', '-f', '-o', join(work, `curl.back${i}`), getUrl], { timeoutMs: 60_000 });
        assert.equal(get.code, 0, describeRun('curl presigned GET', get));
        assert.equal(sha256(await readFile(join(work, `curl.back${i}`))), sha256(body));
      }
      const tampered = getUrl.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
      const bad = await run(CURL, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', tampered], { timeoutMs: 60_000 });
      assert.equal(bad.stdout, '403');
    } finally {
      s3.destroy();
    }
  });

  it('the front › every gateway served requests; the front never answered for a gateway', () => {
    const counts = cluster.front.counts();
    assert.equal(counts.length, 3);
    for (const [i, c] of counts.entries()) assert.ok(c > 0, `gateway ${i} got no request: ${counts.join(' ')}`);
    assert.equal(cluster.front.frontErrors(), 0);
  });
});
