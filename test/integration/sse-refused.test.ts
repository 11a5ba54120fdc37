// Server-side encryption is not implemented yet, so every request asking for it is refused with
// MinIO's no-KMS answer (501 NotImplemented) before its body is read, and nothing is stored: SSE-S3
// and SSE-KMS headers, SSE-C headers (also on reads and as a copy source), the same POST form
// fields, and PutBucketEncryption. aws-sdk-js, boto3 (newest and Debian's) and curl (POST form).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CURL, DEBIAN_PYTHON, PYTHON_TEST_DIR, VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const SSE_C_KEY = Buffer.alloc(32, 7);
const SSE_C = {
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: SSE_C_KEY.toString('base64'),
  SSECustomerKeyMD5: createHash('md5').update(SSE_C_KEY).digest('base64'),
};
const COPY_SSE_C = {
  CopySourceSSECustomerAlgorithm: 'AES256',
  CopySourceSSECustomerKey: SSE_C.SSECustomerKey,
  CopySourceSSECustomerKeyMD5: SSE_C.SSECustomerKeyMD5,
};

describe('server-side encryption requests are refused (not implemented), nothing stored', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('sse');

  const refused = async (what: string, p: Promise<unknown>, head = false) => {
    const err = await errorOf(p);
    assert.equal(err.$metadata.httpStatusCode, 501, `${what}: ${err.name} ${err.message}`);
    if (!head) {
      assert.equal(err.name, 'NotImplemented', what);
      assert.match(err.message, /KMS is not configured|SSE-C/, what);
    }
  };
  const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key);

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'source' }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('PutObject (aws-sdk-js) › ServerSideEncryption AES256 / aws:kms, SSE-C key → 501 NotImplemented, nothing stored', async () => {
    await refused('AES256', s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'plain', ServerSideEncryption: 'AES256' })));
    await refused('aws:kms', s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'plain', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'key-1' })));
    await refused('SSE-C', s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: 'plain', ...SSE_C })));
    assert.deepEqual(await keys(), ['src']);
  });

  it('CopyObject (aws-sdk-js) › SSE or SSE-C headers → 501, no object (multipart encrypts: sse-multipart.test.ts)', async () => {
    await refused(
      'CopyObject SSE',
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/src`, ServerSideEncryption: 'AES256' })),
    );
    await refused('CopyObject source SSE-C', s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/src`, ...COPY_SSE_C })));
    assert.deepEqual(await keys(), ['src']);
  });

  it('GetObject, HeadObject (aws-sdk-js) › SSE-C headers → 501 (HEAD without body); PutBucketEncryption → 501 NotImplemented', async () => {
    await refused('GetObject SSE-C', s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'src', ...SSE_C })));
    await refused('HeadObject SSE-C', s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src', ...SSE_C })), true);
    const err = await errorOf(
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        }),
      ),
    );
    assert.equal(err.name, 'NotImplemented');
    assert.equal(err.$metadata.httpStatusCode, 501);
  });

  it('PostObject (curl form) › x-amz-server-side-encryption field → 501 NotImplemented, nothing stored', async () => {
    const { env, dir, cleanup } = await isolatedClientEnv({ S3_ENDPOINT: server.url, S3_ACCESS_KEY: ACCESS_KEY, S3_SECRET_KEY: SECRET_KEY, S3_BUCKET: bucket });
    try {
      const py = String.raw`
import json, os, boto3
from botocore.config import Config
c = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id=os.environ['S3_ACCESS_KEY'],
                 aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1', config=Config(signature_version='s3v4'))
print(json.dumps(c.generate_presigned_post(os.environ['S3_BUCKET'], 'form.txt',
      Fields={'x-amz-server-side-encryption': 'AES256'}, Conditions=[{'x-amz-server-side-encryption': 'AES256'}])))`;
      const gen = await run(VENV_PYTHON, ['-c', py], { env });
      assert.equal(gen.code, 0, describeRun('generate_presigned_post', gen));
      const post = JSON.parse(gen.stdout) as { url: string; fields: Record<string, string> };
      const file = join(dir, 'form.txt');
      await writeFile(file, 'plaintext the client wanted encrypted');
      const args = ['-s', '-o', '-', '-w', '\n%{http_code}'];
      for (const [k, v] of Object.entries(post.fields)) args.push('--form-string', `${k}=${v}`);
      args.push('-F', `file=@${file}`, post.url);
      const r = await run(CURL, args, { env });
      assert.equal(r.code, 0, describeRun('curl', r));
      assert.equal(r.stdout.trim().split('\n').pop(), '501', r.stdout);
      assert.match(r.stdout, /<Code>NotImplemented<\/Code>/);
      assert.deepEqual(await keys(), ['src']);
    } finally {
      await cleanup();
    }
  });

  for (const { label, python } of [
    { label: 'boto3 newest (.venv)', python: VENV_PYTHON },
    { label: 'boto3 Debian 1.26 (/usr/bin/python3)', python: DEBIAN_PYTHON },
  ]) {
    it(`${label} › sse_refused.py: SSE-S3, SSE-KMS, SSE-C on put/copy/multipart/get/head, PutBucketEncryption → 501, nothing stored`, async (t: TestContext) => {
      const { env, cleanup } = await isolatedClientEnv({
        S3_ENDPOINT: server.url,
        S3_ACCESS_KEY: ACCESS_KEY,
        S3_SECRET_KEY: SECRET_KEY,
        S3_BUCKET: newBucketName('ssepy'),
      });
      try {
        const r = await run(python, [join(PYTHON_TEST_DIR, 'sse_refused.py')], { env, timeoutMs: 120_000 });
        t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
        assert.equal(r.code, 0, describeRun(`${python} sse_refused.py`, r));
      } finally {
        await cleanup();
      }
    });
  }
});
