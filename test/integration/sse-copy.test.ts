// CopyObject, PostObject and GetObjectAttributes with server-side encryption (issue 13), against a
// server with the built-in key service and --sse-c-over-http yes: a copy's source is opened with its
// own key (x-amz-copy-source-server-side-encryption-customer-* for SSE-C, the key service for
// SSE-S3/KMS) and the copy is encrypted as its own headers ask, else as the destination's default
// (never as the source was); browser POST forms carry the same choices as fields. aws-sdk-js, boto3
// (newest and Debian's), the AWS CLI (--sse-c-copy-source), curl (POST forms), a second user and an
// anonymous caller; a server without --sse-c-over-http refuses SSE-C over plain HTTP, and rclone
// (sse_customer_key) copies server-side over HTTPS.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  type CopyObjectCommandInput,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import {
  BOTO3_PYTHONS,
  CURL,
  writeSelfSignedCert,
  RCLONE,
  VENV_PYTHON,
  awsCli,
  awsCliEnv,
  describeRun,
  isolatedClientEnv,
  newBucketName,
  run,
  runPythonCheck,
} from '../helpers/clients.js';
import { errorOf, signedHeaders, testClient, userClients } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const md5hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const sseC = (key: Buffer) => ({
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: key.toString('base64'),
  SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
});
const sourceSseC = (key: Buffer) => {
  const c = sseC(key);
  return {
    CopySourceSSECustomerAlgorithm: c.SSECustomerAlgorithm,
    CopySourceSSECustomerKey: c.SSECustomerKey,
    CopySourceSSECustomerKeyMD5: c.SSECustomerKeyMD5,
  };
};
const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const SMALL = Buffer.from('a small object, stored inline in the metadata row, sealed');
/** 300 KiB: stored as a data file of several 64 KiB packages. */
const LARGE = randomBytes(300 * 1024);
const SSE_C_OVER_HTTP = ['--sse-c-over-http', 'yes'];

async function bytesOf(s3: S3Client, bucket: string, key: string, extra: Record<string, string> = {}, range?: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range, ...extra }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** A PUT signed with the root keys, headers as given (what the SDK would correct). */
async function signedPut(server: RunningServer, path: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'PUT', headers: await signedHeaders(server, 'PUT', path, headers) });
}

/** Flips one byte of what the metadata row of bucket/key points at: its inline bytes, or the middle of its data file. */
async function damage(server: RunningServer, bucket: string, key: string): Promise<void> {
  const db = new Database(join(server.dataDir, 'meta.db'), { fileMustExist: true, timeout: 5000 });
  try {
    const inline = db.prepare('SELECT bytes FROM object_inline WHERE bucket = ? AND key = ?').get(bucket, Buffer.from(key)) as { bytes: Buffer } | undefined;
    if (inline !== undefined) {
      const bytes = Buffer.from(inline.bytes);
      bytes[bytes.length >> 1]! ^= 0x10;
      assert.equal(db.prepare('UPDATE object_inline SET bytes = ? WHERE bucket = ? AND key = ?').run(bytes, bucket, Buffer.from(key)).changes, 1);
      return;
    }
    const row = db.prepare('SELECT data FROM objects WHERE bucket = ? AND key = ? AND is_latest = 1').get(bucket, Buffer.from(key)) as { data: string };
    const id = (JSON.parse(row.data) as Array<{ id: string }>)[0]!.id;
    const file = join(server.dataDir, 'objects', id.slice(0, 2), id);
    const fh = await open(file, 'r+');
    try {
      const at = (await stat(file)).size >> 1;
      const b = Buffer.alloc(1);
      await fh.read(b, 0, 1, at);
      b[0]! ^= 0x10;
      await fh.write(b, 0, 1, at);
    } finally {
      await fh.close();
    }
  } finally {
    db.close();
  }
}

async function expectError(what: string, p: Promise<unknown>, code: string, status: number): Promise<void> {
  const err = await errorOf(p);
  assert.equal(err.$metadata.httpStatusCode, status, `${what}: ${err.name} ${err.message}`);
  if (code !== '') assert.equal(err.name, code, `${what}: ${err.message}`);
}

