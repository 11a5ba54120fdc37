// Multipart uploads with SSE-S3 and SSE-KMS (issue 13) against a real Strata process with the
// built-in key service: one data key per upload, every part sealed with it; the headers of each
// step's answer; part ETags (SSE-S3: the MD5 of the plaintext; SSE-KMS: not); parts take no
// encryption headers (x-amz-server-side-encryption → InvalidArgument, an SSE-C key →
// InvalidRequest); UploadPartCopy from an SSE-S3 source; ranges across part and package boundaries,
// ?partNumber; a master key rotated mid-upload, a disabled one refused; --sse-default AES256 on
// uploads without headers; the data directory searched for the plaintext. aws-sdk-js, boto3
// (newest and Debian's), the AWS CLI (`aws s3 cp --sse AES256`, `--sse aws:kms --sse-kms-key-id`).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type CreateMultipartUploadCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { BOTO3_PYTHONS, newBucketName, runPythonCheck } from '../helpers/clients.js';
import { errorOf, testClient, userClients } from '../helpers/s3.js';
import { REGION, startServer, type RunningServer } from '../helpers/server.js';
import { KiB, PACKAGE, PART, customerKey, filesHolding, md5hex, patterned, withCliAndBigFile, withHeader } from '../helpers/sse.js';

const arn = (id: string) => `arn:aws:kms:${REGION}:000000000000:key/${id}`;
const CONTEXT = Buffer.from(JSON.stringify({ project: 'strata', purpose: 'multipart' })).toString('base64');

