// SSE-C on PutObject, GetObject and HeadObject with aws-sdk-js, hand-signed requests and curl, on a
// server that allows SSE-C over plain HTTP (--sse-c-over-http yes): the response headers, ETags (not
// the plaintext's MD5, stable across GETs, HEAD and listings), range reads across the 64 KiB package
// boundaries of a sealed piece and of an inline object, every header error as AWS answers it (and
// nothing stored), a presigned GET with the key in headers, a second user allowed GetObject who still
// needs the key, an anonymous caller refused. And a server without the flag refuses SSE-C over plain
// HTTP (400 InvalidRequest, AWS's message) for PUT and GET. The other clients (boto3, the AWS CLI,
// rclone) and HTTPS: sse-c-clients.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { CURL, describeRun, newBucketName, run } from '../helpers/clients.js';
import { errorOf, sseCustomer, testClient, testSigner, userClients } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const KiB = 1024;
const PKG = 64 * KiB;
const BIG = 5 * PKG + 100;
const SMALL = 5000;

const KEY = sseCustomer(0x11);
const OTHER = sseCustomer(0x22);
/** The same key as request headers. */
const headersOf = (k: ReturnType<typeof sseCustomer>): Record<string, string> => ({
  'x-amz-server-side-encryption-customer-algorithm': k.SSECustomerAlgorithm,
  'x-amz-server-side-encryption-customer-key': k.SSECustomerKey,
  'x-amz-server-side-encryption-customer-key-md5': k.SSECustomerKeyMD5,
});

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 13 + (i >> 8)) & 0xff;
  return b;
}
const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function bodyOf(res: { Body?: unknown }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res.Body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A SigV4-signed request with any headers (the SDK would refuse or fix some of them). */
async function signed(
  server: RunningServer,
  method: 'PUT' | 'GET' | 'HEAD',
  path: string,
  headers: Record<string, string>,
  body = Buffer.alloc(0),
): Promise<Answer> {
  const req = await testSigner.sign({
    method,
    protocol: 'http:',
    hostname: server.host,
    port: server.port,
    path,
    query: {},
    headers: { host: `${server.host}:${server.port}`, 'content-length': String(body.length), 'x-amz-content-sha256': sha256(body), ...headers },
    body,
  });
  return new Promise<Answer>((resolve, reject) => {
    const r = http.request({ host: server.host, port: server.port, method, path, headers: req.headers as Record<string, string> }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

const codeOf = (a: Answer) => /<Code>([^<]*)<\/Code>/.exec(a.body)?.[1];
const messageOf = (a: Answer) => /<Message>([^<]*)<\/Message>/.exec(a.body)?.[1];

describe('SSE-C PutObject / GetObject / HeadObject (aws-sdk-js, signed requests, curl; --sse-c-over-http yes)', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const users = userClients(() => server.url);
  const bucket = newBucketName('ssec');
  const big = pattern(BIG, 1);
  const small = pattern(SMALL, 2);

  before(async () => {
    server = await startServer({ args: ['--sse-c-over-http', 'yes'], users: [{ name: 'reader', policies: ['readonly'] }] });
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    s3?.destroy();
    users.destroy();
    await server?.stop();
  });

  it('PUT / GET / HEAD › large (data file), small (inline) and empty objects: SSE-C headers echoed, bytes back exactly; ETag not the MD5, stable across GETs, HEAD and both listings', async () => {
    const empty = Buffer.alloc(0);
    for (const [key, body] of [
      ['big', big],
      ['small', small],
      ['empty', empty],
    ] as Array<[string, Buffer]>) {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...KEY }));
      assert.equal(put.SSECustomerAlgorithm, 'AES256', key);
      assert.equal(put.SSECustomerKeyMD5, KEY.SSECustomerKeyMD5, key);
      assert.equal(put.ServerSideEncryption, undefined, `${key}: no x-amz-server-side-encryption for SSE-C`);
      assert.match(put.ETag ?? '', /^"[0-9a-f]{32}"$/, key);
      assert.notEqual(put.ETag, `"${md5hex(body)}"`, `${key}: the ETag of an SSE-C object is not the MD5 of its bytes`);
      for (let round = 0; round < 2; round++) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...KEY }));
        assert.ok((await bodyOf(got)).equals(body), key);
        assert.equal(got.ETag, put.ETag, `${key}: GET ${round}`);
        assert.equal(got.SSECustomerAlgorithm, 'AES256');
        assert.equal(got.SSECustomerKeyMD5, KEY.SSECustomerKeyMD5);
        assert.equal(got.ContentLength, body.length);
      }
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...KEY }));
      assert.equal(head.ETag, put.ETag, `${key}: HEAD`);
      assert.equal(head.ContentLength, body.length);
      assert.equal(head.SSECustomerKeyMD5, KEY.SSECustomerKeyMD5);
    }
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket }));
    for (const key of ['big', 'small', 'empty']) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...KEY }));
      assert.equal(v2.Contents?.find((o) => o.Key === key)?.ETag, head.ETag, `ListObjectsV2 ${key}`);
      assert.equal(v1.Contents?.find((o) => o.Key === key)?.ETag, head.ETag, `ListObjects ${key}`);
    }
    // The same bytes under another key, or again under the same key: another ETag (it tells nothing of the bytes).
    const again = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small-again', Body: small, ...KEY }));
    assert.notEqual(again.ETag, (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'small', ...KEY }))).ETag);
  });

  it('GET › ranges across 64 KiB package boundaries (data file) and inside an inline object → exactly those bytes, 206 and Content-Range; partNumber 1', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranges', Body: big, ...KEY }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranges-small', Body: small, ...KEY }));
    const points = [0, 1, PKG - 1, PKG, PKG + 1, 2 * PKG - 1, 2 * PKG, 3 * PKG + 17, 5 * PKG - 1, 5 * PKG, BIG - 1];
    for (const start of points) {
      for (const end of points) {
        if (end < start || (start !== 0 && end !== BIG - 1 && (start * 7 + end) % 3 !== 0)) continue; // a spread, not every pair
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranges', Range: `bytes=${start}-${end}`, ...KEY }));
        assert.equal(r.$metadata.httpStatusCode, 206);
        assert.equal(r.ContentRange, `bytes ${start}-${end}/${BIG}`);
        assert.ok((await bodyOf(r)).equals(big.subarray(start, end + 1)), `${start}-${end}`);
      }
    }
    for (const range of ['bytes=-100', `bytes=${BIG - 70000}-`, 'bytes=65530-65545']) {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranges', Range: range, ...KEY }));
      const [a, b] = /bytes (\d+)-(\d+)\//
        .exec(r.ContentRange ?? '')!
        .slice(1)
        .map(Number) as [number, number];
      assert.ok((await bodyOf(r)).equals(big.subarray(a, b + 1)), range);
    }
    for (const [a, b] of [
      [0, 0],
      [4000, SMALL - 1],
      [100, 200],
    ]) {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranges-small', Range: `bytes=${a}-${b}`, ...KEY }));
      assert.ok((await bodyOf(r)).equals(small.subarray(a, b! + 1)), `inline ${a}-${b}`);
    }
    const bad = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranges', Range: `bytes=${BIG}-`, ...KEY })));
    assert.equal(bad.name, 'InvalidRange');
    // partNumber 1 of a single-part object: the whole object, with the key; without it refused.
    const part = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranges', PartNumber: 1, ...KEY }));
    assert.equal(part.PartsCount, 1);
    assert.ok((await bodyOf(part)).equals(big));
    assert.equal((await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranges', PartNumber: 1 })))).name, 'InvalidRequest');
  });

  it('PUT › every SSE-C header error as AWS answers it (400, code, message), and nothing stored', async () => {
    const short = Buffer.alloc(16, 3);
    const cases: Array<[string, Record<string, string>, string, RegExp]> = [
      [
        'algorithm missing',
        { ...headersOf(KEY), 'x-amz-server-side-encryption-customer-algorithm': '' },
        'InvalidArgument',
        /must provide a valid encryption algorithm/,
      ],
      [
        'algorithm AES128',
        { ...headersOf(KEY), 'x-amz-server-side-encryption-customer-algorithm': 'AES128' },
        'InvalidEncryptionAlgorithmError',
        /Supported value: AES256/,
      ],
      ['algorithm aws:kms', { ...headersOf(KEY), 'x-amz-server-side-encryption-customer-algorithm': 'aws:kms' }, 'InvalidEncryptionAlgorithmError', /AES256/],
      [
        'a 16-byte key (its MD5 right)',
        {
          ...headersOf(KEY),
          'x-amz-server-side-encryption-customer-key': short.toString('base64'),
          'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(short).digest('base64'),
        },
        'InvalidArgument',
        /secret key was invalid for the specified algorithm/,
      ],
      [
        'a key that is not base64',
        { ...headersOf(KEY), 'x-amz-server-side-encryption-customer-key': '!!not base64!!' },
        'InvalidArgument',
        /secret key was invalid/,
      ],
      ['key missing', { ...headersOf(KEY), 'x-amz-server-side-encryption-customer-key': '' }, 'InvalidArgument', /appropriate secret key/],
      [
        'key MD5 of another key',
        { ...headersOf(KEY), 'x-amz-server-side-encryption-customer-key-md5': OTHER.SSECustomerKeyMD5 },
        'InvalidArgument',
        /MD5 hash of the key did not match/,
      ],
      ['key MD5 missing', { ...headersOf(KEY), 'x-amz-server-side-encryption-customer-key-md5': '' }, 'InvalidArgument', /calculated MD5 of the secret key/],
      [
        'with x-amz-server-side-encryption: AES256',
        { ...headersOf(KEY), 'x-amz-server-side-encryption': 'AES256' },
        'InvalidArgument',
        /incompatible with the encryption method/,
      ],
      [
        'with x-amz-server-side-encryption: aws:kms',
        { ...headersOf(KEY), 'x-amz-server-side-encryption': 'aws:kms' },
        'InvalidArgument',
        /incompatible with the encryption method/,
      ],
    ];
    for (const [i, [what, headers, code, message]] of cases.entries()) {
      // An empty value stands for "header absent".
      const sent = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''));
      const a = await signed(server, 'PUT', `/${bucket}/bad-${i}`, sent, Buffer.from('secret bytes'));
      assert.equal(a.status, 400, `${what}: ${a.body}`);
      assert.equal(codeOf(a), code, what);
      assert.match(messageOf(a) ?? '', message, what);
      assert.equal((await signed(server, 'HEAD', `/${bucket}/bad-${i}`, {})).status, 404, `${what}: nothing stored`);
    }
  });

  it('GET / HEAD › header errors on reads: a bad algorithm or MD5 → 400 before anything else; a key for an unencrypted object → 400 InvalidRequest', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'read-errors', Body: small, ...KEY }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: small }));
    const badAlg = await signed(server, 'GET', `/${bucket}/read-errors`, { ...headersOf(KEY), 'x-amz-server-side-encryption-customer-algorithm': 'AES128' });
    assert.equal(badAlg.status, 400);
    assert.equal(codeOf(badAlg), 'InvalidEncryptionAlgorithmError');
    const badMd5 = await signed(server, 'GET', `/${bucket}/read-errors`, {
      ...headersOf(KEY),
      'x-amz-server-side-encryption-customer-key-md5': OTHER.SSECustomerKeyMD5,
    });
    assert.equal(badMd5.status, 400);
    assert.equal(codeOf(badMd5), 'InvalidArgument');
    assert.equal(
      (await signed(server, 'HEAD', `/${bucket}/read-errors`, { ...headersOf(KEY), 'x-amz-server-side-encryption-customer-key-md5': '' })).status,
      400,
    );
    const plain = await signed(server, 'GET', `/${bucket}/plain`, headersOf(KEY));
    assert.equal(plain.status, 400);
    assert.equal(codeOf(plain), 'InvalidRequest');
    const right = await signed(server, 'GET', `/${bucket}/read-errors`, headersOf(KEY));
    assert.equal(right.status, 200);
    assert.equal(right.headers['x-amz-server-side-encryption-customer-algorithm'], 'AES256');
  });

  it('presigned GET (curl, the key in signed headers) → the bytes; the same URL without the key headers → refused', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'presigned', Body: big, ...KEY }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned', ...KEY }), {
      expiresIn: 600,
      unhoistableHeaders: new Set(Object.keys(headersOf(KEY))),
    });
    assert.ok(!url.includes('customer-key='), 'the key is not in the URL');
    const dir = await mkdtemp(join(tmpdir(), 'strata-ssec-curl-'));
    try {
      const file = join(dir, 'out');
      const withKey = await run(
        CURL,
        ['-sS', '-o', file, '-w', '%{http_code}', ...Object.entries(headersOf(KEY)).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url],
        {
          timeoutMs: 60_000,
        },
      );
      assert.equal(withKey.code, 0, describeRun('curl', withKey));
      assert.equal(withKey.stdout, '200');
      assert.ok((await readFile(file)).equals(big), 'curl got the bytes');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const without = await run(CURL, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', url], { timeoutMs: 60_000 });
    assert.match(without.stdout, /^4\d\d$/, 'refused without the key headers');
  });

  it('identities › a second user allowed GetObject (readonly) still needs the key (400 without, 403 wrong, 200 right); an anonymous caller is refused (403) even with the key', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared', Body: small, ...KEY }));
    const reader = users.as(server.users[0]!);
    const none = await errorOf(reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'shared' })));
    assert.equal(none.$metadata.httpStatusCode, 400);
    assert.equal(none.name, 'InvalidRequest');
    const wrong = await errorOf(reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'shared', ...OTHER })));
    assert.equal(wrong.$metadata.httpStatusCode, 403);
    const ok = await reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'shared', ...KEY }));
    assert.ok((await bodyOf(ok)).equals(small));
    const denied = await errorOf(reader.send(new PutObjectCommand({ Bucket: bucket, Key: 'by-reader', Body: small, ...KEY })));
    assert.equal(denied.$metadata.httpStatusCode, 403, 'readonly may not write');
    const anon = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: server.host, port: server.port, path: `/${bucket}/shared`, headers: headersOf(KEY) }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    assert.equal(anon, 403);
  });
});

describe('SSE-C over plain HTTP without --sse-c-over-http → 400 InvalidRequest', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('ssec-http');

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'plain bytes' }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('PUT, GET and HEAD with SSE-C headers → 400 InvalidRequest with AWS message; nothing stored', async () => {
    const put = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sealed', Body: 'secret', ...KEY })));
    assert.equal(put.$metadata.httpStatusCode, 400);
    assert.equal(put.name, 'InvalidRequest');
    assert.equal(put.message, 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
    assert.equal((await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sealed' })))).$metadata.httpStatusCode, 404);
    const get = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain', ...KEY })));
    assert.equal(get.$metadata.httpStatusCode, 400);
    assert.equal(get.name, 'InvalidRequest');
    assert.match(get.message, /must be made over a secure connection/);
    const head = await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain', ...KEY })));
    assert.equal(head.$metadata.httpStatusCode, 400);
  });
});