describe('CopyObject, PostObject, GetObjectAttributes with SSE-C, SSE-S3 and SSE-KMS', { timeout: 600_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const clients = userClients(() => server.url);
  const bucket = newBucketName('ssecopy');
  const other = newBucketName('ssecopy-dst');
  const copy = (input: Omit<CopyObjectCommandInput, 'Bucket' | 'CopySource'> & { from: string; Bucket?: string }) => {
    const { from, ...rest } = input;
    return s3.send(new CopyObjectCommand({ Bucket: bucket, CopySource: `${bucket}/${from}`, ...rest }));
  };

  before(async () => {
    server = await startServer({ kms: true, args: SSE_C_OVER_HTTP, users: [{ name: 'writer', policies: ['readwrite'] }] });
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: other }));
  });
  after(async () => {
    clients.destroy();
    s3?.destroy();
    await server?.stop();
  });

  for (const [size, data] of [
    ['inline', SMALL],
    ['large', LARGE],
  ] as const) {
    it(`CopyObject (${size} source) › plain → SSE-C: response headers, ETag not the MD5, GET needs the key`, async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${size}/plain`, Body: data }));
      const r = await copy({ from: `${size}/plain`, Key: `${size}/c`, ...sseC(KEY_A) });
      assert.equal(r.SSECustomerAlgorithm, 'AES256');
      assert.equal(r.SSECustomerKeyMD5, sseC(KEY_A).SSECustomerKeyMD5);
      assert.notEqual(r.CopyObjectResult?.ETag, `"${md5hex(data)}"`);
      await expectError('GET without key', s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${size}/c` })), 'InvalidRequest', 400);
      await expectError('GET with another key', s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${size}/c`, ...sseC(KEY_B) })), 'AccessDenied', 403);
      assert.deepEqual(await bytesOf(s3, bucket, `${size}/c`, sseC(KEY_A)), data);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${size}/c`, ...sseC(KEY_A) }));
      assert.equal(head.ETag, r.CopyObjectResult?.ETag);
      assert.equal(head.ContentLength, data.length);
    });

    it(`CopyObject (${size} source) › SSE-C → SSE-C with another key (other bucket), then → plain (MD5 ETag)`, async () => {
      const r = await copy({ from: `${size}/c`, Bucket: other, Key: `${size}/c2`, ...sourceSseC(KEY_A), ...sseC(KEY_B) });
      assert.equal(r.SSECustomerKeyMD5, sseC(KEY_B).SSECustomerKeyMD5);
      await expectError('old key on the copy', s3.send(new GetObjectCommand({ Bucket: other, Key: `${size}/c2`, ...sseC(KEY_A) })), 'AccessDenied', 403);
      assert.deepEqual(await bytesOf(s3, other, `${size}/c2`, sseC(KEY_B)), data);
      if (size === 'large') {
        // A range across a package boundary (64 KiB) of the re-encrypted copy.
        assert.deepEqual(await bytesOf(s3, other, `${size}/c2`, sseC(KEY_B), 'bytes=65000-140000'), data.subarray(65000, 140001));
      }
      const p = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `${size}/p`, CopySource: `${other}/${size}/c2`, ...sourceSseC(KEY_B) }));
      assert.equal(p.SSECustomerAlgorithm, undefined);
      assert.equal(p.ServerSideEncryption, undefined);
      assert.equal(p.CopyObjectResult?.ETag, `"${md5hex(data)}"`);
      assert.deepEqual(await bytesOf(s3, bucket, `${size}/p`), data);
    });
  }

  it('CopyObject › missing source key → 400 InvalidRequest, wrong → 403 AccessDenied, a key for a plain source → 400; bad key headers → 400 InvalidArgument; nothing stored', async () => {
    await expectError('missing', copy({ from: 'inline/c', Key: 'x/missing' }), 'InvalidRequest', 400);
    await expectError('wrong', copy({ from: 'large/c', Key: 'x/wrong', ...sourceSseC(KEY_B) }), 'AccessDenied', 403);
    await expectError('plain source', copy({ from: 'inline/plain', Key: 'x/plain', ...sourceSseC(KEY_A) }), 'InvalidRequest', 400);
    // The SDK computes the key's MD5 itself: malformed key headers go out hand-signed.
    const A = 'x-amz-copy-source-server-side-encryption-customer-';
    const good = { [`${A}algorithm`]: 'AES256', [`${A}key`]: KEY_A.toString('base64'), [`${A}key-md5`]: sseC(KEY_A).SSECustomerKeyMD5 };
    for (const [name, headers, code] of [
      ['x/md5', { ...good, [`${A}key-md5`]: sseC(KEY_B).SSECustomerKeyMD5 }, 'InvalidArgument'],
      ['x/short', { ...good, [`${A}key`]: Buffer.alloc(16).toString('base64') }, 'InvalidArgument'],
      ['x/nomd5', { [`${A}algorithm`]: 'AES256', [`${A}key`]: good[`${A}key`]! }, 'InvalidArgument'],
      ['x/alg', { ...good, [`${A}algorithm`]: 'AES128' }, 'InvalidEncryptionAlgorithmError'],
    ] as const) {
      const res = await signedPut(server, `/${bucket}/${name}`, { 'x-amz-copy-source': `/${bucket}/inline/c`, ...headers });
      const body = await res.text();
      assert.equal(res.status, 400, `${name}: ${body}`);
      assert.match(body, new RegExp(`<Code>${code}</Code>`), name);
    }
    await expectError(
      'SSE-C with SSE-S3',
      copy({ from: 'inline/plain', Key: 'x/both', ...sseC(KEY_A), ServerSideEncryption: 'AES256' }),
      'InvalidArgument',
      400,
    );
    for (const k of ['x/missing', 'x/wrong', 'x/plain', 'x/md5', 'x/short', 'x/nomd5', 'x/alg', 'x/both']) {
      await expectError(k, s3.send(new HeadObjectCommand({ Bucket: bucket, Key: k })), '', 404);
    }
  });

  it('CopyObject onto itself › changing the SSE-C key is legal (COPY keeps metadata, REPLACE replaces); unchanged → 400 InvalidRequest', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'self', Body: LARGE, Metadata: { color: 'blue' }, ...sseC(KEY_A) }));
    await copy({ from: 'self', Key: 'self', ...sourceSseC(KEY_A), ...sseC(KEY_B) });
    await expectError('old key', s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'self', ...sseC(KEY_A) })), 'AccessDenied', 403);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self', ...sseC(KEY_B) }));
    assert.deepEqual(head.Metadata, { color: 'blue' });
    assert.deepEqual(await bytesOf(s3, bucket, 'self', sseC(KEY_B)), LARGE);
    await copy({ from: 'self', Key: 'self', ...sourceSseC(KEY_B), ...sseC(KEY_B), MetadataDirective: 'REPLACE', Metadata: { color: 'red' } });
    assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self', ...sseC(KEY_B) }))).Metadata, { color: 'red' });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'self-plain', Body: SMALL }));
    await expectError('unchanged', copy({ from: 'self-plain', Key: 'self-plain' }), 'InvalidRequest', 400);
    // Encrypting a plain object in place (SSE-S3), and decrypting an SSE-C one in place.
    const r = await copy({ from: 'self-plain', Key: 'self-plain', ServerSideEncryption: 'AES256' });
    assert.equal(r.ServerSideEncryption, 'AES256');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self-plain' }))).ServerSideEncryption, 'AES256');
    await copy({ from: 'self', Key: 'self', ...sourceSseC(KEY_B) });
    assert.deepEqual(await bytesOf(s3, bucket, 'self'), LARGE);
  });

  it('CopyObject › a multipart source (plain) → SSE-C single-part copy; SSE-C source, COPY directive keeps metadata and content type', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ContentType: 'text/csv' }));
    const part1 = randomBytes(5 * 1024 * 1024);
    const part2 = randomBytes(1000);
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: part1 }))).ETag;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, Body: part2 }))).ETag;
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1 },
            { PartNumber: 2, ETag: e2 },
          ],
        },
      }),
    );
    await copy({ from: 'mp', Key: 'mp-c', ...sseC(KEY_A) });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp-c', ...sseC(KEY_A) }));
    assert.equal(head.ContentType, 'text/csv');
    assert.doesNotMatch(head.ETag ?? '', /-\d+"$/);
    assert.deepEqual(await bytesOf(s3, bucket, 'mp-c', sseC(KEY_A), 'bytes=5242000-5243000'), Buffer.concat([part1, part2]).subarray(5242000, 5243001));
  });

  it('CopyObject › SSE-S3 → SSE-KMS → SSE-C → SSE-S3; no destination headers: stored plain (the source encryption is not carried over)', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k/s3', Body: LARGE, ServerSideEncryption: 'AES256' }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    const kms = await copy({ from: 'k/s3', Key: 'k/kms', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'strata-test', BucketKeyEnabled: true });
    assert.equal(kms.ServerSideEncryption, 'aws:kms');
    assert.match(kms.SSEKMSKeyId ?? '', /^arn:aws:kms:[^:]+:\d+:key\/strata-test$/);
    assert.equal(kms.BucketKeyEnabled, true);
    assert.notEqual(kms.CopyObjectResult?.ETag, `"${md5hex(LARGE)}"`);
    const kh = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k/kms' }));
    assert.equal(kh.ServerSideEncryption, 'aws:kms');
    assert.deepEqual(await bytesOf(s3, bucket, 'k/kms'), LARGE);
    await copy({ from: 'k/kms', Key: 'k/c', ...sseC(KEY_A) });
    assert.deepEqual(await bytesOf(s3, bucket, 'k/c', sseC(KEY_A)), LARGE);
    const back = await copy({ from: 'k/c', Key: 'k/s3b', ...sourceSseC(KEY_A), ServerSideEncryption: 'AES256' });
    assert.equal(back.ServerSideEncryption, 'AES256');
    assert.equal(back.CopyObjectResult?.ETag, `"${md5hex(LARGE)}"`);
    assert.deepEqual(await bytesOf(s3, bucket, 'k/s3b'), LARGE);
    const plain = await copy({ from: 'k/kms', Key: 'k/plain' });
    assert.equal(plain.ServerSideEncryption, undefined);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k/plain' }))).ServerSideEncryption, undefined);
    await expectError(
      'unknown KMS key',
      copy({ from: 'k/s3', Key: 'k/nokey', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'no-such-key' }),
      'KMS.NotFoundException',
      400,
    );
  });

  it('CopyObject › a damaged encrypted source (inline row, data file; SSE-C and SSE-KMS) → 500 InternalError, nothing stored', async () => {
    for (const [key, body, enc, source] of [
      ['dmg/inline-c', SMALL, sseC(KEY_A), sourceSseC(KEY_A)],
      ['dmg/large-c', LARGE, sseC(KEY_A), sourceSseC(KEY_A)],
      ['dmg/large-kms', LARGE, { ServerSideEncryption: 'aws:kms' } as const, {}],
    ] as const) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...enc }));
      await damage(server, bucket, key);
      await expectError(key, copy({ from: key, Key: `${key}.copy`, ...source, ...sseC(KEY_B) }), 'InternalError', 500);
      await expectError(`${key}.copy`, s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${key}.copy`, ...sseC(KEY_B) })), '', 404);
    }
  });

  it('GetObjectAttributes › SSE-C object: no key → 400 InvalidRequest, wrong → 403, right → attributes; a key for a plain object → 400; x-amz-server-side-encryption on GetObjectAttributes, GetObject, HeadObject → 400', async () => {
    const attrs = (key: string, extra: Record<string, string> = {}) =>
      s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['ETag', 'ObjectSize'], ...extra }));
    await expectError('no key', attrs('large/c'), 'InvalidRequest', 400);
    await expectError('wrong key', attrs('large/c', sseC(KEY_B)), 'AccessDenied', 403);
    const r = await attrs('large/c', sseC(KEY_A));
    assert.equal(r.ObjectSize, LARGE.length);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large/c', ...sseC(KEY_A) }));
    assert.equal(`"${r.ETag}"`, head.ETag);
    await expectError('key for plain', attrs('large/plain', sseC(KEY_A)), 'InvalidRequest', 400);
    assert.equal((await attrs('k/kms')).ObjectSize, LARGE.length);
    // A read takes the version's own encryption: x-amz-server-side-encryption is refused (hand-signed: the SDK has no such field).
    const sseHeader = { 'x-amz-object-attributes': 'ObjectSize', 'x-amz-server-side-encryption': 'aws:kms' };
    const res = await fetch(`${server.url}/${bucket}/k/kms?attributes=`, {
      headers: await signedHeaders(server, 'GET', `/${bucket}/k/kms`, sseHeader, { attributes: '' }),
    });
    const body = await res.text();
    assert.equal(res.status, 400, body);
    assert.match(body, /<Code>InvalidArgument<\/Code>[\s\S]*not supported for this operation/);
    // GetObject and HeadObject the same (HEAD: the status only); without the header the object reads.
    for (const method of ['GET', 'HEAD']) {
      const r = await fetch(`${server.url}/${bucket}/k/kms`, {
        method,
        headers: await signedHeaders(server, method, `/${bucket}/k/kms`, { 'x-amz-server-side-encryption': 'aws:kms' }),
      });
      const text = await r.text();
      assert.equal(r.status, 400, `${method} ${text}`);
      if (method === 'GET') assert.match(text, /<Code>InvalidArgument<\/Code>[\s\S]*not supported for this operation/);
      const plain = await fetch(`${server.url}/${bucket}/k/kms`, { method, headers: await signedHeaders(server, method, `/${bucket}/k/kms`) });
      await plain.arrayBuffer();
      assert.equal(plain.status, 200, method);
    }
  });

  it('second user (readwrite policy) › copying an SSE-C object still needs its key; anonymous copy → 403 AccessDenied', async () => {
    const writer = clients.as(server.users[0]!);
    const send = (input: CopyObjectCommandInput) => writer.send(new CopyObjectCommand(input));
    const base = { Bucket: bucket, CopySource: `${bucket}/inline/c` };
    await expectError('no key', send({ ...base, Key: 'u/none' }), 'InvalidRequest', 400);
    await expectError('wrong key', send({ ...base, Key: 'u/wrong', ...sourceSseC(KEY_B) }), 'AccessDenied', 403);
    await send({ ...base, Key: 'u/ok', ...sourceSseC(KEY_A), ...sseC(KEY_B) });
    assert.deepEqual(await bytesOf(writer, bucket, 'u/ok', sseC(KEY_B)), SMALL);
    const anon = await fetch(`${server.url}/${bucket}/u/anon`, {
      method: 'PUT',
      headers: {
        'x-amz-copy-source': `/${bucket}/inline/c`,
        'x-amz-copy-source-server-side-encryption-customer-algorithm': 'AES256',
        'x-amz-copy-source-server-side-encryption-customer-key': KEY_A.toString('base64'),
        'x-amz-copy-source-server-side-encryption-customer-key-md5': sseC(KEY_A).SSECustomerKeyMD5,
      },
    });
    const body = await anon.text();
    assert.equal(anon.status, 403, body);
    assert.match(body, /<Code>AccessDenied<\/Code>/);
    await expectError('anon stored nothing', s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'u/anon' })), '', 404);
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › sse_copy.py: SSE-C copies both ways, key errors, self-copy re-key, SSE-S3 → SSE-KMS, GetObjectAttributes`, async (t: TestContext) => {
      const r = await runPythonCheck(python, 'sse_copy.py', server, { bucket: newBucketName('ssecopy-py'), timeoutMs: 180_000 });
      t.diagnostic(r.stdout.split('\n')[0] ?? '');
    });
  }

  it('AWS CLI › aws s3 cp s3→s3 with --sse-c and --sse-c-copy-source: re-keyed copy readable with the new key only', async () => {
    const work = await mkdtemp(join(tmpdir(), 'strata-ssecopy-cli-'));
    const { env, cleanup } = await awsCliEnv();
    try {
      const { aws } = awsCli(() => ({ url: server.url, env, cwd: work, logs: server.logs, timeoutMs: 180_000 }));
      const keyA = 'A'.repeat(32);
      const keyB = 'B'.repeat(32);
      await writeFile(join(work, 'up.bin'), LARGE);
      await aws(['s3', 'cp', join(work, 'up.bin'), `s3://${bucket}/cli/src`, '--sse-c', 'AES256', '--sse-c-key', keyA]);
      const cp = ['s3', 'cp', `s3://${bucket}/cli/src`, `s3://${bucket}/cli/dst`, '--sse-c', 'AES256', '--sse-c-key', keyB];
      await aws([...cp, '--sse-c-copy-source', 'AES256', '--sse-c-copy-source-key', keyB], { expectFailure: true });
      await aws([...cp, '--sse-c-copy-source', 'AES256', '--sse-c-copy-source-key', keyA]);
      await aws(['s3', 'cp', `s3://${bucket}/cli/dst`, join(work, 'down.bin'), '--sse-c', 'AES256', '--sse-c-key', keyB]);
      const got = await run('/usr/bin/cmp', [join(work, 'up.bin'), join(work, 'down.bin')]);
      assert.equal(got.code, 0, describeRun('cmp', got));
      await aws(['s3', 'cp', `s3://${bucket}/cli/dst`, join(work, 'down2.bin'), '--sse-c', 'AES256', '--sse-c-key', keyA], { expectFailure: true });
    } finally {
      await cleanup();
      await rm(work, { recursive: true, force: true });
    }
  });

  it('PostObject (curl, boto3-signed forms) › SSE-C, SSE-S3 and SSE-KMS fields: stored encrypted, response headers; fields outside the policy → 403; bad key → 400', async () => {
    const c = sseC(KEY_A);
    const cFields = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': c.SSECustomerKey,
      'x-amz-server-side-encryption-customer-key-MD5': c.SSECustomerKeyMD5,
    };
    const context = Buffer.from(JSON.stringify({ app: 'uploads' })).toString('base64');
    const kmsFields = {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'strata-test',
      'x-amz-server-side-encryption-context': context,
      'x-amz-server-side-encryption-bucket-key-enabled': 'true',
    };
    const badMd5 = { ...cFields, 'x-amz-server-side-encryption-customer-key-MD5': sseC(KEY_B).SSECustomerKeyMD5 };
    const cond = (f: Record<string, string>) => Object.entries(f).map(([k, v]) => ({ [k]: v }));
    const specs = [
      ['c', 'post/c', cFields, cond(cFields)],
      ['s3', 'post/s3', { 'x-amz-server-side-encryption': 'AES256' }, [{ 'x-amz-server-side-encryption': 'AES256' }]],
      ['kms', 'post/kms', kmsFields, cond(kmsFields)],
      ['uncovered', 'post/uncovered', {}, []],
      ['bad', 'post/bad', badMd5, cond(badMd5)],
    ];
    const { env, dir, cleanup } = await isolatedClientEnv({ S3_ENDPOINT: server.url, S3_ACCESS_KEY: ACCESS_KEY, S3_SECRET_KEY: SECRET_KEY, S3_BUCKET: bucket });
    try {
      const py = String.raw`
import json, os, sys, boto3
from botocore.config import Config
c = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id=os.environ['S3_ACCESS_KEY'],
                 aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1', config=Config(signature_version='s3v4'))
out = {}
for name, key, fields, conditions in json.loads(sys.stdin.read()):
    out[name] = c.generate_presigned_post(os.environ['S3_BUCKET'], key, Fields=fields, Conditions=conditions)
print(json.dumps(out))`;
      const gen = await run(VENV_PYTHON, ['-c', py], { env, input: JSON.stringify(specs) });
      assert.equal(gen.code, 0, describeRun('generate_presigned_post', gen));
      const posts = JSON.parse(gen.stdout) as Record<string, { url: string; fields: Record<string, string> }>;
      const file = join(dir, 'form.bin');
      await writeFile(file, LARGE);
      const submit = async (name: string, extra: Record<string, string> = {}) => {
        const args = ['-s', '-i', '-o', '-', '-w', '\n%{http_code}'];
        for (const [k, v] of Object.entries({ ...posts[name]!.fields, ...extra })) args.push('--form-string', `${k}=${v}`);
        args.push('-F', `file=@${file}`, posts[name]!.url);
        const r = await run(CURL, args, { env });
        assert.equal(r.code, 0, describeRun('curl', r));
        const status = Number(r.stdout.trim().split('\n').pop());
        return { status, out: r.stdout };
      };
      const cRes = await submit('c');
      assert.equal(cRes.status, 204, cRes.out);
      assert.match(cRes.out, /x-amz-server-side-encryption-customer-algorithm: AES256/i);
      assert.doesNotMatch(cRes.out, new RegExp(md5hex(LARGE)));
      await expectError('POST SSE-C object without key', s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'post/c' })), 'InvalidRequest', 400);
      assert.deepEqual(await bytesOf(s3, bucket, 'post/c', sseC(KEY_A)), LARGE);
      const s3Res = await submit('s3');
      assert.equal(s3Res.status, 204, s3Res.out);
      assert.match(s3Res.out, /x-amz-server-side-encryption: AES256/i);
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'post/s3' }))).ServerSideEncryption, 'AES256');
      const kmsRes = await submit('kms');
      assert.equal(kmsRes.status, 204, kmsRes.out);
      assert.match(kmsRes.out, /x-amz-server-side-encryption-aws-kms-key-id: arn:aws:kms:.*:key\/strata-test/i);
      assert.match(kmsRes.out, /x-amz-server-side-encryption-bucket-key-enabled: true/i);
      assert.ok(kmsRes.out.toLowerCase().includes(`x-amz-server-side-encryption-context: ${context.toLowerCase()}`), kmsRes.out);
      const kmsHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'post/kms' }));
      assert.equal(kmsHead.BucketKeyEnabled, true);
      assert.deepEqual(await bytesOf(s3, bucket, 'post/kms'), LARGE);
      const uncovered = await submit('uncovered', cFields);
      assert.equal(uncovered.status, 403, uncovered.out);
      assert.match(uncovered.out, /<Code>AccessDenied<\/Code>/);
      const bad = await submit('bad');
      assert.equal(bad.status, 400, bad.out);
      assert.match(bad.out, /<Code>InvalidArgument<\/Code>/);
      for (const k of ['post/uncovered', 'post/bad']) await expectError(k, s3.send(new HeadObjectCommand({ Bucket: bucket, Key: k })), '', 404);
    } finally {
      await cleanup();
    }
  });
});

