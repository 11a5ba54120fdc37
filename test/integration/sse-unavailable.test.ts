// Encryption a server cannot honour is refused before the body is read, and nothing is stored. A
// server without a key service refuses SSE-S3 and SSE-KMS with MinIO's no-KMS answer (501
// NotImplemented, "KMS is not configured"); SSE-C over plain HTTP (without --sse-c-over-http) is
// refused as AWS refuses it (400 InvalidRequest: a secure connection is required), on writes, reads,
// copies (also a copy source's key) and multipart steps, and the same POST form fields.
// aws-sdk-js, boto3 (newest and Debian's) and curl (POST form).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
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

describe('encryption that cannot be honoured (no key service; SSE-C over plain HTTP) is refused, nothing stored', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('sse');

  /** SSE-S3 / SSE-KMS without a key service: 501 NotImplemented. */
  const refused = async (what: string, p: Promise<unknown>) => {
    const err = await errorOf(p);
    assert.equal(err.$metadata.httpStatusCode, 501, `${what}: ${err.name} ${err.message}`);
    assert.equal(err.name, 'NotImplemented', what);
    assert.match(err.message, /KMS is not configured/, what);
  };
  /** SSE-C over plain HTTP: 400 InvalidRequest (HEAD: the status only, it has no body). */
  const insecure = async (what: string, p: Promise<unknown>, head = false) => {
    const err = await errorOf(p);
    assert.equal(err.$metadata.httpStatusCode, 400, `${what}: ${err.name} ${err.message}`);
    if (!head) {
      assert.equal(err.name, 'InvalidRequest', what);
      assert.match(err.message, /must be made over a secure connection/, what);
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

  it('PutObject (aws-sdk-js) › ServerSideEncryption AES256 / aws:kms → 501 NotImplemented, SSE-C over HTTP → 400, nothing stored', async () => {
    await refused('AES256', s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'plain', ServerSideEncryption: 'AES256' })));
    await refused('aws:kms', s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'plain', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'key-1' })));
    await insecure('SSE-C', s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: 'plain', ...SSE_C })));
    assert.deepEqual(await keys(), ['src']);
  });

  it('CopyObject, CreateMultipartUpload, UploadPart, UploadPartCopy (aws-sdk-js) › SSE headers → 501, SSE-C over HTTP → 400, no object, no part', async () => {
    await refused(
      'CopyObject SSE',
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/src`, ServerSideEncryption: 'AES256' })),
    );
    await insecure('CopyObject source SSE-C', s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/src`, ...COPY_SSE_C })));
    await refused('CreateMultipartUpload SSE', s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ServerSideEncryption: 'aws:kms' })));
    await insecure('CreateMultipartUpload SSE-C', s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ...SSE_C })));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    await insecure('UploadPart SSE-C', s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'x', ...SSE_C })));
    await insecure(
      'UploadPartCopy source SSE-C',
      s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, CopySource: `${bucket}/src`, ...COPY_SSE_C })),
    );
    assert.deepEqual((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId }))).Parts ?? [], []);
    assert.deepEqual(await keys(), ['src']);
  });

  it('GetObject, HeadObject (aws-sdk-js) › SSE-C headers over HTTP → 400 InvalidRequest (HEAD without body)', async () => {
    await insecure('GetObject SSE-C', s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'src', ...SSE_C })));
    await insecure('HeadObject SSE-C', s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src', ...SSE_C })), true);
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
    it(`${label} › sse_unavailable.py: SSE-S3, SSE-KMS → 501, SSE-C over HTTP → 400 on put/copy/multipart/get/head, nothing stored`, async (t: TestContext) => {
      const { env, cleanup } = await isolatedClientEnv({
        S3_ENDPOINT: server.url,
        S3_ACCESS_KEY: ACCESS_KEY,
        S3_SECRET_KEY: SECRET_KEY,
        S3_BUCKET: newBucketName('ssepy'),
      });
      try {
        const r = await run(python, [join(PYTHON_TEST_DIR, 'sse_unavailable.py')], { env, timeoutMs: 120_000 });
        t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
        assert.equal(r.code, 0, describeRun(`${python} sse_unavailable.py`, r));
      } finally {
        await cleanup();
      }
    });
  }
});
