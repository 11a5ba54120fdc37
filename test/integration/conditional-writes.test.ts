// Conditional writes (S3 2024: If-None-Match: * and If-Match on PutObject, CompleteMultipartUpload
// and CopyObject) against a real Strata process: the race that lock files and table commit
// protocols rely on (50 writers, one winner) with raw signed requests over 3 keep-alive
// connections, and each condition through aws-sdk-js v3.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { newBucketName } from '../helpers/clients.js';
import { errorOf, testClient, testSigner } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const md5 = (b: Buffer | string) => `"${createHash('md5').update(b).digest('hex')}"`;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface Answer {
  status: number;
  body: string;
  socket: Socket;
}

describe('conditional writes', () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('cond');

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  /** A SigV4-signed PUT of `body` to bucket/key with extra headers, through `agent`. */
  async function signedPut(agent: http.Agent, key: string, body: string, extra: Record<string, string>): Promise<Answer> {
    const path = `/${bucket}/${key}`;
    const signed = await testSigner.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: server.host,
      port: server.port,
      path,
      query: {},
      headers: {
        host: `${server.host}:${server.port}`,
        'content-length': String(Buffer.byteLength(body)),
        'x-amz-content-sha256': sha256(body),
        ...extra,
      },
      body,
    });
    return new Promise<Answer>((resolve, reject) => {
      const req = http.request(
        { host: server.host, port: server.port, method: 'PUT', path, headers: signed.headers as Record<string, string>, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), socket: req.socket! }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it("PutObject › 50 concurrent If-None-Match: * to one new key over 3 keep-alive connections → exactly one 200, 49 × 412 PreconditionFailed; GET returns the winner's body", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
    try {
      const key = 'race/lockfile';
      // 32 KiB each, so the writers' data writes overlap and the commit is where they race.
      const bodies = Array.from({ length: 50 }, (_, i) => `writer ${i}: ${randomBytes(16 * 1024).toString('hex')}\n`);
      const answers = await Promise.all(bodies.map((b) => signedPut(agent, key, b, { 'if-none-match': '*' })));

      assert.equal(new Set(answers.map((a) => a.socket)).size, 3, 'the 50 requests share 3 connections');
      const winners = answers.flatMap((a, i) => (a.status === 200 ? [i] : []));
      assert.equal(winners.length, 1, `statuses: ${answers.map((a) => a.status).join(' ')}`);
      const losers = answers.filter((a) => a.status !== 200);
      assert.equal(losers.length, 49);
      for (const a of losers) {
        assert.equal(a.status, 412, a.body);
        assert.match(a.body, /<Code>PreconditionFailed<\/Code>/);
        assert.match(a.body, /<Condition>If-None-Match<\/Condition>/, 'the failed condition is named');
      }

      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(await got.Body!.transformToString(), bodies[winners[0]!]);
      assert.equal(got.ETag, md5(bodies[winners[0]!]!));
    } finally {
      agent.destroy();
    }
  });

  it('PutObject › If-None-Match: * on a missing key → 200; again on the now existing key → 412, body unchanged', async () => {
    const key = 'inm/once.txt';
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', IfNoneMatch: '*' }));
    assert.equal(put.ETag, md5('first'));
    const err = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfNoneMatch: '*' })));
    assert.equal(err.name, 'PreconditionFailed');
    assert.equal(err.$metadata.httpStatusCode, 412);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(await got.Body!.transformToString(), 'first');
  });

  it('PutObject › If-Match with the current ETag → 200; with a stale ETag → 412, object unchanged; on a missing key → 404 NoSuchKey', async () => {
    const key = 'im/cas.txt';
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'version 1' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'version 2', IfMatch: v1.ETag }));
    assert.equal(v2.ETag, md5('version 2'));

    const stale = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'version 3', IfMatch: v1.ETag })));
    assert.equal(stale.name, 'PreconditionFailed');
    assert.equal(stale.$metadata.httpStatusCode, 412);
    assert.equal((stale as unknown as { Condition?: string }).Condition, 'If-Match');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ETag, v2.ETag);

    const missing = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'im/missing.txt', Body: 'x', IfMatch: v1.ETag })));
    assert.equal(missing.name, 'NoSuchKey');
    assert.equal(missing.$metadata.httpStatusCode, 404);
    const absent = await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'im/missing.txt' })));
    assert.equal(absent.$metadata.httpStatusCode, 404);
  });

  it('PutObject › If-None-Match with an ETag value → 501 NotImplemented naming the header (AWS accepts only *), raw and aws-sdk-js; nothing written', async () => {
    const key = 'inm/etag-value.txt';
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v1' }));
    const agent = new http.Agent({ keepAlive: false });
    try {
      for (const value of [v1.ETag!, '"0123456789abcdef0123456789abcdef"', 'W/"x"']) {
        const a = await signedPut(agent, key, 'v2', { 'if-none-match': value });
        assert.equal(a.status, 501, a.body);
        assert.match(a.body, /<Code>NotImplemented<\/Code>/);
        assert.match(a.body, /<Message>A header you provided implies functionality that is not implemented<\/Message>/);
        assert.match(a.body, /<Header>If-None-Match<\/Header>/);
        assert.match(a.body, /<additionalMessage>We don(&apos;|')t accept the provided value of If-None-Match header for this API<\/additionalMessage>/);
      }
    } finally {
      agent.destroy();
    }
    const err = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v3', IfNoneMatch: v1.ETag })));
    assert.equal(err.name, 'NotImplemented');
    assert.equal(err.$metadata.httpStatusCode, 501);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(await got.Body!.transformToString(), 'v1');
  });

  it('PutObject › If-Match: * on an existing key (any ETag) → 200, replaced; on a missing key → 404 NoSuchKey, nothing created', async () => {
    const key = 'im/star.txt';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first' }));
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfMatch: '*' }));
    assert.equal(put.ETag, md5('second'));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(await got.Body!.transformToString(), 'second');

    const missing = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'im/star-missing.txt', Body: 'x', IfMatch: '*' })));
    assert.equal(missing.name, 'NoSuchKey');
    assert.equal(missing.$metadata.httpStatusCode, 404);
    const absent = await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'im/star-missing.txt' })));
    assert.equal(absent.$metadata.httpStatusCode, 404);
  });

  it('CompleteMultipartUpload › If-Match: current ETag or * → 200; stale ETag → 412; If-Match on a missing key → 404 NoSuchKey; If-None-Match: <etag> → 501; the upload survives every refusal', async () => {
    const key = 'mpu/if-match.bin';
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v1' }));
    const upload = async (k: string) => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: k }));
      const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: k, UploadId, PartNumber: 1, Body: `mpu of ${k}` }));
      return { UploadId: UploadId!, MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] } };
    };
    const u = await upload(key);
    const stale = await errorOf(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, ...u, IfMatch: md5('other') })));
    assert.equal(stale.name, 'PreconditionFailed');
    assert.equal(stale.$metadata.httpStatusCode, 412);
    const inm = await errorOf(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, ...u, IfNoneMatch: v1.ETag })));
    assert.equal(inm.name, 'NotImplemented');
    assert.equal(inm.$metadata.httpStatusCode, 501);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, ...u, IfMatch: v1.ETag }));
    assert.match(done.ETag ?? '', /-1"$/);

    const u2 = await upload(key);
    const star = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, ...u2, IfMatch: '*' }));
    assert.match(star.ETag ?? '', /-1"$/);

    const missingKey = 'mpu/if-match-missing.bin';
    const u3 = await upload(missingKey);
    for (const IfMatch of ['*', v1.ETag!]) {
      const missing = await errorOf(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: missingKey, ...u3, IfMatch })));
      assert.equal(missing.name, 'NoSuchKey', IfMatch);
      assert.equal(missing.$metadata.httpStatusCode, 404);
    }
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: missingKey }));
    assert.deepEqual(
      listed.Uploads?.map((x) => x.UploadId),
      [u3.UploadId],
    );
  });

  it('CompleteMultipartUpload › If-None-Match: * on an existing key → 412, the upload is still listed; complete without the condition → 200, object replaced', async () => {
    const key = 'mpu/existing.bin';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'already here' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const data = randomBytes(64 * 1024);
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: data }));
    const parts = { Parts: [{ ETag: part.ETag, PartNumber: 1 }] };

    const err = await errorOf(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: parts, IfNoneMatch: '*' })));
    assert.equal(err.name, 'PreconditionFailed');
    assert.equal(err.$metadata.httpStatusCode, 412);
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    assert.deepEqual(
      listed.Uploads?.map((u) => u.UploadId),
      [UploadId],
    );
    const unchanged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(await unchanged.Body!.transformToString(), 'already here');

    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: parts }));
    assert.match(done.ETag ?? '', /-1"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    assert.equal(after.Uploads, undefined);
  });

  it('CompleteMultipartUpload › If-None-Match: * on a new key → 200, object created', async () => {
    const key = 'mpu/new.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'only part' }));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] },
        IfNoneMatch: '*',
      }),
    );
    assert.equal(done.$metadata.httpStatusCode, 200);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(await got.Body!.transformToString(), 'only part');
  });

  it('CopyObject › If-None-Match: * onto an existing key → 412, destination unchanged; onto a new key → 200', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy/src.txt', Body: 'source' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy/dst.txt', Body: 'destination' }));
    const err = await errorOf(
      s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'copy/dst.txt',
          CopySource: `${bucket}/copy/src.txt`,
          IfNoneMatch: '*',
        }),
      ),
    );
    assert.equal(err.name, 'PreconditionFailed');
    assert.equal(err.$metadata.httpStatusCode, 412);
    const dst = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy/dst.txt' }));
    assert.equal(await dst.Body!.transformToString(), 'destination');

    const ok = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copy/new.txt',
        CopySource: `${bucket}/copy/src.txt`,
        IfNoneMatch: '*',
      }),
    );
    assert.equal(ok.CopyObjectResult?.ETag, md5('source'));
    const fresh = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy/new.txt' }));
    assert.equal(await fresh.Body!.transformToString(), 'source');
  });
});