describe('SSE-C copies over plain HTTP without --sse-c-over-http; copies under --sse-default AES256', { timeout: 120_000 }, () => {
  let plainHttp: RunningServer;
  let defaulted: RunningServer;
  const bucket = newBucketName('ssecopy-http');

  before(async () => {
    [plainHttp, defaulted] = await Promise.all([startServer(), startServer({ kms: true, args: [...SSE_C_OVER_HTTP, '--sse-default', 'AES256'] })]);
  });
  after(async () => {
    await Promise.all([plainHttp?.stop(), defaulted?.stop()]);
  });

  it('CopyObject with a source key, GetObjectAttributes with a key, over plain HTTP → 400 InvalidRequest (secure connection)', async () => {
    const s3 = testClient(plainHttp.url);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: SMALL }));
      const err = await errorOf(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: `${bucket}/src`, ...sourceSseC(KEY_A) })));
      assert.equal(err.name, 'InvalidRequest');
      assert.match(err.message, /secure connection/);
      const err2 = await errorOf(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: `${bucket}/src`, ...sseC(KEY_A) })));
      assert.equal(err2.name, 'InvalidRequest');
      const err3 = await errorOf(s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'src', ObjectAttributes: ['ObjectSize'], ...sseC(KEY_A) })));
      assert.equal(err3.name, 'InvalidRequest');
      assert.match(err3.message, /secure connection/);
    } finally {
      s3.destroy();
    }
  });

  it('CopyObject without destination headers under --sse-default AES256 → SSE-S3 copy (also from an SSE-C source)', async () => {
    const s3 = testClient(defaulted.url);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: LARGE, ...sseC(KEY_A) }));
      const r = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'd', CopySource: `${bucket}/c`, ...sourceSseC(KEY_A) }));
      assert.equal(r.ServerSideEncryption, 'AES256');
      assert.equal(r.CopyObjectResult?.ETag, `"${md5hex(LARGE)}"`);
      assert.deepEqual(await bytesOf(s3, bucket, 'd'), LARGE);
    } finally {
      s3.destroy();
    }
  });
});

