// Large objects through the round-two write and read paths (2 MiB write batches, MD5 and block
// checksums on a worker thread, blocks checked off the event loop on GET): aws-sdk-js PUTs, copies
// and part copies of several MiB keep S3's ETags (the MD5 of the bytes), ranges across block
// boundaries read back exactly, a wrong Content-MD5 stores nothing, and an anonymous caller reads
// nothing of a private bucket. A damaged block in the middle of a large object fails the GET
// (the connection is cut) instead of serving its bytes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { newBucketName } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const md5Hex = (b: Buffer): string => createHash('md5').update(b).digest('hex');

describe('large objects (round two: batched writes, hashing off the event loop)', () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('large');
  const body = randomBytes(9 * MiB + 333);

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('PUT 9 MiB with Content-MD5 → ETag is the MD5; whole GET and a range across blocks 2–4 read back exactly', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: body, ContentMD5: createHash('md5').update(body).digest('base64') }));
    assert.equal(put.ETag, `"${md5Hex(body)}"`);
    const whole = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' }))).Body!.transformToByteArray());
    assert.ok(whole.equals(body));
    const from = 2 * MiB - 5;
    const to = 4 * MiB + 9;
    const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big', Range: `bytes=${from}-${to}` }));
    assert.ok(Buffer.from(await range.Body!.transformToByteArray()).equals(body.subarray(from, to + 1)));
  });

  it('a wrong Content-MD5 on 3 MiB → 400 BadDigest, no object', async () => {
    const e = await errorOf(
      s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'bad', Body: body.subarray(0, 3 * MiB), ContentMD5: createHash('md5').update('x').digest('base64') }),
      ),
    );
    assert.equal(e.name, 'BadDigest');
    assert.equal(e.$metadata.httpStatusCode, 400);
    assert.equal((await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad' })))).$metadata.httpStatusCode, 404);
  });

  it('CopyObject of 9 MiB → the MD5 ETag; UploadPartCopy of a 5 MiB range → the part ETag is its MD5; the completed copy reads back', async () => {
    const copy = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/big` }));
    assert.equal(copy.CopyObjectResult?.ETag, `"${md5Hex(body)}"`);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'parts' }));
    const part = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'parts',
        UploadId,
        PartNumber: 1,
        CopySource: `${bucket}/big`,
        CopySourceRange: `bytes=${MiB}-${6 * MiB - 1}`,
      }),
    );
    assert.equal(part.CopyPartResult?.ETag, `"${md5Hex(body.subarray(MiB, 6 * MiB))}"`);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'parts',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag }] },
      }),
    );
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'parts' }))).Body!.transformToByteArray());
    assert.ok(got.equals(body.subarray(MiB, 6 * MiB)));
  });

  it('an anonymous GET of the private 9 MiB object → 403 AccessDenied', async () => {
    const res = await fetch(`${server.url}/${bucket}/big`);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /<Code>AccessDenied<\/Code>/);
  });

  it('a damaged byte in block 6 of a 9 MiB object → the GET fails before block 6: never its bytes, never a clean short body', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rot', Body: body }));
    // The object's only piece is the newest file under objects/.
    const objects = join(server.dataDir, 'objects');
    let newest = { path: '', mtime: 0 };
    for (const shard of await readdir(objects)) {
      for (const name of await readdir(join(objects, shard))) {
        const fh = await open(join(objects, shard, name), 'r');
        const st = await fh.stat();
        await fh.close();
        if (st.mtimeMs >= newest.mtime) newest = { path: join(objects, shard, name), mtime: st.mtimeMs };
      }
    }
    const fh = await open(newest.path, 'r+');
    const at = 32 + 6 * MiB + 1234; // piece header (32 bytes), then the data
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    await fh.write(Buffer.from([b[0]! ^ 0xff]), 0, 1, at);
    await fh.close();
    const got: Buffer[] = [];
    await assert.rejects(async () => {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot' }));
      for await (const chunk of res.Body as AsyncIterable<Uint8Array>) got.push(Buffer.from(chunk));
    });
    const served = Buffer.concat(got);
    assert.ok(served.length <= 6 * MiB, `${served.length} bytes served`);
    assert.ok(served.equals(body.subarray(0, served.length)), 'only verified bytes were served');
  });
});
