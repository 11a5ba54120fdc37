// Multipart protocol details of issue 9 against a real Strata process, with aws-sdk-js v3, boto3
// (newest) and hand-signed requests: retried CompleteMultipartUpload (also across a restart),
// repeated part numbers, GET/HEAD ?partNumber errors, UploadPartCopy ranges outside the source,
// per-part checksums (GetObjectAttributes ObjectParts, GET/HEAD ?partNumber with checksum mode).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type ChecksumType,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { errorOf, signedHeaders, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;

/** CRC-32 (IEEE, reflected 0xEDB88320), written here so the expectations do not come from the code under test. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32b64(data: Buffer): string {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

/** A deterministic, non-repeating body (cheap to build, different per seed). */
function body(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i += 4) {
    x = (x * 1103515245 + 12345) >>> 0;
    b.writeUInt32LE(x, i - (i + 4 > size ? i + 4 - size : 0));
  }
  return b;
}

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('Multipart details', () => {
  let server: RunningServer;
  let s3: S3Client;

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  async function newBucket(prefix: string, client = s3): Promise<string> {
    const bucket = newBucketName(prefix);
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return bucket;
  }

  /** A SigV4-signed request built by hand (for values the SDKs will not send). */
  async function raw(method: string, path: string, query: Record<string, string>, headers: Record<string, string> = {}, payload = ''): Promise<RawAnswer> {
    const signed = { headers: await signedHeaders(server, method, path, { 'content-length': String(Buffer.byteLength(payload)), ...headers }, query) };
    const qs = new URLSearchParams(query).toString();
    return new Promise<RawAnswer>((resolve, reject) => {
      const req = http.request(
        { host: server.host, port: server.port, method, path: qs ? `${path}?${qs}` : path, headers: signed.headers as Record<string, string>, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Runs an inline program with the newest boto3 (.venv); returns its `out` dict. */
  async function boto3(bucket: string, program: string): Promise<Record<string, unknown>> {
    const prelude = `
import json, os, zlib, base64
import boto3
from botocore.client import Config
from botocore.exceptions import ClientError
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id='${ACCESS_KEY}',
                  aws_secret_access_key='${SECRET_KEY}', region_name='${REGION}',
                  config=Config(signature_version='s3v4', retries={'max_attempts': 1}))
bucket_name = os.environ['S3_BUCKET']
out = {'boto3': boto3.__version__}
def error_of(fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        return [e.response['Error'].get('Code'), e.response['ResponseMetadata']['HTTPStatusCode']]
    raise RuntimeError('expected an error from ' + fn.__name__)
def crc32(b):
    return base64.b64encode(zlib.crc32(b).to_bytes(4, 'big')).decode()
`;
    const { env, cleanup } = await isolatedClientEnv({ S3_ENDPOINT: server.url, S3_BUCKET: bucket });
    try {
      const r = await run(VENV_PYTHON, ['-c', `${prelude}\n${program}\nprint(json.dumps(out))\n`], { env, timeoutMs: 180_000 });
      assert.equal(r.code, 0, `${describeRun(`${VENV_PYTHON} (inline boto3 program)`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
      return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    } finally {
      await cleanup();
    }
  }

  /** Creates an upload and uploads `parts` (1, 2, ...); CRC32 checksums when `checksumType` is given. */
  async function upload(bucket: string, key: string, parts: Buffer[], checksumType?: ChecksumType, client = s3) {
    const checksum = checksumType ? { ChecksumAlgorithm: 'CRC32' as const } : {};
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...checksum, ...(checksumType ? { ChecksumType: checksumType } : {}) }),
    );
    const completed: CompletedPart[] = [];
    for (const [i, b] of parts.entries()) {
      const r = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: b, ...checksum }));
      completed.push({ PartNumber: i + 1, ETag: r.ETag, ...(checksumType ? { ChecksumCRC32: r.ChecksumCRC32 } : {}) });
    }
    return { UploadId: UploadId!, MultipartUpload: { Parts: completed } };
  }

  it('CompleteMultipartUpload › sent again after it succeeded (lost response) → 200 with the same ETag, Location and checksum, also with If-None-Match: *; object unchanged', async () => {
    const bucket = await newBucket('mpu-retry');
    const parts = [body(5 * MiB, 1), body(1000, 2)];
    const u = await upload(bucket, 'k', parts, 'COMPOSITE');
    const first = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', ...u }));
    const again = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', ...u }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    assert.match(first.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
    for (const field of ['ETag', 'Location', 'Bucket', 'Key', 'ChecksumCRC32', 'ChecksumType'] as const) {
      assert.equal(again[field], first[field], field);
    }
    assert.equal(first.ChecksumType, 'COMPOSITE');
    // The condition held when the object was made from this upload: the retry is still that success.
    const conditional = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', ...u, IfNoneMatch: '*' }));
    assert.equal(conditional.ETag, first.ETag);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.equal(got.ETag, first.ETag);
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts)));
  });

  it('CompleteMultipartUpload › sent again after the object was overwritten or deleted, with other parts, or for an aborted upload → 404 NoSuchUpload', async () => {
    const bucket = await newBucket('mpu-retry-gone');
    const overwritten = await upload(bucket, 'over', [body(100, 3)]);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'over', ...overwritten }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: 'newer' }));
    const deleted = await upload(bucket, 'del', [body(100, 4)]);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'del', ...deleted }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del' }));
    const other = await upload(bucket, 'other', [body(5 * MiB, 5), body(10, 6)]);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'other', ...other }));
    const aborted = await upload(bucket, 'aborted', [body(10, 7)]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted', UploadId: aborted.UploadId }));

    const cases: Array<[string, { UploadId: string; MultipartUpload: { Parts: CompletedPart[] } }]> = [
      ['over', overwritten],
      ['del', deleted],
      ['other', { ...other, MultipartUpload: { Parts: other.MultipartUpload.Parts.slice(0, 1) } }],
      ['aborted', aborted],
    ];
    for (const [key, u] of cases) {
      const e = await errorOf(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, ...u })));
      assert.equal(e.name, 'NoSuchUpload', key);
      assert.equal(e.$metadata.httpStatusCode, 404, key);
    }
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'over' }));
    assert.equal(await got.Body!.transformToString(), 'newer');
  });

  it('CompleteMultipartUpload › sent again after a server restart → 200, same ETag and checksum (the upload id is kept in the metadata store)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'strata-mpu-restart-'));
    let s = await startServer({ args: ['--data', dataDir] });
    let client = testClient(s.url);
    try {
      const bucket = await newBucket('mpu-restart', client);
      const u = await upload(bucket, 'k', [body(5 * MiB, 8), body(77, 9)], 'FULL_OBJECT', client);
      const first = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', ...u }));
      client.destroy();
      await s.stop();
      s = await startServer({ args: ['--data', dataDir] });
      client = testClient(s.url);
      const again = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', ...u }));
      assert.equal(again.ETag, first.ETag);
      assert.equal(again.ChecksumCRC32, first.ChecksumCRC32);
      assert.equal(again.ChecksumType, 'FULL_OBJECT');
      assert.equal(again.ChecksumCRC32, crc32b64(Buffer.concat([body(5 * MiB, 8), body(77, 9)])), 'the full-object CRC32');
    } finally {
      client.destroy();
      await s.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('Conditional writes and retried completion (boto3 newest) › IfNoneMatch=<etag> → 501 NotImplemented; IfMatch="*" → 200 on an existing key, 404 NoSuchKey on a missing one; complete_multipart_upload twice → same ETag; part listed twice → InvalidPartOrder', async () => {
    const bucket = await newBucket('cond-boto3');
    const out = await boto3(
      bucket,
      `
etag = s3.put_object(Bucket=bucket_name, Key='k', Body=b'v1')['ETag']
out['inm_etag'] = error_of(s3.put_object, Bucket=bucket_name, Key='k', Body=b'v2', IfNoneMatch=etag)
out['im_star'] = s3.put_object(Bucket=bucket_name, Key='k', Body=b'v3', IfMatch='*')['ResponseMetadata']['HTTPStatusCode']
out['body'] = s3.get_object(Bucket=bucket_name, Key='k')['Body'].read().decode()
out['im_star_missing'] = error_of(s3.put_object, Bucket=bucket_name, Key='missing', Body=b'x', IfMatch='*')
u = s3.create_multipart_upload(Bucket=bucket_name, Key='mp')['UploadId']
p1 = s3.upload_part(Bucket=bucket_name, Key='mp', UploadId=u, PartNumber=1, Body=os.urandom(5 * 1024 * 1024))
p2 = s3.upload_part(Bucket=bucket_name, Key='mp', UploadId=u, PartNumber=2, Body=b'tail')
one, two = {'PartNumber': 1, 'ETag': p1['ETag']}, {'PartNumber': 2, 'ETag': p2['ETag']}
out['dup'] = error_of(s3.complete_multipart_upload, Bucket=bucket_name, Key='mp', UploadId=u, MultipartUpload={'Parts': [one, one, two]})
first = s3.complete_multipart_upload(Bucket=bucket_name, Key='mp', UploadId=u, MultipartUpload={'Parts': [one, two]}, IfNoneMatch='*')
again = s3.complete_multipart_upload(Bucket=bucket_name, Key='mp', UploadId=u, MultipartUpload={'Parts': [one, two]}, IfNoneMatch='*')
out['retry'] = [first['ETag'] == again['ETag'], again['ResponseMetadata']['HTTPStatusCode'], again['Location'] == first['Location']]
s3.put_object(Bucket=bucket_name, Key='mp', Body=b'overwritten')
out['retry_after_overwrite'] = error_of(s3.complete_multipart_upload, Bucket=bucket_name, Key='mp', UploadId=u, MultipartUpload={'Parts': [one, two]})
`,
    );
    assert.deepEqual(out.inm_etag, ['NotImplemented', 501]);
    assert.equal(out.im_star, 200);
    assert.equal(out.body, 'v3');
    assert.deepEqual(out.im_star_missing, ['NoSuchKey', 404]);
    assert.deepEqual(out.dup, ['InvalidPartOrder', 400]);
    assert.deepEqual(out.retry, [true, 200, true]);
    assert.deepEqual(out.retry_after_overwrite, ['NoSuchUpload', 404]);
  });

  it('CompleteMultipartUpload › a part number listed twice in ascending order (1,1,2 and 1,2,2) → 400 InvalidPartOrder, as AWS; the upload stays completable', async () => {
    const bucket = await newBucket('mpu-dup');
    const u = await upload(bucket, 'k', [body(5 * MiB, 10), body(10, 11)]);
    const [p1, p2] = u.MultipartUpload.Parts;
    for (const parts of [
      [p1!, p1!, p2!],
      [p1!, p2!, p2!],
    ]) {
      const e = await errorOf(
        s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: u.UploadId, MultipartUpload: { Parts: parts } })),
      );
      assert.equal(e.name, 'InvalidPartOrder');
      assert.equal(e.$metadata.httpStatusCode, 400);
    }
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual(
      listed.Uploads?.map((x) => x.UploadId),
      [u.UploadId],
    );
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', ...u }));
    assert.match(done.ETag ?? '', /-2"$/);
  });

  it('CompleteMultipartUpload › upload with an additional checksum (CRC32): parts not starting at 1 or not consecutive (2; 1,3) → 400 InvalidPartOrder (AWS CompletedPart rule); 1,2 → 200', async () => {
    const bucket = await newBucket('mpu-consecutive');
    const u = await upload(bucket, 'k', [body(5 * MiB, 30), body(5 * MiB, 31), body(10, 32)], 'COMPOSITE');
    const [p1, p2, p3] = u.MultipartUpload.Parts;
    for (const parts of [[p2!], [p1!, p3!], [p2!, p3!]]) {
      const e = await errorOf(
        s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: u.UploadId, MultipartUpload: { Parts: parts } })),
      );
      assert.equal(e.name, 'InvalidPartOrder', parts.map((p) => p.PartNumber).join(','));
      assert.equal(e.$metadata.httpStatusCode, 400);
    }
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: u.UploadId, MultipartUpload: { Parts: [p1!, p2!] } }));
    assert.match(done.ETag ?? '', /-2"$/);
  });

  it('GetObject/HeadObject › partNumber beyond the parts (multipart 3 parts: 4; single PUT: 2) → 416 InvalidPartNumber with PartNumberRequested/ActualPartCount; single PUT partNumber=1 → 206 the whole object', async () => {
    const bucket = await newBucket('part-beyond');
    const u = await upload(bucket, 'mp', [body(5 * MiB, 12), body(5 * MiB, 13), body(10, 14)]);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ...u }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single', Body: 'one piece' }));

    for (const [key, n, count] of [
      ['mp', 4, 3],
      ['mp', 10000, 3],
      ['single', 2, 1],
    ] as const) {
      const e = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: n })));
      assert.equal(e.name, 'InvalidPartNumber', `${key} ${n}`);
      assert.equal(e.$metadata.httpStatusCode, 416);
      assert.equal(e.message, 'The requested partnumber is not satisfiable');
      const h = await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: n })));
      assert.equal(h.$metadata.httpStatusCode, 416, `HEAD ${key} ${n}`);
      const r = await raw('GET', `/${bucket}/${key}`, { partNumber: String(n) });
      assert.equal(r.status, 416);
      assert.match(
        r.body,
        new RegExp(`<Code>InvalidPartNumber</Code>.*<PartNumberRequested>${n}</PartNumberRequested><ActualPartCount>${count}</ActualPartCount>`, 's'),
      );
    }
    const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'single', PartNumber: 1 }));
    assert.equal(whole.$metadata.httpStatusCode, 206);
    assert.equal(whole.PartsCount, 1);
    assert.equal(await whole.Body!.transformToString(), 'one piece');
  });

  it('GetObject/HeadObject › partNumber 0, 10001, -1, abc, 1.5, empty → 400 InvalidArgument (ArgumentName partNumber), GET and HEAD', async () => {
    const bucket = await newBucket('part-invalid');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
    for (const n of [0, 10001]) {
      const e = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', PartNumber: n })));
      assert.equal(e.name, 'InvalidArgument', String(n));
      assert.equal(e.$metadata.httpStatusCode, 400);
    }
    for (const v of ['0', '10001', '-1', 'abc', '1.5', '']) {
      const r = await raw('GET', `/${bucket}/k`, { partNumber: v });
      assert.equal(r.status, 400, `partNumber=${v}: ${r.body}`);
      assert.match(
        r.body,
        /<Code>InvalidArgument<\/Code><Message>Part number must be an integer between 1 and 10000, inclusive<\/Message><ArgumentName>partNumber<\/ArgumentName>/,
      );
      const h = await raw('HEAD', `/${bucket}/k`, { partNumber: v });
      assert.equal(h.status, 400, `HEAD partNumber=${v}`);
    }
  });

  it("GetObject/HeadObject (boto3 newest) › PartNumber beyond → 416 InvalidPartNumber; 0 → 400 InvalidArgument; HEAD PartNumber + ChecksumMode → the part's CRC32", async () => {
    const bucket = await newBucket('part-boto3');
    const out = await boto3(
      bucket,
      `
p1, p2 = os.urandom(5 * 1024 * 1024), os.urandom(999)
u = s3.create_multipart_upload(Bucket=bucket_name, Key='k', ChecksumAlgorithm='CRC32')['UploadId']
parts = []
for n, b in enumerate([p1, p2], start=1):
    r = s3.upload_part(Bucket=bucket_name, Key='k', UploadId=u, PartNumber=n, Body=b, ChecksumAlgorithm='CRC32')
    parts.append({'PartNumber': n, 'ETag': r['ETag'], 'ChecksumCRC32': r['ChecksumCRC32']})
s3.complete_multipart_upload(Bucket=bucket_name, Key='k', UploadId=u, MultipartUpload={'Parts': parts})
out['beyond'] = error_of(s3.get_object, Bucket=bucket_name, Key='k', PartNumber=3)
out['head_beyond'] = error_of(s3.head_object, Bucket=bucket_name, Key='k', PartNumber=3)
out['zero'] = error_of(s3.get_object, Bucket=bucket_name, Key='k', PartNumber=0)
h = s3.head_object(Bucket=bucket_name, Key='k', PartNumber=2, ChecksumMode='ENABLED')
out['part2'] = [h['ContentLength'], h['PartsCount'], h.get('ChecksumCRC32'), h.get('ChecksumType'), h.get('ChecksumCRC32') == crc32(p2)]
`,
    );
    assert.deepEqual(out.beyond, ['InvalidPartNumber', 416]);
    assert.equal((out.head_beyond as unknown[])[1], 416);
    assert.deepEqual(out.zero, ['InvalidArgument', 400]);
    const [len, count, , type, matches] = out.part2 as [number, number, string, string, boolean];
    assert.deepEqual([len, count, type, matches], [999, 2, 'COMPOSITE', true]);
  });

  it('UploadPartCopy › x-amz-copy-source-range outside the source (end = size, start ≥ size) or reversed → 400 InvalidArgument "Range specified is not valid for source object of size: N", as AWS; malformed → InvalidArgument', async () => {
    const bucket = await newBucket('copy-range');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: body(1000, 15) }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'dst' }));
    const copy = (range: string) =>
      s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'dst', UploadId, PartNumber: 1, CopySource: `${bucket}/src`, CopySourceRange: range }));
    for (const range of ['bytes=0-1000', 'bytes=1000-1000', 'bytes=5000-6000', 'bytes=10-5']) {
      const e = await errorOf(copy(range));
      assert.equal(e.name, 'InvalidArgument', range);
      assert.equal(e.$metadata.httpStatusCode, 400);
      assert.equal(e.message, 'Range specified is not valid for source object of size: 1000', range);
    }
    for (const range of ['0-10', 'bytes=0-', 'bytes=-5', 'bytes=a-b', 'bytes=0-1,3-4']) {
      const e = await errorOf(copy(range));
      assert.equal(e.name, 'InvalidArgument', range);
      assert.match(e.message, /must be of the form bytes=first-last/);
    }
    const ok = await copy('bytes=0-999');
    assert.match(ok.CopyPartResult?.ETag ?? '', /^"[0-9a-f]{32}"$/);
  });

  it('GetObjectAttributes › ObjectParts of a CRC32 COMPOSITE object → PartsCount and each Part with PartNumber, Size and its own ChecksumCRC32; MaxParts/PartNumberMarker paging; no Parts listed without a COMPOSITE checksum, as AWS', async () => {
    const bucket = await newBucket('attrs-parts');
    const parts = [body(5 * MiB, 16), body(5 * MiB, 17), body(5 * MiB, 18), body(4321, 19)];
    const u = await upload(bucket, 'k', parts, 'COMPOSITE');
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', ...u }));
    const attrs = (extra: { MaxParts?: number; PartNumberMarker?: string } = {}) =>
      s3.send(
        new GetObjectAttributesCommand({
          Bucket: bucket,
          Key: 'k',
          ObjectAttributes: ['ObjectParts', 'Checksum', 'ETag', 'ObjectSize', 'StorageClass'],
          ...extra,
        }),
      );
    const all = await attrs();
    assert.equal(all.ETag, done.ETag!.replace(/"/g, ''));
    assert.equal(all.ObjectSize, 15 * MiB + 4321);
    assert.equal(all.StorageClass, 'STANDARD');
    assert.equal(all.Checksum?.ChecksumType, 'COMPOSITE');
    assert.equal(all.Checksum?.ChecksumCRC32, done.ChecksumCRC32!.replace(/-\d+$/, ''));
    assert.equal(all.ObjectParts?.TotalPartsCount, 4);
    assert.equal(all.ObjectParts?.IsTruncated, false);
    assert.deepEqual(
      all.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32]),
      parts.map((b, i) => [i + 1, b.length, crc32b64(b)]),
    );

    const page1 = await attrs({ MaxParts: 3 });
    assert.deepEqual(
      page1.ObjectParts?.Parts?.map((p) => p.PartNumber),
      [1, 2, 3],
    );
    assert.equal(page1.ObjectParts?.IsTruncated, true);
    assert.equal(page1.ObjectParts?.MaxParts, 3);
    assert.equal(page1.ObjectParts?.NextPartNumberMarker, '3');
    const page2 = await attrs({ MaxParts: 3, PartNumberMarker: page1.ObjectParts!.NextPartNumberMarker });
    assert.deepEqual(
      page2.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.ChecksumCRC32]),
      [[4, crc32b64(parts[3]!)]],
    );
    assert.equal(page2.ObjectParts?.IsTruncated, false);
    assert.equal(page2.ObjectParts?.PartNumberMarker, '3');

    // Without a COMPOSITE checksum (none, or FULL_OBJECT), AWS lists no parts: count and paging only.
    for (const [key, type] of [
      ['plain', undefined],
      ['full', 'FULL_OBJECT'],
    ] as const) {
      const v = await upload(bucket, key, parts.slice(2), type);
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, ...v }));
      const a = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['ObjectParts'], MaxParts: 1 }));
      assert.equal(a.ObjectParts?.TotalPartsCount, 2, key);
      assert.equal(a.ObjectParts?.Parts, undefined, key);
      assert.equal(a.ObjectParts?.IsTruncated, true, key);
      assert.equal(a.ObjectParts?.NextPartNumberMarker, '1', key);
    }
  });

  it("HeadObject/GetObject › PartNumber with ChecksumMode ENABLED → the part's own CRC32 (the SDK validates the body against it) and ChecksumType; whole object → its checksum and ChecksumType (COMPOSITE / FULL_OBJECT)", async () => {
    const bucket = await newBucket('part-checksum');
    const parts = [body(5 * MiB, 20), body(3333, 21)];
    for (const type of ['COMPOSITE', 'FULL_OBJECT'] as const) {
      const key = type.toLowerCase();
      const u = await upload(bucket, key, parts, type);
      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, ...u }));
      for (const [n, b] of parts.entries()) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: n + 1, ChecksumMode: 'ENABLED' }));
        assert.equal(head.ChecksumCRC32, crc32b64(b), `${type} HEAD part ${n + 1}`);
        assert.equal(head.ChecksumType, type);
        assert.equal(head.ContentLength, b.length);
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: n + 1, ChecksumMode: 'ENABLED' }));
        assert.equal(got.ChecksumCRC32, crc32b64(b), `${type} GET part ${n + 1}`);
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(b));
      }
      const whole = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(whole.ChecksumCRC32, done.ChecksumCRC32);
      assert.equal(whole.ChecksumType, type);
      const plain = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 1 }));
      assert.equal(plain.ChecksumCRC32, undefined, 'checksums only with checksum mode');
    }
    assert.equal(
      (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'full_object', ChecksumMode: 'ENABLED' }))).ChecksumCRC32,
      crc32b64(Buffer.concat(parts)),
    );
  });

  it("GetObjectAttributes (boto3 newest) › ObjectParts with each part's ChecksumCRC32 (zlib), PartsCount, MaxParts paging; Checksum COMPOSITE", async () => {
    const bucket = await newBucket('attrs-boto3');
    const out = await boto3(
      bucket,
      `
data = [os.urandom(5 * 1024 * 1024), os.urandom(5 * 1024 * 1024), os.urandom(12345)]
u = s3.create_multipart_upload(Bucket=bucket_name, Key='k', ChecksumAlgorithm='CRC32')['UploadId']
parts = []
for n, b in enumerate(data, start=1):
    r = s3.upload_part(Bucket=bucket_name, Key='k', UploadId=u, PartNumber=n, Body=b, ChecksumAlgorithm='CRC32')
    parts.append({'PartNumber': n, 'ETag': r['ETag'], 'ChecksumCRC32': r['ChecksumCRC32']})
s3.complete_multipart_upload(Bucket=bucket_name, Key='k', UploadId=u, MultipartUpload={'Parts': parts})
a = s3.get_object_attributes(Bucket=bucket_name, Key='k', ObjectAttributes=['ObjectParts', 'Checksum', 'ETag', 'ObjectSize', 'StorageClass'])
op = a['ObjectParts']
out['parts'] = [[p['PartNumber'], p['Size'], p['ChecksumCRC32'] == crc32(data[p['PartNumber'] - 1])] for p in op['Parts']]
out['count'] = op['TotalPartsCount']
out['type'] = a['Checksum']['ChecksumType']
out['size'] = a['ObjectSize']
b = s3.get_object_attributes(Bucket=bucket_name, Key='k', ObjectAttributes=['ObjectParts'], MaxParts=2)
out['page'] = [[p['PartNumber'] for p in b['ObjectParts']['Parts']], b['ObjectParts']['IsTruncated'], b['ObjectParts']['NextPartNumberMarker']]
`,
    );
    assert.deepEqual(out.parts, [
      [1, 5 * MiB, true],
      [2, 5 * MiB, true],
      [3, 12345, true],
    ]);
    assert.equal(out.count, 3);
    assert.equal(out.type, 'COMPOSITE');
    assert.equal(out.size, 10 * MiB + 12345);
    assert.deepEqual(out.page, [[1, 2], true, 2]);
  });

  it('PutObject/CreateMultipartUpload › Content-Encoding "deflate, gzip" (raw and aws-sdk-js) → returned exactly as sent on GET and HEAD', async () => {
    const bucket = await newBucket('content-encoding');
    const put = await raw('PUT', `/${bucket}/raw`, {}, { 'content-encoding': 'deflate, gzip' }, 'bytes');
    assert.equal(put.status, 200, put.body);
    for (const method of ['GET', 'HEAD']) {
      const r = await raw(method, `/${bucket}/raw`, {});
      assert.equal(r.headers['content-encoding'], 'deflate, gzip', method);
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk', Body: 'bytes', ContentEncoding: 'deflate, gzip' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sdk' }))).ContentEncoding, 'deflate, gzip');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ContentEncoding: 'br,  gzip' }));
    const p = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'bytes' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp' }));
    assert.equal(got.ContentEncoding, 'br,  gzip');
    await got.Body!.transformToString();
  });
});
