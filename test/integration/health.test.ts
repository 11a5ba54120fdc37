// The front router's health endpoints over HTTP (curl): /health/live, /health/ready and MinIO's
// /minio/health/* aliases; ready turning 503 when the data directory stops taking files and back;
// and the S3 namespace they must not shadow (authenticated clients use buckets `health` and `minio`,
// virtual-hosted and signed requests and anything with a query still reach S3; once bucket `health`
// exists an anonymous GET of /health/live is S3's, served under a public-read bucket policy);
// --health-address.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { waitFor } from '../hardening/raw-http.js';
import { CURL, describeRun, run } from '../helpers/clients.js';
import { testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

let server: RunningServer;
let s3: S3Client;

before(async () => {
  server = await startServer({ args: ['--domain', 'localhost'] });
  s3 = testClient(server.url);
});
after(async () => {
  s3?.destroy();
  await server?.stop();
});

interface CurlAnswer {
  status: number;
  body: string;
  headers: string;
}

/** One request with curl: status, body, response headers (lower-cased). `base`: another listener's URL. */
async function curl(path: string, opts: { method?: 'GET' | 'HEAD'; headers?: string[]; base?: string } = {}): Promise<CurlAnswer> {
  const args = ['-sS', '-i', '--max-time', '30', '--path-as-is'];
  if (opts.method === 'HEAD') args.push('-I');
  for (const h of opts.headers ?? []) args.push('-H', h);
  args.push(`${opts.base ?? server.url}${path}`);
  const r = await run(CURL, args);
  assert.equal(r.code, 0, describeRun('curl', r));
  const split = r.stdout.indexOf('\r\n\r\n');
  const head = split < 0 ? r.stdout : r.stdout.slice(0, split);
  const body = split < 0 ? '' : r.stdout.slice(split + 4);
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1]);
  return { status, body, headers: head.toLowerCase() };
}

const ENDPOINTS = ['/health/live', '/health/ready', '/minio/health/live', '/minio/health/ready'];

describe('front router: health endpoints', () => {
  for (const path of ENDPOINTS) {
    it(`GET ${path} › anonymous, no query → 200 OK, not cached`, async () => {
      const a = await curl(path);
      assert.equal(a.status, 200, `${path}: ${a.headers}\n${a.body}`);
      assert.equal(a.body, 'OK\n');
      assert.match(a.headers, /cache-control: no-store/);
      assert.doesNotMatch(a.headers, /x-amz-request-id/, 'answered by the front router, not the S3 pipeline');
    });
    it(`HEAD ${path} › anonymous → 200 without a body`, async () => {
      const a = await curl(path, { method: 'HEAD' });
      assert.equal(a.status, 200);
      assert.equal(a.body, '');
    });
  }

  it('GET /health/ready › data directory tmp/ replaced by a file → 503 (live stays 200), restored → 200', async () => {
    const tmp = join(server.dataDir, 'tmp');
    assert.equal((await curl('/health/ready')).status, 200);
    await rm(tmp, { recursive: true, force: true });
    await writeFile(tmp, 'not a directory');
    try {
      let last: CurlAnswer | undefined;
      // The answer is cached for up to a second: wait for the condition, generously bounded.
      await waitFor(async () => (last = await curl('/health/ready')).status === 503, 20_000, 'ready to turn 503');
      assert.match(last!.body, /data directory is not writable/);
      // Each serving process (worker) caches its own answer: another one may still say ready for up to a second.
      await waitFor(async () => (await curl('/minio/health/ready')).status === 503, 20_000, 'the MinIO alias to turn 503');
      assert.equal((await curl('/health/live')).status, 200, 'live answers while the process serves');
    } finally {
      await rm(tmp, { force: true });
      await mkdir(tmp);
    }
    await waitFor(async () => (await curl('/health/ready')).status === 200, 20_000, 'ready to turn 200 again');
  });
});

