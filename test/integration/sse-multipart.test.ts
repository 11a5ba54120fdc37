// Encrypted multipart uploads (issue 13) against a real Strata process with aws-sdk-js: SSE-C (the
// customer's key on every step, as S3 wants it), the refusals of each step (a missing key, a wrong
// key, a key on an unencrypted upload, object-encryption headers on a part), UploadPartCopy from
// encrypted and plain sources, ListParts sizes, ETags, GET ?partNumber and ranges across part and
// 64 KiB package boundaries, abort, a second user and an anonymous caller, and the data directory
// searched for the plaintext. boto3 (newest and Debian's), the AWS CLI and rclone (over HTTPS) at the end.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { BOTO3_PYTHONS, RCLONE, describeRun, isolatedClientEnv, newBucketName, run, runPythonCheck, writeSelfSignedCert } from '../helpers/clients.js';
import { errorOf, testClient, userClients } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';
import type { TestUser } from '../helpers/admin.js';
import { KiB, MiB, PACKAGE, PART, copySourceKey, customerKey, filesHolding, md5hex, patterned, withCliAndBigFile, withHeader } from '../helpers/sse.js';

const SSE_C = customerKey(7);
const OTHER_KEY = customerKey(9);
const COPY_SSE_C = copySourceKey(SSE_C);
const COPY_OTHER_KEY = copySourceKey(OTHER_KEY);

