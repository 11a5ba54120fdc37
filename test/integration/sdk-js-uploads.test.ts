// Uploads with aws-sdk-js v3 at its defaults (2025 checksum defaults: stream bodies go aws-chunked
// with a trailing CRC32, Buffer bodies carry x-amz-checksum-crc32), @aws-sdk/lib-storage, and
// presigned URLs from @aws-sdk/s3-request-presigner used with fetch: GET, PUT, a presigned
// multipart upload, response-content-disposition, expiry, and the one-week limit.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { newBucketName } from '../helpers/clients.js';
import { testClient } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const etagOf = (b: Buffer) => `"${md5(b).toString('hex')}"`;
const multipartEtag = (parts: Buffer[]) =>
  `"${createHash('md5')
    .update(Buffer.concat(parts.map(md5)))
    .digest('hex')}-${parts.length}"`;
const crc32b64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b));
  return out.toString('base64');
};

/** Splits `b` into parts of `size` (the last one shorter). */
function slices(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

interface SentRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

describe('aws-sdk-js v3 uploads and presigned URLs', () => {
  let server: RunningServer;
  let s3: S3Client;
  let work: string;
  const bucket = newBucketName('sdk-uploads');
  /** Every request the client sent, as signed (recorded at the deserialize step, just before the wire). */
  const sent: SentRequest[] = [];

  before(async () => {
    server = await startServer();
    work = await mkdtemp(join(tmpdir(), 'strata-sdk-uploads-'));
    s3 = testClient(server.url);
    s3.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { method: string; path: string; headers: Record<string, string> };
        sent.push({ method: req.method, path: req.path, headers: { ...req.headers } });
        return next(args);
      },
      { step: 'deserialize', name: 'strataRecordRequests' },
    );
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The last recorded request for `key`. */
  const lastSentFor = (key: string) => [...sent].reverse().find((r) => decodeURIComponent(r.path).endsWith(`/${key}`))!;

  it('PutObject › stream body (fs.createReadStream, defaults) → aws-chunked with a trailing CRC32; GET byte-equal, MD5 ETag, stored CRC32', async () => {
    const data = randomBytes(3 * MiB + 17);
    const file = join(work, 'stream.bin');
    await writeFile(file, data);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put/stream.bin', Body: createReadStream(file) }));
    assert.equal(put.ETag, etagOf(data));
    assert.equal(put.ChecksumCRC32, crc32b64(data));
    const req = lastSentFor('put/stream.bin');
    assert.equal(req.headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    assert.match(req.headers['content-encoding'] ?? '', /aws-chunked/);
    assert.equal(req.headers['x-amz-trailer'], 'x-amz-checksum-crc32');
    assert.equal(req.headers['x-amz-decoded-content-length'], String(data.length));

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'put/stream.bin', ChecksumMode: 'ENABLED' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    assert.equal(got.ContentEncoding, undefined, 'aws-chunked must not be stored as Content-Encoding');
    assert.equal(got.ChecksumCRC32, crc32b64(data));
  });

  it('PutObject › Buffer body (defaults) → x-amz-checksum-crc32 header and signed SHA-256 payload; GET byte-equal, MD5 ETag', async () => {
    const data = randomBytes(256 * 1024 + 3);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put/buffer.bin', Body: data }));
    assert.equal(put.ETag, etagOf(data));
    const req = lastSentFor('put/buffer.bin');
    assert.equal(req.headers['x-amz-checksum-crc32'], crc32b64(data));
    assert.equal(req.headers['x-amz-content-sha256'], sha256hex(data));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'put/buffer.bin' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    assert.equal(got.ContentLength, data.length);
  });

  it('lib-storage Upload › 50 MiB from a stream, partSize 8 MiB, queueSize 4 → 7 parts; GET byte-equal, ETag md5(md5s)-7', { timeout: 120_000 }, async () => {
    const pattern = randomBytes(MiB + 4093);
    const data = Buffer.alloc(50 * MiB);
    for (let off = 0; off < data.length; off += pattern.length) pattern.copy(data, off);
    // Irregular chunk sizes, unknown total length: lib-storage has to cut the parts itself.
    const body = Readable.from(
      (function* () {
        for (let off = 0, n = 0; off < data.length; n++) {
          const len = 65_536 + (n % 7) * 1_000;
          yield data.subarray(off, off + len);
          off += len;
        }
      })(),
    );
    const mark = server.logs().length;
    const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: 'lib-storage/50mib.bin', Body: body }, partSize: 8 * MiB, queueSize: 4 });
    const done = await upload.done();
    assert.equal(done.ETag, multipartEtag(slices(data, 8 * MiB)));

    const parts = server
      .logs()
      .slice(mark)
      .split('\n')
      .filter((l) => l.includes('"op":"UploadPart"') && l.includes('"status":200'));
    assert.equal(parts.length, 7);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'lib-storage/50mib.bin' }));
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of got.Body as Readable) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    assert.equal(size, data.length);
    assert.equal(hash.digest('hex'), sha256hex(data));
  });

  it('getSignedUrl › PutObject then GetObject URLs with fetch → PUT 200 with the MD5 ETag, GET returns the same bytes', async () => {
    const key = 'presigned/put get+ü.txt';
    const body = Buffer.from('uploaded through a presigned PUT URL\n');
    // With the 2025 defaults the SDK signs x-amz-checksum-crc32 of the (absent) body into the URL;
    // S3 documents that presigned uploads do not verify such checksums, so the upload must work.
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 });
    assert.match(putUrl, /X-Amz-Algorithm=AWS4-HMAC-SHA256/);
    const put = await fetch(putUrl, { method: 'PUT', body });
    assert.equal(put.status, 200, await put.text());
    assert.equal(put.headers.get('etag'), etagOf(body));

    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 });
    const get = await fetch(getUrl);
    assert.equal(get.status, 200);
    assert.ok(Buffer.from(await get.arrayBuffer()).equals(body));
    assert.equal(get.headers.get('etag'), etagOf(body));
  });

  it('getSignedUrl › UploadPart ×2 (5 MiB + 1 MiB) with fetch, completed with the SDK → ETag md5(md5s)-2, GET byte-equal', async () => {
    const key = 'presigned/multipart.bin';
    const parts = [randomBytes(5 * MiB), randomBytes(MiB + 99)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const url = await getSignedUrl(s3, new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1 }), { expiresIn: 300 });
      assert.match(url, new RegExp(`partNumber=${i + 1}`));
      const res = await fetch(url, { method: 'PUT', body: part });
      assert.equal(res.status, 200, await res.text());
      assert.equal(res.headers.get('etag'), etagOf(part));
      etags.push(res.headers.get('etag')!);
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    assert.equal(done.ETag, multipartEtag(parts));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts)));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    assert.equal(uploads.Uploads, undefined);
  });

  it('getSignedUrl › GetObject with ResponseContentDisposition \'attachment; filename="a b.txt"\' → that Content-Disposition on the response', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'presigned/a b.txt', Body: 'disposition' }));
    const url = await getSignedUrl(
      s3,
      new GetObjectCommand({ Bucket: bucket, Key: 'presigned/a b.txt', ResponseContentDisposition: 'attachment; filename="a b.txt"' }),
      { expiresIn: 300 },
    );
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="a b.txt"');
    assert.equal(await res.text(), 'disposition');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'presigned/a b.txt' }));
    assert.equal(head.ContentDisposition, undefined, 'the override is not stored');
  });

  it('getSignedUrl › expiresIn 1, fetched after 2 s → 403 AccessDenied "Request has expired"', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'presigned/expiring.txt', Body: 'soon gone' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned/expiring.txt' }), { expiresIn: 1 });
    await sleep(2_000);
    const res = await fetch(url);
    const text = await res.text();
    assert.equal(res.status, 403, text);
    assert.match(text, /<Code>AccessDenied<\/Code>/);
    assert.match(text, /Request has expired/);
  });

  it('presigned GET › X-Amz-Expires 604801 (signed by hand: the SDK refuses) → 403 AccessDenied, as S3; 604800 → 200', async () => {
    await assert.rejects(getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned/a b.txt' }), { expiresIn: 604801 }), /less than one week/);
    const week = await fetch(presignGet(`/${bucket}/presigned/a%20b.txt`, 604800));
    assert.equal(week.status, 200, await week.clone().text());
    assert.equal(await week.text(), 'disposition');
    const tooLong = await fetch(presignGet(`/${bucket}/presigned/a%20b.txt`, 604801));
    const text = await tooLong.text();
    assert.equal(tooLong.status, 403, text);
    assert.match(text, /<Code>AccessDenied<\/Code><Message>X-Amz-Expires must be less than a week/);
  });

  /** A SigV4 presigned GET URL for an already encoded path, with any X-Amz-Expires (no SDK limits). */
  function presignGet(encodedPath: string, expires: number): string {
    const amzDate = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const scope = `${day}/${REGION}/s3/aws4_request`;
    const host = `${server.host}:${server.port}`;
    const params: Array<[string, string]> = [
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Credential', `${ACCESS_KEY}/${scope}`],
      ['X-Amz-Date', amzDate],
      ['X-Amz-Expires', String(expires)],
      ['X-Amz-SignedHeaders', 'host'],
    ];
    const query = params
      .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const canonical = ['GET', encodedPath, query, `host:${host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
    let key: Buffer = Buffer.from(`AWS4${SECRET_KEY}`);
    for (const part of [day, REGION, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    const signature = createHmac('sha256', key).update(toSign).digest('hex');
    return `${server.url}${encodedPath}?${query}&X-Amz-Signature=${signature}`;
  }
});