describe('SSE-S3 and SSE-KMS multipart uploads (aws-sdk-js, built-in key service)', { timeout: 600_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const users = userClients(() => server.url);
  const bucket = newBucketName('ssemp-kms');
  const marker = `sse-kms-mp-plaintext-${randomBytes(6).toString('hex')}`;
  let defaultKeyId: string;

  before(async () => {
    // SSE-C over HTTP allowed, so that an SSE-C key on a part is refused for what it is, not for the transport.
    server = await startServer({ kms: true, args: ['--sse-c-over-http', 'yes'] });
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    assert.equal((await users.admin('POST', 'kms/keys', { keyId: 'mp-key' })).status, 200);
    defaultKeyId = server.kmsKey!.split(':')[0]!;
  });
  after(async () => {
    users.destroy();
    s3?.destroy();
    await server?.stop();
  });

  const modes: Array<{ label: string; create: Partial<CreateMultipartUploadCommandInput>; sse: string; keyId?: () => string; etagIsMd5: boolean }> = [
    { label: 'SSE-S3 (AES256)', create: { ServerSideEncryption: 'AES256' }, sse: 'AES256', etagIsMd5: true },
    { label: 'SSE-KMS, the default key', create: { ServerSideEncryption: 'aws:kms' }, sse: 'aws:kms', keyId: () => defaultKeyId, etagIsMd5: false },
    {
      label: 'SSE-KMS, a named key by ARN, a context, bucket key',
      create: { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: arn('mp-key'), SSEKMSEncryptionContext: CONTEXT, BucketKeyEnabled: true },
      sse: 'aws:kms',
      keyId: () => 'mp-key',
      etagIsMd5: false,
    },
  ];

  for (const [m, mode] of modes.entries()) {
    it(`${mode.label} › create, parts, part copy, ListParts, complete; GET ranges and ?partNumber; no plaintext on disk`, async () => {
      const key = `obj-${m}`;
      const source = patterned(2 * PACKAGE + 99, marker);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `src-${m}`, Body: source, ServerSideEncryption: 'AES256' }));
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...mode.create }));
      assert.equal(created.ServerSideEncryption, mode.sse);
      assert.equal(created.SSEKMSKeyId, mode.keyId ? arn(mode.keyId()) : undefined);
      if (mode.create.SSEKMSEncryptionContext) {
        assert.equal(created.SSEKMSEncryptionContext, CONTEXT);
        assert.equal(created.BucketKeyEnabled, true);
      }
      const UploadId = created.UploadId!;
      const p1 = patterned(PART, marker);
      const p2 = patterned(PART, marker);
      const parts: CompletedPart[] = [];
      for (const [i, body] of [p1, p2].entries()) {
        const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body }));
        assert.equal(r.ServerSideEncryption, mode.sse);
        assert.equal(r.SSEKMSKeyId, mode.keyId ? arn(mode.keyId()) : undefined);
        assert.equal(r.ETag === `"${md5hex(body)}"`, mode.etagIsMd5, `part ETag ${r.ETag}`);
        parts.push({ PartNumber: i + 1, ETag: r.ETag! });
      }
      const copied = await s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: 3,
          CopySource: `${bucket}/src-${m}`,
          CopySourceRange: `bytes=5-${2 * PACKAGE + 2}`,
        }),
      );
      const p3 = source.subarray(5, 2 * PACKAGE + 3);
      assert.equal(copied.ServerSideEncryption, mode.sse);
      assert.equal(copied.CopyPartResult!.ETag === `"${md5hex(p3)}"`, mode.etagIsMd5);
      parts.push({ PartNumber: 3, ETag: copied.CopyPartResult!.ETag! });
      const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
      assert.deepEqual(
        listed.Parts?.map((p) => p.Size),
        [PART, PART, p3.length],
      );
      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
      assert.equal(done.ServerSideEncryption, mode.sse);
      assert.equal(done.SSEKMSKeyId, mode.keyId ? arn(mode.keyId()) : undefined);
      assert.match(done.ETag!, /-3"$/);

      const whole = Buffer.concat([p1, p2, p3]);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(head.ServerSideEncryption, mode.sse);
      assert.equal(head.ContentLength, whole.length);
      const all = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.ok(Buffer.from(await all.Body!.transformToByteArray()).equals(whole));
      for (const [a, b] of [
        [PART - 3, PART + 3],
        [PART + 2 * PACKAGE - 1, PART + 2 * PACKAGE],
        [2 * PART - PACKAGE - 1, 2 * PART + PACKAGE + 1],
        [whole.length - 2, whole.length - 1],
      ] as const) {
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${a}-${b}` }));
        assert.ok(Buffer.from(await r.Body!.transformToByteArray()).equals(whole.subarray(a, b + 1)), `bytes ${a}-${b}`);
      }
      const second = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2 }));
      assert.equal(second.PartsCount, 3);
      assert.ok(Buffer.from(await second.Body!.transformToByteArray()).equals(p2));
      assert.deepEqual(await filesHolding(server.dataDir, marker), []);
    });
  }

  it('parts take no encryption headers › x-amz-server-side-encryption → 400 InvalidArgument, an SSE-C key → 400 InvalidRequest', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'hdrs', ServerSideEncryption: 'AES256' }));
    const part = { Bucket: bucket, Key: 'hdrs', UploadId, PartNumber: 1, Body: 'part' };
    const sse = await errorOf(s3.send(withHeader(new UploadPartCommand(part), 'x-amz-server-side-encryption', 'AES256')));
    assert.equal(sse.$metadata.httpStatusCode, 400);
    assert.equal(sse.name, 'InvalidArgument');
    const kmsKey = await errorOf(s3.send(withHeader(new UploadPartCommand(part), 'x-amz-server-side-encryption-aws-kms-key-id', 'mp-key')));
    assert.equal(kmsKey.name, 'InvalidArgument');
    const ssec = await errorOf(s3.send(new UploadPartCommand({ ...part, ...customerKey(3) })));
    assert.equal(ssec.$metadata.httpStatusCode, 400);
    assert.equal(ssec.name, 'InvalidRequest');
    assert.match(ssec.message, /not applicable/);
    const copy = await errorOf(
      s3.send(
        withHeader(new UploadPartCopyCommand({ ...part, Body: undefined, CopySource: `${bucket}/src-0` } as never), 'x-amz-server-side-encryption', 'AES256'),
      ),
    );
    assert.equal(copy.name, 'InvalidArgument');
    assert.deepEqual((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'hdrs', UploadId }))).Parts ?? [], []);
  });

  it('a master key rotated between parts: every part still opens; disabled: UploadPart and GET refused (KMS.DisabledException), enabled again: served', async () => {
    assert.equal((await users.admin('POST', 'kms/keys', { keyId: 'rot-key' })).status, 200);
    const create = { Bucket: bucket, Key: 'rotated', ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: 'rot-key' };
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand(create));
    const p1 = randomBytes(PART);
    const p2 = randomBytes(1000);
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'rotated', UploadId, PartNumber: 1, Body: p1 }))).ETag;
    assert.equal((await users.admin('POST', 'kms/keys/rot-key/rotate')).status, 200);
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'rotated', UploadId, PartNumber: 2, Body: p2 }))).ETag;
    assert.equal((await users.admin('POST', 'kms/keys/rot-key/disable')).status, 200);
    const disabled = await errorOf(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'rotated', UploadId, PartNumber: 3, Body: 'x' })));
    assert.equal(disabled.name, 'KMS.DisabledException');
    assert.equal(disabled.$metadata.httpStatusCode, 400);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'rotated',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1 },
            { PartNumber: 2, ETag: e2 },
          ],
        },
      }),
    );
    const refused = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rotated' })));
    assert.equal(refused.name, 'KMS.DisabledException');
    assert.equal((await users.admin('POST', 'kms/keys/rot-key/enable')).status, 200);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rotated', Range: `bytes=${PART - 5}-${PART + 5}` }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([p1, p2]).subarray(PART - 5, PART + 6)));
  });

  it('SSE-KMS with a key that does not exist › CreateMultipartUpload → 400 KMS.NotFoundException, no upload', async () => {
    const err = await errorOf(
      s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'nokey', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'no-such-key' })),
    );
    assert.equal(err.name, 'KMS.NotFoundException');
    assert.equal(err.$metadata.httpStatusCode, 400);
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › sse_multipart_kms.py: upload_file / download_file with SSE-S3 and SSE-KMS, part refusals`, async (t) => {
      const r = await runPythonCheck(python, 'sse_multipart_kms.py', server, { bucket: newBucketName('ssemp-kpy'), timeoutMs: 300_000 });
      t.diagnostic(r.stdout.split('\n')[0] ?? '');
    });
  }

  it('AWS CLI › aws s3 cp --sse AES256 and --sse aws:kms --sse-kms-key-id of a 12 MiB file (multipart) and back', async () => {
    await withCliAndBigFile(server, marker, async ({ aws, s3api }, { dir, bucket: b, data }) => {
      for (const [name, flags, sse] of [
        ['s3.bin', ['--sse', 'AES256'], 'AES256'],
        ['kms.bin', ['--sse', 'aws:kms', '--sse-kms-key-id', 'mp-key'], 'aws:kms'],
      ] as const) {
        await aws(['s3', 'cp', 'big.bin', `s3://${b}/${name}`, ...flags]);
        const head = await s3api(['head-object', '--bucket', b, '--key', name]);
        assert.equal(head.ServerSideEncryption, sse);
        assert.match(head.ETag, /-\d+"$/, 'uploaded in parts');
        await aws(['s3', 'cp', `s3://${b}/${name}`, `back-${name}`]);
        assert.ok((await readFile(join(dir, `back-${name}`))).equals(data), name);
      }
    });
  });
});

describe('--sse-default AES256: a multipart upload without headers is SSE-S3', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  before(async () => {
    server = await startServer({ kms: true, args: ['--sse-default', 'AES256'] });
    s3 = testClient(server.url);
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('CreateMultipartUpload, UploadPart, Complete, HEAD › x-amz-server-side-encryption: AES256; no plaintext on disk', async () => {
    const bucket = newBucketName('ssemp-def');
    const marker = `sse-default-mp-${randomBytes(6).toString('hex')}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k' }));
    assert.equal(created.ServerSideEncryption, 'AES256');
    const body = patterned(300 * KiB, marker);
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId: created.UploadId, PartNumber: 1, Body: body }));
    assert.equal(part.ServerSideEncryption, 'AES256');
    assert.equal(part.ETag, `"${md5hex(body)}"`, 'SSE-S3: the MD5 of the plaintext');
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: created.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    assert.equal(done.ServerSideEncryption, 'AES256');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).ServerSideEncryption, 'AES256');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    assert.deepEqual(await filesHolding(server.dataDir, marker), []);
  });
});