describe('front router: the S3 namespace is not shadowed', () => {
  it('PutObject/GetObject › authenticated client, bucket health key live → its own bytes', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'health' }));
    await s3.send(new PutObjectCommand({ Bucket: 'health', Key: 'live', Body: 'object, not a probe' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'health', Key: 'live' }));
    assert.equal(await got.Body!.transformToString(), 'object, not a probe');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'health', Key: 'live' }));
    assert.equal(head.ContentLength, 'object, not a probe'.length);
  });

  it('GET /health/live › anonymous, bucket health exists → S3 answers (403 AccessDenied: private); /minio/health/live still the front router', async () => {
    const a = await curl('/health/live');
    assert.equal(a.status, 403);
    assert.match(a.body, /<Code>AccessDenied<\/Code>/);
    assert.match(a.headers, /x-amz-request-id/, 'the S3 pipeline answered');
    assert.equal((await curl('/health/ready', { method: 'HEAD' })).status, 403);
    const front = await curl('/minio/health/live');
    assert.deepEqual([front.status, front.body], [200, 'OK\n'], 'no bucket minio yet');
  });

  it('PutObject/GetObject › authenticated client, bucket minio key health/ready → its own bytes', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'minio' }));
    await s3.send(new PutObjectCommand({ Bucket: 'minio', Key: 'health/ready', Body: 'minio object' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'minio', Key: 'health/ready' }));
    assert.equal(await got.Body!.transformToString(), 'minio object');
  });

  it('GetObject › anonymous GET of another S3 path → 403 AccessDenied', async () => {
    const a = await curl('/some-bucket/some-key');
    assert.equal(a.status, 403);
    assert.match(a.body, /<Code>AccessDenied<\/Code>/);
  });

  it('GET /health/live › with a query string → S3 (403 AccessDenied), not the front router', async () => {
    const a = await curl('/health/live?x-id=GetObject');
    assert.equal(a.status, 403);
    assert.match(a.body, /<Code>AccessDenied<\/Code>/);
  });

  it('GET /health/live › with an Authorization header → S3 (its signature is checked), not the front router', async () => {
    const a = await curl('/health/live', {
      headers: ['Authorization: AWS4-HMAC-SHA256 Credential=nobody/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00'],
    });
    assert.notEqual(a.status, 200);
    assert.match(a.body, /<Error><Code>/);
    assert.match(a.headers, /x-amz-request-id/);
  });

  it('GET /health/live › Host names a bucket (virtual-hosted: key health/live) → S3 (403 AccessDenied)', async () => {
    const a = await curl('/health/live', { headers: [`Host: health.localhost:${server.port}`] });
    assert.equal(a.status, 403);
    assert.match(a.body, /<Code>AccessDenied<\/Code>/);
  });

  it('GET /health/live/ › trailing slash (another key) → S3 (403 AccessDenied)', async () => {
    const a = await curl('/health/live/');
    assert.equal(a.status, 403);
  });

  it('GET /health/live › anonymous, bucket health with a public-read policy → the object (curl), not the probe', async () => {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::health/*' }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'health', Policy: JSON.stringify(policy) }));
    const a = await curl('/health/live');
    assert.deepEqual([a.status, a.body], [200, 'object, not a probe']);
    const head = await curl('/health/live', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.match(head.headers, /content-length: 19/);
    // Bucket minio exists too now (private): S3's refusal there, not the probe.
    assert.equal((await curl('/minio/health/ready')).status, 403);
  });
});

describe('front router: --health-address', () => {
  let other: RunningServer;
  let healthUrl: string;
  before(async () => {
    other = await startServer({ args: ['--health-address', '127.0.0.1:0'] });
    const line = other
      .logs()
      .split('\n')
      .find((l) => l.includes('"msg":"listening"'));
    const healthPort = (JSON.parse(line ?? '{}') as { healthPort?: number }).healthPort;
    assert.ok(healthPort, `no healthPort in the listening line: ${line}`);
    healthUrl = `http://127.0.0.1:${healthPort}`;
  });
  after(async () => {
    await other?.stop();
  });

  it('GET /health/ready on the health port › → 200 OK, also with a query or an Authorization header', async () => {
    for (const path of ENDPOINTS) assert.equal((await curl(path, { base: healthUrl })).status, 200, path);
    assert.equal((await curl('/health/live?probe=1', { base: healthUrl })).status, 200);
    assert.equal((await curl('/minio/health/ready', { base: healthUrl, headers: ['Authorization: AWS4-HMAC-SHA256 x'] })).status, 200);
  });

  it('GET of any other path on the health port › → 404, never S3', async () => {
    const a = await curl('/some-bucket/some-key', { base: healthUrl });
    assert.equal(a.status, 404);
    assert.doesNotMatch(a.body, /<Error>/);
  });

  it('GET /health/live on the S3 port › still answered there too', async () => {
    assert.equal((await curl('/health/live', { base: other.url })).status, 200);
  });
});
