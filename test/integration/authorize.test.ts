// The authorize stage against a real Strata process: an unsigned request to each kind of operation
// (service, bucket, object; reads, writes, multipart, copy, a bucket that does not exist) is
// answered 403 AccessDenied by the authorize stage — the access log says so (denied.by), which the
// authentication stage never writes — and a signed request passes it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { newBucketName } from '../helpers/clients.js';
import { testClient } from '../helpers/s3.js';
import { REGION, startServer, type RunningServer } from '../helpers/server.js';

describe('authorize stage (anonymous requests)', () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('authz');
  let uploadId = '';

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'hello' }));
    uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }))).UploadId!;
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  /** [operation, method, path, headers, body, the action the refusal names]. */
  const cases = (): Array<[string, string, string, Record<string, string>, string | undefined, string]> => [
    ['ListBuckets', 'GET', '/', {}, undefined, 's3:ListAllMyBuckets'],
    ['CreateBucket', 'PUT', `/${newBucketName('anon')}`, {}, undefined, 's3:CreateBucket'],
    ['HeadBucket', 'HEAD', `/${bucket}`, {}, undefined, 's3:ListBucket'],
    ['ListObjectsV2', 'GET', `/${bucket}?list-type=2`, {}, undefined, 's3:ListBucket'],
    ['GetBucketCors', 'GET', `/${bucket}?cors`, {}, undefined, 's3:GetBucketCORS'],
    ['DeleteBucket', 'DELETE', `/${bucket}`, {}, undefined, 's3:DeleteBucket'],
    ['GetObject', 'GET', `/${bucket}/k`, {}, undefined, 's3:GetObject'],
    ['GetObject', 'GET', `/${bucket}/k?versionId=null`, {}, undefined, 's3:GetObjectVersion'],
    ['HeadObject', 'HEAD', `/${bucket}/k`, {}, undefined, 's3:GetObject'],
    ['PutObject', 'PUT', `/${bucket}/new`, { 'content-type': 'text/plain' }, 'data', 's3:PutObject'],
    ['CopyObject', 'PUT', `/${bucket}/copy`, { 'x-amz-copy-source': `/${bucket}/k` }, undefined, 's3:PutObject'],
    ['DeleteObject', 'DELETE', `/${bucket}/k`, {}, undefined, 's3:DeleteObject'],
    ['GetObjectAttributes', 'GET', `/${bucket}/k?attributes`, { 'x-amz-object-attributes': 'ETag' }, undefined, 's3:GetObject'],
    ['CreateMultipartUpload', 'POST', `/${bucket}/mp2?uploads`, {}, undefined, 's3:PutObject'],
    ['UploadPart', 'PUT', `/${bucket}/mp?partNumber=1&uploadId=${uploadId}`, {}, 'part', 's3:PutObject'],
    ['CompleteMultipartUpload', 'POST', `/${bucket}/mp?uploadId=${uploadId}`, {}, '<CompleteMultipartUpload/>', 's3:PutObject'],
    ['ListParts', 'GET', `/${bucket}/mp?uploadId=${uploadId}`, {}, undefined, 's3:ListMultipartUploadParts'],
    ['AbortMultipartUpload', 'DELETE', `/${bucket}/mp?uploadId=${uploadId}`, {}, undefined, 's3:AbortMultipartUpload'],
    ['ListMultipartUploads', 'GET', `/${bucket}?uploads`, {}, undefined, 's3:ListBucketMultipartUploads'],
    // A bucket that does not exist: the authorization error comes first, as S3 orders them.
    ['ListObjects', 'GET', `/${newBucketName('missing')}`, {}, undefined, 's3:ListBucket'],
    ['GetObject', 'GET', `/${newBucketName('missing')}/k`, {}, undefined, 's3:GetObject'],
  ];

  it('every kind of operation › unsigned → 403 AccessDenied from the authorize stage (access log: denied.by authorize, the action)', async () => {
    for (const [op, method, path, headers, body, action] of cases()) {
      const from = server.logs().length;
      const res = await fetch(server.url + path, { method, headers, body });
      const text = await res.text();
      const what = `${method} ${path}`;
      assert.equal(res.status, 403, `${what}: ${text}`);
      if (method !== 'HEAD') assert.match(text, /<Code>AccessDenied<\/Code>/, what);
      const line = (await server.accessLog(from)).find((l) => l.op === op && l.status === 403);
      assert.ok(line, `${what}: no access line`);
      assert.equal(line.s3Code, 'AccessDenied', what);
      assert.deepEqual(
        line.denied && { by: line.denied.by, action: line.denied.action, principal: line.denied.principal },
        { by: 'authorize', action, principal: 'anonymous' },
        what,
      );
    }
    // Nothing happened: the bucket, its object and the upload are all still there.
    const head = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'still here' }));
    assert.ok(head.ETag);
  });

  it('signed request › passes the authorize stage (no denied field), an unknown access key fails authentication instead', async () => {
    let from = server.logs().length;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'signed', Body: 'x' }));
    const ok = (await server.accessLog(from)).find((l) => l.op === 'PutObject');
    assert.ok(ok && ok.status === 200 && ok.denied === undefined, JSON.stringify(ok));

    from = server.logs().length;
    const stranger = new S3Client({
      endpoint: server.url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'whatever-secret' },
      maxAttempts: 1,
    });
    try {
      await assert.rejects(stranger.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x' })), (e: Error) => e.name === 'InvalidAccessKeyId');
    } finally {
      stranger.destroy();
    }
    const refused = (await server.accessLog(from)).find((l) => l.op === 'PutObject');
    assert.ok(refused && refused.s3Code === 'InvalidAccessKeyId' && refused.denied === undefined, JSON.stringify(refused));
  });
});