describe('SSE-C multipart uploads (aws-sdk-js)', { timeout: 600_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  let uploader: TestUser;
  const users = userClients(() => server.url);
  const bucket = newBucketName('ssemp');
  const marker = `sse-mp-plaintext-${randomBytes(6).toString('hex')}`;
  // The object: two uploaded parts and a third copied from an SSE-C source's range.
  const part1 = patterned(PART, marker);
  const part2 = patterned(PART, marker);
  const source = patterned(3 * PACKAGE + 11, marker);
  const copyRange = { start: PACKAGE - 3, end: 3 * PACKAGE + 5 };
  const part3 = source.subarray(copyRange.start, copyRange.end + 1);
  const whole = Buffer.concat([part1, part2, part3]);
  let etag: string;

  before(async () => {
    server = await startServer({ args: ['--sse-c-over-http', 'yes'], users: [{ name: 'uploader' }] });
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // The second user may write and read objects and run uploads in this bucket, nothing else.
    await users.admin('POST', 'policies', {
      name: 'mp-writer',
      document: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
            Resource: `arn:aws:s3:::${bucket}/*`,
          },
        ],
      },
    });
    await users.admin('POST', 'policies/mp-writer/attach', { user: 'uploader' });
    uploader = server.users[0]!;
  });
  after(async () => {
    users.destroy();
    s3?.destroy();
    await server?.stop();
  });

  it('CreateMultipartUpload, UploadPart, UploadPartCopy (SSE-C source, a range), ListParts, Complete › headers, sizes, ETags', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'source', Body: source, ...SSE_C }));
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'obj', ...SSE_C }));
    assert.equal(created.SSECustomerAlgorithm, 'AES256');
    assert.equal(created.SSECustomerKeyMD5, SSE_C.SSECustomerKeyMD5);
    const UploadId = created.UploadId!;
    const parts: CompletedPart[] = [];
    for (const [i, body] of [part1, part2].entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'obj', UploadId, PartNumber: i + 1, Body: body, ...SSE_C }));
      assert.equal(r.SSECustomerAlgorithm, 'AES256');
      assert.equal(r.SSECustomerKeyMD5, SSE_C.SSECustomerKeyMD5);
      assert.match(r.ETag!, /^"[0-9a-f]{32}"$/);
      assert.notEqual(r.ETag, `"${md5hex(body)}"`, 'an SSE-C part ETag is not the MD5 of its plaintext');
      parts.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    const copied = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'obj',
        UploadId,
        PartNumber: 3,
        CopySource: `${bucket}/source`,
        CopySourceRange: `bytes=${copyRange.start}-${copyRange.end}`,
        ...SSE_C,
        ...COPY_SSE_C,
      }),
    );
    assert.equal(copied.SSECustomerKeyMD5, SSE_C.SSECustomerKeyMD5);
    assert.notEqual(copied.CopyPartResult?.ETag, `"${md5hex(part3)}"`);
    parts.push({ PartNumber: 3, ETag: copied.CopyPartResult!.ETag! });

    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'obj', UploadId }));
    assert.deepEqual(
      listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
      parts.map((p, i) => [p.PartNumber, [PART, PART, part3.length][i], p.ETag]),
      'ListParts: plaintext sizes',
    );
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'obj', UploadId, MultipartUpload: { Parts: parts }, ...SSE_C }));
    etag = done.ETag!;
    assert.match(etag, /^"[0-9a-f]{32}-3"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'obj', ...SSE_C }));
    assert.equal(head.ContentLength, whole.length);
    assert.equal(head.ETag, etag);
    assert.equal(head.SSECustomerAlgorithm, 'AES256');
    assert.equal(head.SSECustomerKeyMD5, SSE_C.SSECustomerKeyMD5);
  });

  it('GetObject › whole, ?partNumber=N, ranges across part and 64 KiB package boundaries; without / with a wrong key refused', async () => {
    const get = async (extra: { Range?: string; PartNumber?: number }) => {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj', ...SSE_C, ...extra }));
      return { r, bytes: Buffer.from(await r.Body!.transformToByteArray()) };
    };
    const all = await get({});
    assert.ok(all.bytes.equals(whole), 'whole object');
    assert.equal(all.r.SSECustomerKeyMD5, SSE_C.SSECustomerKeyMD5);
    for (const n of [1, 2, 3]) {
      const p = await get({ PartNumber: n });
      assert.equal(p.r.PartsCount, 3);
      assert.ok(p.bytes.equals([part1, part2, part3][n - 1]!), `part ${n}`);
    }
    const ranges: Array<[number, number]> = [
      [PART - 10, PART + 10], // part 1 → part 2
      [PACKAGE - 5, PACKAGE + 5], // a package boundary inside part 1
      [PART + PACKAGE - 1, PART + PACKAGE], // a package boundary inside part 2 (its own packages)
      [PART - 1, PART], // the last byte of part 1, the first of part 2
      [2 * PART - PACKAGE, 2 * PART + PACKAGE + 1], // part 2 → part 3, three packages
      [80 * PACKAGE + 3, 80 * PACKAGE + 3], // the last, short package of part 1 (5 MiB = 80 packages)
      [1000, whole.length - 1000], // across every part
      [whole.length - 1, whole.length - 1],
    ];
    for (const [a, b] of ranges) {
      const r = await get({ Range: `bytes=${a}-${b}` });
      assert.equal(r.r.ContentRange, `bytes ${a}-${b}/${whole.length}`);
      assert.ok(r.bytes.equals(whole.subarray(a, b + 1)), `bytes ${a}-${b}`);
    }
    const suffix = await get({ Range: 'bytes=-100' });
    assert.ok(suffix.bytes.equals(whole.subarray(whole.length - 100)));

    const missing = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj' })));
    assert.equal(missing.$metadata.httpStatusCode, 400);
    assert.equal(missing.name, 'InvalidRequest');
    const wrong = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj', ...OTHER_KEY, Range: 'bytes=0-9' })));
    assert.equal(wrong.$metadata.httpStatusCode, 403);
    assert.equal(wrong.name, 'AccessDenied');
    const partWithout = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj', PartNumber: 2 })));
    assert.equal(partWithout.name, 'InvalidRequest');
  });

  it('the data directory holds no plaintext of the parts (and does hold a plain object’s: the search works)', async () => {
    assert.deepEqual(await filesHolding(server.dataDir, marker), []);
    const plainMarker = `plain-control-${randomBytes(6).toString('hex')}`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'plain' }));
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'plain', UploadId, PartNumber: 1, Body: patterned(300 * KiB, plainMarker) }));
    assert.ok((await filesHolding(server.dataDir, plainMarker)).length > 0, 'the unencrypted part is found by the same search');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'plain', UploadId }));
  });

  it('UploadPart › no key → 400 InvalidRequest, another key → 403, x-amz-server-side-encryption → 400 InvalidArgument; nothing stored', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'refusals', ...SSE_C }));
    const part = { Bucket: bucket, Key: 'refusals', UploadId, PartNumber: 1, Body: 'part bytes' };
    const none = await errorOf(s3.send(new UploadPartCommand(part)));
    assert.equal(none.$metadata.httpStatusCode, 400);
    assert.equal(none.name, 'InvalidRequest');
    assert.match(none.message, /multipart upload initiate requested encryption/);
    const other = await errorOf(s3.send(new UploadPartCommand({ ...part, ...OTHER_KEY })));
    assert.equal(other.$metadata.httpStatusCode, 403);
    assert.equal(other.name, 'AccessDenied');
    const sse = await errorOf(s3.send(withHeader(new UploadPartCommand({ ...part, ...SSE_C }), 'x-amz-server-side-encryption', 'AES256')));
    assert.equal(sse.$metadata.httpStatusCode, 400);
    assert.equal(sse.name, 'InvalidArgument');
    assert.match(sse.message, /x-amz-server-side-encryption header is not supported for this operation/);
    // (The SDK computes the key's MD5 itself: the wrong one is put on the wire by hand.)
    const badMd5 = await errorOf(
      s3.send(withHeader(new UploadPartCommand({ ...part, ...SSE_C }), 'x-amz-server-side-encryption-customer-key-md5', OTHER_KEY.SSECustomerKeyMD5)),
    );
    assert.equal(badMd5.name, 'InvalidArgument');
    assert.match(badMd5.message, /MD5 hash of the key did not match/);
    const copyNone = await errorOf(
      s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'refusals', UploadId, PartNumber: 1, CopySource: `${bucket}/source`, ...COPY_SSE_C })),
    );
    assert.equal(copyNone.name, 'InvalidRequest', 'UploadPartCopy into an SSE-C upload needs its key too');
    assert.deepEqual((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'refusals', UploadId }))).Parts ?? [], []);

    // ListParts and CompleteMultipartUpload take the key optionally; a wrong one is refused.
    await s3.send(new UploadPartCommand({ ...part, ...SSE_C }));
    const listWrong = await errorOf(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'refusals', UploadId, ...OTHER_KEY })));
    assert.equal(listWrong.name, 'AccessDenied');
    assert.equal((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'refusals', UploadId, ...SSE_C }))).Parts?.length, 1);
    const parts = (await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'refusals', UploadId }))).Parts!.map((p) => ({
      PartNumber: p.PartNumber,
      ETag: p.ETag,
    }));
    const complete = { Bucket: bucket, Key: 'refusals', UploadId, MultipartUpload: { Parts: parts } };
    const completeWrong = await errorOf(s3.send(new CompleteMultipartUploadCommand({ ...complete, ...OTHER_KEY })));
    assert.equal(completeWrong.name, 'AccessDenied');
    const completeSse = await errorOf(s3.send(withHeader(new CompleteMultipartUploadCommand(complete), 'x-amz-server-side-encryption', 'AES256')));
    assert.equal(completeSse.name, 'InvalidArgument');
    // Without the key (the AWS CLI's completion sends none): completed, an SSE-C object.
    await s3.send(new CompleteMultipartUploadCommand(complete));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'refusals', ...SSE_C }));
    assert.equal(await got.Body!.transformToString(), 'part bytes');
    assert.equal((await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'refusals' })))).$metadata.httpStatusCode, 400);
  });

  it('an unencrypted upload › a customer key on UploadPart / UploadPartCopy / Complete → 400 InvalidRequest; an SSE-C source needs its own key', async () => {
    const { UploadId, SSECustomerAlgorithm } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'clear' }));
    assert.equal(SSECustomerAlgorithm, undefined);
    const part = { Bucket: bucket, Key: 'clear', UploadId, PartNumber: 1 };
    const keyed = await errorOf(s3.send(new UploadPartCommand({ ...part, Body: 'x', ...SSE_C })));
    assert.equal(keyed.$metadata.httpStatusCode, 400);
    assert.equal(keyed.name, 'InvalidRequest');
    assert.match(keyed.message, /not applicable/);
    const copyKeyed = await errorOf(s3.send(new UploadPartCopyCommand({ ...part, CopySource: `${bucket}/source`, ...SSE_C, ...COPY_SSE_C })));
    assert.equal(copyKeyed.name, 'InvalidRequest');
    // An SSE-C source without its key, with another key: refused; with it: the plaintext lands in the
    // clear upload (random bytes without the marker: the data directory is searched for it later).
    const clearSource = randomBytes(100 * KiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'source-b', Body: clearSource, ...SSE_C }));
    const srcNone = await errorOf(s3.send(new UploadPartCopyCommand({ ...part, CopySource: `${bucket}/source-b` })));
    assert.equal(srcNone.$metadata.httpStatusCode, 400);
    assert.equal(srcNone.name, 'InvalidRequest');
    const srcWrong = await errorOf(s3.send(new UploadPartCopyCommand({ ...part, CopySource: `${bucket}/source-b`, ...COPY_OTHER_KEY })));
    assert.equal(srcWrong.$metadata.httpStatusCode, 403);
    const copied = await s3.send(new UploadPartCopyCommand({ ...part, CopySource: `${bucket}/source-b`, ...COPY_SSE_C }));
    assert.equal(copied.CopyPartResult?.ETag, `"${md5hex(clearSource)}"`, 'a clear part: the MD5 of its plaintext');
    assert.equal(copied.SSECustomerAlgorithm, undefined);
    const parts = [{ PartNumber: 1, ETag: copied.CopyPartResult!.ETag! }];
    const completeKeyed = await errorOf(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'clear', UploadId, MultipartUpload: { Parts: parts }, ...SSE_C })),
    );
    assert.equal(completeKeyed.name, 'InvalidRequest');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'clear', UploadId, MultipartUpload: { Parts: parts } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'clear' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(clearSource));
  });

  it('a plain source copied into an SSE-C upload is sealed; abort frees the upload', async () => {
    const plain = randomBytes(200 * KiB); // stored in the clear: no marker
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain-src', Body: plain }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'from-plain', ...SSE_C }));
    const r = await s3.send(
      new UploadPartCopyCommand({ Bucket: bucket, Key: 'from-plain', UploadId, PartNumber: 1, CopySource: `${bucket}/plain-src`, ...SSE_C }),
    );
    assert.notEqual(r.CopyPartResult?.ETag, `"${md5hex(plain)}"`);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'from-plain', UploadId }));
    const gone = await errorOf(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'from-plain', UploadId })));
    assert.equal(gone.name, 'NoSuchUpload');
  });

  it('the files of two equally large parts swapped on disk › GET refused (not served in the wrong order); swapped back › served', async () => {
    const objects = join(server.dataDir, 'objects');
    const pieceFiles = async () =>
      new Set((await readdir(objects, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)));
    const before = await pieceFiles();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'swapped', ...SSE_C }));
    const p1 = randomBytes(PART);
    const p2 = randomBytes(PART);
    const parts: CompletedPart[] = [];
    for (const [i, body] of [p1, p2].entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'swapped', UploadId, PartNumber: i + 1, Body: body, ...SSE_C }));
      parts.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'swapped', UploadId, MultipartUpload: { Parts: parts } }));
    const [a, b] = [...(await pieceFiles())].filter((f) => !before.has(f));
    assert.ok(a !== undefined && b !== undefined, 'the two part files');
    assert.equal((await stat(a)).size, (await stat(b)).size);
    const swap = async () => {
      await rename(a, `${a}.swap`);
      await rename(b, a);
      await rename(`${a}.swap`, b);
    };
    const read = async (range?: string): Promise<Buffer | Error> => {
      try {
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'swapped', Range: range, ...SSE_C }));
        return Buffer.from(await r.Body!.transformToByteArray());
      } catch (err) {
        return err as Error;
      }
    };
    await swap();
    for (const range of [undefined, 'bytes=0-9', `bytes=${PART + 1}-${PART + 9}`]) {
      const got = await read(range);
      assert.ok(!Buffer.isBuffer(got), `${range ?? 'whole'}: ${Buffer.isBuffer(got) ? `${got.length} bytes served` : ''}`);
    }
    assert.match(server.logs(), /object data damaged: not served/);
    await swap();
    const whole = await read();
    assert.ok(Buffer.isBuffer(whole) && whole.equals(Buffer.concat([p1, p2])), 'swapped back: served');
  });

  it('UploadPartCopy of a range across the parts of an SSE-C multipart object into an upload under another key', async () => {
    const range = { start: PART - PACKAGE - 1, end: PART + PACKAGE + 1 };
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'rekeyed', ...OTHER_KEY }));
    const copy = { Bucket: bucket, Key: 'rekeyed', UploadId, PartNumber: 1, CopySource: `${bucket}/obj`, CopySourceRange: `bytes=${range.start}-${range.end}` };
    // The destination's key for the source: refused (another key than the source's).
    const swapped = await errorOf(s3.send(new UploadPartCopyCommand({ ...copy, ...OTHER_KEY, ...COPY_OTHER_KEY })));
    assert.equal(swapped.name, 'AccessDenied');
    const r = await s3.send(new UploadPartCopyCommand({ ...copy, ...OTHER_KEY, ...COPY_SSE_C }));
    assert.equal(r.SSECustomerKeyMD5, OTHER_KEY.SSECustomerKeyMD5);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'rekeyed',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.CopyPartResult!.ETag }] },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rekeyed', ...OTHER_KEY }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(whole.subarray(range.start, range.end + 1)));
    assert.equal((await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rekeyed', ...SSE_C })))).name, 'AccessDenied');
  });

  it('a second user (policy-bound) › runs an SSE-C upload; reads a root SSE-C object only with its key', async () => {
    const u = users.as(uploader);
    const body = patterned(PART + 100, marker);
    const { UploadId } = await u.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'user-obj', ...OTHER_KEY }));
    const p1 = await u.send(new UploadPartCommand({ Bucket: bucket, Key: 'user-obj', UploadId, PartNumber: 1, Body: body.subarray(0, PART), ...OTHER_KEY }));
    const p2 = await u.send(new UploadPartCommand({ Bucket: bucket, Key: 'user-obj', UploadId, PartNumber: 2, Body: body.subarray(PART), ...OTHER_KEY }));
    await u.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'user-obj',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );
    const mine = await u.send(new GetObjectCommand({ Bucket: bucket, Key: 'user-obj', Range: `bytes=${PART - 2}-${PART + 1}`, ...OTHER_KEY }));
    assert.ok(Buffer.from(await mine.Body!.transformToByteArray()).equals(body.subarray(PART - 2, PART + 2)));
    // Root's object: s3:GetObject is allowed, the key is still needed.
    const without = await errorOf(u.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj' })));
    assert.equal(without.name, 'InvalidRequest');
    const wrong = await errorOf(u.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj', ...OTHER_KEY })));
    assert.equal(wrong.name, 'AccessDenied');
    const withKey = await u.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj', PartNumber: 3, ...SSE_C }));
    assert.ok(Buffer.from(await withKey.Body!.transformToByteArray()).equals(part3));
    // Not allowed by its policy: listing the bucket's uploads.
    const denied = await errorOf(u.send(new ListMultipartUploadsCommand({ Bucket: bucket })));
    assert.equal(denied.$metadata.httpStatusCode, 403);
    assert.equal(denied.name, 'AccessDenied');
  });

  it('an anonymous caller › UploadPart with the right key and GET with it → 403 AccessDenied', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'anon', ...SSE_C }));
    const headers = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': SSE_C.SSECustomerKey,
      'x-amz-server-side-encryption-customer-key-md5': SSE_C.SSECustomerKeyMD5,
    };
    const put = await fetch(`${server.url}/${bucket}/anon?partNumber=1&uploadId=${encodeURIComponent(UploadId!)}`, { method: 'PUT', body: 'x', headers });
    assert.equal(put.status, 403);
    assert.match(await put.text(), /<Code>AccessDenied<\/Code>/);
    const get = await fetch(`${server.url}/${bucket}/obj`, { headers });
    assert.equal(get.status, 403);
    assert.match(await get.text(), /<Code>AccessDenied<\/Code>/);
    assert.deepEqual((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'anon', UploadId }))).Parts ?? [], []);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'anon', UploadId }));
  });

  it('over plain HTTP without --sse-c-over-http › CreateMultipartUpload with SSE-C → 400 InvalidRequest', async () => {
    const plainHttp = await startServer();
    const c = testClient(plainHttp.url);
    try {
      const b = newBucketName('ssemp-http');
      await c.send(new CreateBucketCommand({ Bucket: b }));
      const err = await errorOf(c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k', ...SSE_C })));
      assert.equal(err.$metadata.httpStatusCode, 400);
      assert.equal(err.name, 'InvalidRequest');
      assert.match(err.message, /secure connection/);
    } finally {
      c.destroy();
      await plainHttp.stop();
    }
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › sse_multipart.py: SSE-C create/parts/copy/complete, upload_file and download_file (ranged), refusals`, async (t) => {
      const r = await runPythonCheck(python, 'sse_multipart.py', server, { bucket: newBucketName('ssemp-py'), timeoutMs: 300_000 });
      t.diagnostic(r.stdout.split('\n')[0] ?? '');
    });
  }

  it('AWS CLI › aws s3 cp --sse-c AES256 --sse-c-key of a 12 MiB file (multipart) and back; without the key it fails', async () => {
    await withCliAndBigFile(server, marker, async ({ aws, s3api }, { dir, bucket: b, data }) => {
      const keyFile = join(dir, 'key.bin');
      await writeFile(keyFile, Buffer.from(SSE_C.SSECustomerKey, 'base64'));
      await aws(['s3', 'cp', 'big.bin', `s3://${b}/big.bin`, '--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`]);
      const head = await s3api([
        'head-object',
        '--bucket',
        b,
        '--key',
        'big.bin',
        '--sse-customer-algorithm',
        'AES256',
        '--sse-customer-key',
        `fileb://${keyFile}`,
      ]);
      assert.equal(head.ContentLength, data.length);
      assert.match(head.ETag, /-\d+"$/, 'uploaded in parts');
      await aws(['s3', 'cp', `s3://${b}/big.bin`, 'back.bin', '--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`]);
      assert.ok((await readFile(join(dir, 'back.bin'))).equals(data));
      await aws(['s3', 'cp', `s3://${b}/big.bin`, 'nokey.bin'], { expectFailure: true });
    });
  });

  it('rclone over HTTPS (no --sse-c-over-http) › copyto with sse_customer_key_base64 of an 11 MiB file in 5 MiB chunks and back; without the key nothing is served', async () => {
    const { env: base, dir, cleanup } = await isolatedClientEnv();
    const certDir = join(dir, 'certs');
    await mkdir(certDir);
    await writeSelfSignedCert(certDir);
    const tlsServer = await startServer({ args: ['--certs', certDir], tls: true });
    try {
      const env = {
        ...Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('RCLONE_'))),
        RCLONE_CONFIG: join(dir, 'rclone.conf'),
        RCLONE_CA_CERT: join(certDir, 'public.crt'),
        RCLONE_CONFIG_STRATA_TYPE: 's3',
        RCLONE_CONFIG_STRATA_PROVIDER: 'Other',
        RCLONE_CONFIG_STRATA_ACCESS_KEY_ID: ACCESS_KEY,
        RCLONE_CONFIG_STRATA_SECRET_ACCESS_KEY: SECRET_KEY,
        RCLONE_CONFIG_STRATA_ENDPOINT: tlsServer.url,
        RCLONE_CONFIG_STRATA_REGION: REGION,
        RCLONE_CONFIG_STRATA_UPLOAD_CUTOFF: '5M',
        RCLONE_CONFIG_STRATA_CHUNK_SIZE: '5M',
      };
      const keyed = { ...env, RCLONE_CONFIG_STRATA_SSE_CUSTOMER_ALGORITHM: 'AES256', RCLONE_CONFIG_STRATA_SSE_CUSTOMER_KEY_BASE64: SSE_C.SSECustomerKey };
      await writeFile(join(dir, 'rclone.conf'), '');
      const rclone = async (args: string[], e: NodeJS.ProcessEnv) => {
        const r = await run(RCLONE, args, { env: e, timeoutMs: 120_000, cwd: dir });
        assert.equal(r.code, 0, `${describeRun(`rclone ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${tlsServer.logs().slice(-3000)}`);
      };
      const b = newBucketName('ssemp-rclone');
      await rclone(['mkdir', `strata:${b}`], env);
      const data = patterned(11 * MiB + 9, marker);
      await writeFile(join(dir, 'big.bin'), data);
      const from = tlsServer.logs().length;
      await rclone(['copyto', 'big.bin', `strata:${b}/rclone.bin`], keyed);
      const ops = (await tlsServer.accessLog(from)).map((l) => `${l.op} ${l.status}`);
      assert.deepEqual(
        ops.filter((o) => o.startsWith('UploadPart')),
        ['UploadPart 200', 'UploadPart 200', 'UploadPart 200'],
        ops.join(', '),
      );
      await rclone(['copyto', `strata:${b}/rclone.bin`, 'back.bin'], keyed);
      assert.ok((await readFile(join(dir, 'back.bin'))).equals(data));
      // Without the key: rclone's HEAD is refused (400 InvalidRequest), rclone then takes the name for a
      // directory and prints nothing; no byte is served either way.
      const before = tlsServer.logs().length;
      const cat = await run(RCLONE, ['cat', `strata:${b}/rclone.bin`], { env, timeoutMs: 120_000, cwd: dir });
      assert.equal(cat.stdout, '', describeRun('rclone cat without the key', cat));
      const refused = (await tlsServer.accessLog(before)).map((l) => `${l.op} ${l.status} ${l.s3Code ?? ''}`.trim());
      assert.ok(refused.includes('HeadObject 400 InvalidRequest'), refused.join(', '));
      assert.ok(!refused.some((l) => l.startsWith('GetObject 2')), refused.join(', '));
      assert.deepEqual(await filesHolding(tlsServer.dataDir, marker), []);
    } finally {
      await tlsServer.stop();
      await cleanup();
    }
  });
});