describe('SSE-C copies over HTTPS (no --sse-c-over-http): rclone with sse_customer_key', { timeout: 180_000 }, () => {
  let server: RunningServer;
  let work: string;
  const bucket = newBucketName('ssecopy-tls');

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'strata-ssecopy-rclone-'));
    await writeSelfSignedCert(work);
    server = await startServer({ args: ['--certs', work], tls: true });
  });
  after(async () => {
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('rclone › upload with sse_customer_key, server-side copyto (CopyObject with the source and the copy key), download → same bytes; without the key: HEAD refused, nothing downloaded', async () => {
    const isolated = await isolatedClientEnv();
    try {
      const remote = (name: string, key?: Buffer) => {
        const p = `RCLONE_CONFIG_${name}_`;
        return {
          [`${p}TYPE`]: 's3',
          [`${p}PROVIDER`]: 'Other',
          [`${p}ACCESS_KEY_ID`]: ACCESS_KEY,
          [`${p}SECRET_ACCESS_KEY`]: SECRET_KEY,
          [`${p}ENDPOINT`]: server.url,
          [`${p}REGION`]: REGION,
          ...(key !== undefined && { [`${p}SSE_CUSTOMER_ALGORITHM`]: 'AES256', [`${p}SSE_CUSTOMER_KEY_BASE64`]: key.toString('base64') }),
        };
      };
      const env = {
        ...Object.fromEntries(Object.entries(isolated.env).filter(([k]) => !k.startsWith('RCLONE_'))),
        RCLONE_CONFIG: join(work, 'rclone.conf'),
        ...remote('KEYED', KEY_A),
        ...remote('BARE'),
      };
      await writeFile(join(work, 'rclone.conf'), '');
      const rclone = (args: string[]) => run(RCLONE, ['--no-check-certificate', '--retries', '1', ...args], { env, timeoutMs: 120_000, cwd: work });
      const ok = async (args: string[]) => {
        const r = await rclone(args);
        assert.equal(r.code, 0, `${describeRun(`rclone ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
      };
      await ok(['mkdir', `keyed:${bucket}`]);
      await writeFile(join(work, 'up.bin'), LARGE);
      await ok(['copyto', join(work, 'up.bin'), `keyed:${bucket}/src`]);
      const mark = server.logs().length;
      await ok(['copyto', `keyed:${bucket}/src`, `keyed:${bucket}/dst`]);
      const ops = (await server.accessLog(mark)).map((l) => `${l.op} ${l.status}`);
      assert.ok(ops.includes('CopyObject 200'), `a server-side copy: ${ops.join(', ')}`);
      await ok(['copyto', `keyed:${bucket}/dst`, join(work, 'down.bin')]);
      const same = await run('/usr/bin/cmp', [join(work, 'up.bin'), join(work, 'down.bin')]);
      assert.equal(same.code, 0, describeRun('cmp', same));
      const before = server.logs().length;
      const bare = await rclone(['copyto', `bare:${bucket}/dst`, join(work, 'bare.bin')]);
      const refused = (await server.accessLog(before)).map((l) => `${l.op} ${l.status} ${l.s3Code ?? ''}`);
      // rclone takes the refused HEAD for "not a file" and finds no directory of that name either:
      // nothing is downloaded (exit 0 or not, depending on its version).
      const said = `${describeRun('rclone copyto without the key', bare)}\n${refused.join('\n')}`;
      assert.ok(refused.includes('HeadObject 400 InvalidRequest'), said);
      assert.ok(!refused.some((l) => l.startsWith('GetObject 2')), said);
      assert.equal(existsSync(join(work, 'bare.bin')), false, said);
    } finally {
      await isolated.cleanup();
    }
  });
});
