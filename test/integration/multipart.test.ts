// Multipart uploads against a real Strata process with real clients: boto3 (inline Python programs,
// the newest boto3 from .venv when present) and aws-sdk-js v3 (@aws-sdk/client-s3, lib-storage).
// Covers the seed tutorial §5.2 loop, the S3 error rules, paging, copies, checksums, transfer
// managers, data freeing on disk, and that completing 1 GiB copies no bytes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { checkCrcVectors, compositeBase64, crcBase64 } from '../helpers/crc.js';
import { errorOf } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
/** The newest boto3 (scripts/test.sh creates .venv); never whatever python3 is on PATH. */
const PYTHON = VENV_PYTHON;

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
/** The multipart ETag computed locally: md5 of the concatenated binary part MD5s, then -N. */
const multipartEtag = (parts: Buffer[]) =>
  `"${createHash('md5')
    .update(Buffer.concat(parts.map(md5)))
    .digest('hex')}-${parts.length}"`;

/** Committed data pieces in the server's data directory (files under objects/). */
async function pieceCount(dataDir: string): Promise<number> {
  let n = 0;
  for (const shard of await readdir(join(dataDir, 'objects')).catch(() => [] as string[])) {
    n += (await readdir(join(dataDir, 'objects', shard)).catch(() => [] as string[])).length;
  }
  return n;
}

/** Boto3 client setup shared by the inline programs; each program fills `out`, printed as JSON last. */
const PY_PRELUDE = `
import hashlib, json, os, sys, zlib
import boto3, botocore
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
        d = dict(e.response['Error'])
        d['Status'] = e.response['ResponseMetadata']['HTTPStatusCode']
        return d
    raise AssertionError('expected an error from ' + fn.__name__)

def check(cond, message):
    if not cond:
        raise AssertionError(message)
`;

describe('Multipart uploads', () => {
  let server: RunningServer;
  let s3: S3Client;

  before(async () => {
    assert.ok(existsSync(PYTHON), `${PYTHON} is missing: run scripts/test.sh (it creates .venv with the newest boto3)`);
    // One process: these tests count the pieces on disk right after a part or an object is replaced
    // or aborted, which a single process frees at once; workers free them --free-grace later (shared
    // rules: two-process.test.ts and workers.test.ts cover multipart uploads across processes).
    server = await startServer({ args: ['--workers', '1'] });
    s3 = new S3Client({
      endpoint: server.url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 8 }) }),
      maxAttempts: 1,
    });
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  async function newBucket(prefix: string): Promise<string> {
    const bucket = newBucketName(prefix);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return bucket;
  }

  /** Runs an inline boto3 program against the server; returns its `out` dict. */
  async function boto3(bucket: string, program: string): Promise<Record<string, unknown>> {
    const { env, cleanup } = await isolatedClientEnv({ S3_ENDPOINT: server.url, S3_BUCKET: bucket });
    try {
      const r = await run(PYTHON, ['-c', `${PY_PRELUDE}\n${program}\nprint(json.dumps(out))\n`], { env, timeoutMs: 180_000 });
      assert.equal(r.code, 0, `${describeRun(`${PYTHON} (inline boto3 program)`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
      const last = r.stdout.trim().split('\n').at(-1) ?? '{}';
      return JSON.parse(last) as Record<string, unknown>;
    } finally {
      await cleanup();
    }
  }

  /** Uploads `parts` as a new upload (JS SDK, no extra checksums); returns the upload id and ETags. */
  async function uploadParts(bucket: string, key: string, parts: Buffer[]): Promise<{ uploadId: string; etags: string[] }> {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body }));
      etags.push(r.ETag!);
    }
    return { uploadId: UploadId!, etags };
  }

  it('CompleteMultipartUpload › seed tutorial §5.2 loop, 5 MiB parts of a ~12 MiB file → GET byte-equal, ETag = md5(md5s)-3', async () => {
    const bucket = await newBucket('mpu-tutorial');
    const out = await boto3(
      bucket,
      `
import tempfile
data = os.urandom(12 * 1024 * 1024 + 4321)
workdir = tempfile.mkdtemp()
file_path = os.path.join(workdir, 'largefile.bin')
with open(file_path, 'wb') as f:
    f.write(data)
key = 'largefile.bin'
part_size = 5 * 1024 * 1024  # 5 MB

# --- the tutorial's own code (§5.2), unchanged ---
response = s3.create_multipart_upload(Bucket=bucket_name, Key=key)
upload_id = response['UploadId']
parts = []

try:
    with open(file_path, 'rb') as f:
        part_number = 1
        while True:
            data_part = f.read(part_size)
            if not data_part:
                break

            part = s3.upload_part(
                Bucket=bucket_name,
                Key=key,
                PartNumber=part_number,
                UploadId=upload_id,
                Body=data_part
            )

            parts.append({'ETag': part['ETag'], 'PartNumber': part_number})
            print(f'{part_number}. parça yüklendi')
            part_number += 1

    completed = s3.complete_multipart_upload(
        Bucket=bucket_name,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={'Parts': parts}
    )
    print('Çok parçalı yükleme tamamlandı.')

except Exception as e:
    s3.abort_multipart_upload(Bucket=bucket_name, Key=key, UploadId=upload_id)
    print(f'Yükleme iptal edildi: {e}')
    raise
# --- end of the tutorial's code ---

md5s = [hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size)]
out['expected_etag'] = '"%s-%d"' % (hashlib.md5(b''.join(md5s)).hexdigest(), len(md5s))
out['complete_etag'] = completed['ETag']
out['location'] = completed['Location']
got = s3.get_object(Bucket=bucket_name, Key=key)
out['get_equal'] = got['Body'].read() == data
out['get_etag'] = got['ETag']
out['parts'] = len(parts)
out['uploads_left'] = len(s3.list_multipart_uploads(Bucket=bucket_name).get('Uploads', []))
`,
    );
    assert.equal(out.parts, 3);
    assert.equal(out.complete_etag, out.expected_etag);
    assert.equal(out.get_etag, out.expected_etag);
    assert.equal(out.get_equal, true);
    assert.equal(out.location, `${server.url}/${bucket}/largefile.bin`);
    assert.equal(out.uploads_left, 0);
  });

  it('CompleteMultipartUpload › after AbortMultipartUpload → NoSuchUpload (404); abort and ListParts again → NoSuchUpload', async () => {
    const bucket = await newBucket('mpu-abort');
    const before = await pieceCount(server.dataDir);
    const out = await boto3(
      bucket,
      `
u = s3.create_multipart_upload(Bucket=bucket_name, Key='k')['UploadId']
p = s3.upload_part(Bucket=bucket_name, Key='k', PartNumber=1, UploadId=u, Body=b'x' * 1000)
r = s3.abort_multipart_upload(Bucket=bucket_name, Key='k', UploadId=u)
out['abort_status'] = r['ResponseMetadata']['HTTPStatusCode']
out['complete'] = error_of(s3.complete_multipart_upload, Bucket=bucket_name, Key='k', UploadId=u,
                           MultipartUpload={'Parts': [{'ETag': p['ETag'], 'PartNumber': 1}]})
out['abort_again'] = error_of(s3.abort_multipart_upload, Bucket=bucket_name, Key='k', UploadId=u)
out['list_parts'] = error_of(s3.list_parts, Bucket=bucket_name, Key='k', UploadId=u)
out['upload_part'] = error_of(s3.upload_part, Bucket=bucket_name, Key='k', PartNumber=2, UploadId=u, Body=b'y')
out['head'] = error_of(s3.head_object, Bucket=bucket_name, Key='k')
`,
    );
    assert.equal(out.abort_status, 204);
    for (const op of ['complete', 'abort_again', 'list_parts', 'upload_part'] as const) {
      assert.deepEqual([(out[op] as { Code: string }).Code, (out[op] as { Status: number }).Status], ['NoSuchUpload', 404], op);
    }
    assert.equal((out.head as { Status: number }).Status, 404, 'no object was created');
    assert.equal(await pieceCount(server.dataDir), before, 'the part and the rejected late part left no data behind');
  });

  it('CompleteMultipartUpload › two 1 MiB parts → 400 EntityTooSmall with ProposedSize and MinSizeAllowed; upload intact', async () => {
    const bucket = await newBucket('mpu-small');
    const out = await boto3(
      bucket,
      `
u = s3.create_multipart_upload(Bucket=bucket_name, Key='k')['UploadId']
parts = []
for n in (1, 2):
    p = s3.upload_part(Bucket=bucket_name, Key='k', PartNumber=n, UploadId=u, Body=os.urandom(1024 * 1024))
    parts.append({'ETag': p['ETag'], 'PartNumber': n})
out['error'] = error_of(s3.complete_multipart_upload, Bucket=bucket_name, Key='k', UploadId=u, MultipartUpload={'Parts': parts})
out['parts_after'] = len(s3.list_parts(Bucket=bucket_name, Key='k', UploadId=u)['Parts'])
# A single small part is fine: only parts before the last must be 5 MiB.
done = s3.complete_multipart_upload(Bucket=bucket_name, Key='k', UploadId=u, MultipartUpload={'Parts': parts[:1]})
out['single_etag'] = done['ETag']
`,
    );
    const e = out.error as Record<string, unknown>;
    assert.equal(e.Code, 'EntityTooSmall');
    assert.equal(e.Status, 400);
    assert.equal(e.ProposedSize, String(MiB));
    assert.equal(e.MinSizeAllowed, String(5 * MiB));
    assert.equal(out.parts_after, 2);
    assert.match(String(out.single_etag), /^"[0-9a-f]{32}-1"$/);
  });

  it('CompleteMultipartUpload › parts listed out of order → 400 InvalidPartOrder; wrong ETag or unknown part → 400 InvalidPart; ETag without quotes → accepted', async () => {
    const bucket = await newBucket('mpu-invalid');
    const out = await boto3(
      bucket,
      `
u = s3.create_multipart_upload(Bucket=bucket_name, Key='k')['UploadId']
p1 = s3.upload_part(Bucket=bucket_name, Key='k', PartNumber=1, UploadId=u, Body=os.urandom(5 * 1024 * 1024))
p2 = s3.upload_part(Bucket=bucket_name, Key='k', PartNumber=2, UploadId=u, Body=b'tail')
good = [{'ETag': p1['ETag'], 'PartNumber': 1}, {'ETag': p2['ETag'], 'PartNumber': 2}]
out['order'] = error_of(s3.complete_multipart_upload, Bucket=bucket_name, Key='k', UploadId=u,
                        MultipartUpload={'Parts': [good[1], good[0]]})
out['duplicate'] = error_of(s3.complete_multipart_upload, Bucket=bucket_name, Key='k', UploadId=u,
                            MultipartUpload={'Parts': [good[0], good[0]]})
out['etag'] = error_of(s3.complete_multipart_upload, Bucket=bucket_name, Key='k', UploadId=u,
                       MultipartUpload={'Parts': [good[0], {'ETag': '"0123456789abcdef0123456789abcdef"', 'PartNumber': 2}]})
out['missing'] = error_of(s3.complete_multipart_upload, Bucket=bucket_name, Key='k', UploadId=u,
                          MultipartUpload={'Parts': [good[0], {'ETag': p2['ETag'], 'PartNumber': 3}]})
unquoted = [{'ETag': p['ETag'].strip('"'), 'PartNumber': p_n} for p, p_n in ((p1, 1), (p2, 2))]
out['etag_done'] = s3.complete_multipart_upload(Bucket=bucket_name, Key='k', UploadId=u, MultipartUpload={'Parts': unquoted})['ETag']
out['size'] = s3.head_object(Bucket=bucket_name, Key='k')['ContentLength']
`,
    );
    assert.deepEqual([(out.order as { Code: string }).Code, (out.order as { Status: number }).Status], ['InvalidPartOrder', 400]);
    assert.equal((out.duplicate as { Code: string }).Code, 'InvalidPartOrder');
    assert.deepEqual([(out.etag as { Code: string }).Code, (out.etag as { Status: number }).Status], ['InvalidPart', 400]);
    assert.equal((out.missing as { Code: string }).Code, 'InvalidPart');
    assert.match(String(out.etag_done), /-2"$/);
    assert.equal(out.size, 5 * MiB + 4);
  });

  it('UploadPart › same part number again → replaces the part (ListParts, object bytes) and frees the old data', async () => {
    const bucket = await newBucket('mpu-replace');
    const first = randomBytes(5 * MiB);
    const second = randomBytes(5 * MiB);
    const tail = Buffer.from('tail');
    const before = await pieceCount(server.dataDir);
    const { uploadId, etags } = await uploadParts(bucket, 'k', [first, tail]);
    const again = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId, PartNumber: 1, Body: second }));
    assert.equal(again.ETag, `"${md5(second).toString('hex')}"`);
    assert.equal(await pieceCount(server.dataDir), before + 2, "the replaced part's piece is gone");
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId }));
    assert.deepEqual(
      listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]),
      [
        [1, again.ETag, 5 * MiB],
        [2, etags[1], 4],
      ],
    );
    const stale = await errorOf(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'k',
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: etags[0] },
              { PartNumber: 2, ETag: etags[1] },
            ],
          },
        }),
      ),
    );
    assert.equal(stale.name, 'InvalidPart', "the first upload's ETag no longer names part 1");
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: again.ETag },
            { PartNumber: 2, ETag: etags[1] },
          ],
        },
      }),
    );
    assert.equal(done.ETag, multipartEtag([second, tail]));
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body!.transformToByteArray());
    assert.ok(got.equals(Buffer.concat([second, tail])));
  });

  it("CompleteMultipartUpload › a subset of parts (1 and 3) → the object is those parts; part 2 discarded and its data freed; the replaced object's data freed", async () => {
    const bucket = await newBucket('mpu-subset');
    // Larger than the inline limit (128 KiB): the old object has a data piece to free.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: randomBytes(200 * 1024) }));
    const before = await pieceCount(server.dataDir);
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), Buffer.from('three')];
    const { uploadId, etags } = await uploadParts(bucket, 'k', parts);
    assert.equal(await pieceCount(server.dataDir), before + 3);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: etags[0] },
            { PartNumber: 3, ETag: etags[2] },
          ],
        },
      }),
    );
    assert.equal(done.ETag, multipartEtag([parts[0]!, parts[2]!]));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([parts[0]!, parts[2]!])));
    // Pieces now: parts 1 and 3 (the object's); part 2 and the old object are freed.
    assert.equal(await pieceCount(server.dataDir), before - 1 + 2);
    const p2 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', PartNumber: 2 }));
    assert.equal(p2.ContentLength, 5, "part 2 of the object is the upload's part 3");
  });

  it('CompleteMultipartUpload › If-None-Match: * on an existing key → 412 and the upload stays completable; If-Match with the current ETag → completes', async () => {
    const bucket = await newBucket('mpu-cond');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'existing' }));
    const { uploadId, etags } = await uploadParts(bucket, 'k', [Buffer.from('new')]);
    const parts = { Parts: [{ PartNumber: 1, ETag: etags[0] }] };
    const e = await errorOf(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId, MultipartUpload: parts, IfNoneMatch: '*' })),
    );
    assert.equal(e.$metadata.httpStatusCode, 412);
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId }));
    assert.equal(listed.Parts?.length, 1);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId, MultipartUpload: parts, IfMatch: put.ETag }));
    assert.equal(done.ETag, multipartEtag([Buffer.from('new')]));
  });

  it('ListParts › MaxParts=2 → pages of 2 with NextPartNumberMarker and IsTruncated; Owner, Initiator, StorageClass', async () => {
    const bucket = await newBucket('mpu-listparts');
    const out = await boto3(
      bucket,
      `
u = s3.create_multipart_upload(Bucket=bucket_name, Key='k', StorageClass='STANDARD_IA')['UploadId']
for n in (1, 2, 3, 5, 8):
    s3.upload_part(Bucket=bucket_name, Key='k', PartNumber=n, UploadId=u, Body=b'p' * n)
pages = []
marker = 0
while True:
    r = s3.list_parts(Bucket=bucket_name, Key='k', UploadId=u, MaxParts=2, PartNumberMarker=marker)
    pages.append({'numbers': [p['PartNumber'] for p in r['Parts']], 'sizes': [p['Size'] for p in r['Parts']],
                  'truncated': r['IsTruncated'], 'next': r.get('NextPartNumberMarker'), 'max': r['MaxParts']})
    if not r['IsTruncated']:
        break
    marker = r['NextPartNumberMarker']
out['pages'] = pages
out['owner'] = bool(r['Owner']['ID']) and bool(r['Initiator']['ID'])
out['storage_class'] = r['StorageClass']
out['paginator'] = [p['PartNumber'] for page in s3.get_paginator('list_parts').paginate(
    Bucket=bucket_name, Key='k', UploadId=u, PaginationConfig={'PageSize': 2}) for p in page.get('Parts', [])]
`,
    );
    assert.deepEqual(out.pages, [
      { numbers: [1, 2], sizes: [1, 2], truncated: true, next: 2, max: 2 },
      { numbers: [3, 5], sizes: [3, 5], truncated: true, next: 5, max: 2 },
      { numbers: [8], sizes: [8], truncated: false, next: 8, max: 2 },
    ]);
    assert.equal(out.owner, true);
    assert.equal(out.storage_class, 'STANDARD_IA');
    assert.deepEqual(out.paginator, [1, 2, 3, 5, 8]);
  });

  it('ListMultipartUploads › key then initiation order, prefix, delimiter, MaxUploads paging with key/upload-id markers, encoding-type=url', async () => {
    const bucket = await newBucket('mpu-listuploads');
    const out = await boto3(
      bucket,
      `
import time
ids = {}
for k in ('b/2', 'a', 'b/1', 'a', 'c d+e', 'z'):
    ids.setdefault(k, []).append(s3.create_multipart_upload(Bucket=bucket_name, Key=k)['UploadId'])
    time.sleep(0.002)
r = s3.list_multipart_uploads(Bucket=bucket_name)
out['all'] = [(u['Key'], u['UploadId']) for u in r['Uploads']]
out['ids'] = ids
out['truncated_all'] = r['IsTruncated']
r = s3.list_multipart_uploads(Bucket=bucket_name, Delimiter='/')
out['delimited'] = {'keys': [u['Key'] for u in r['Uploads']], 'prefixes': [p['Prefix'] for p in r.get('CommonPrefixes', [])]}
r = s3.list_multipart_uploads(Bucket=bucket_name, Prefix='b/')
out['prefixed'] = [u['Key'] for u in r['Uploads']]
seen = []
key_marker, id_marker = '', ''
while True:
    r = s3.list_multipart_uploads(Bucket=bucket_name, MaxUploads=2, KeyMarker=key_marker, UploadIdMarker=id_marker)
    seen.append([(u['Key'], u['UploadId']) for u in r.get('Uploads', [])])
    if not r['IsTruncated']:
        break
    key_marker, id_marker = r['NextKeyMarker'], r['NextUploadIdMarker']
out['paged'] = seen
out['paginator'] = [u['Key'] for page in s3.get_paginator('list_multipart_uploads').paginate(
    Bucket=bucket_name, PaginationConfig={'PageSize': 2}) for u in page.get('Uploads', [])]
r = s3.list_multipart_uploads(Bucket=bucket_name, Prefix='c d', EncodingType='url')
out['encoded'] = [u['Key'] for u in r['Uploads']]
out['encoding_type'] = r.get('EncodingType')
`,
    );
    const ids = out.ids as Record<string, string[]>;
    const expected: Array<[string, string]> = [
      ['a', ids['a']![0]!],
      ['a', ids['a']![1]!],
      ['b/1', ids['b/1']![0]!],
      ['b/2', ids['b/2']![0]!],
      ['c d+e', ids['c d+e']![0]!],
      ['z', ids['z']![0]!],
    ];
    assert.deepEqual(out.all, expected);
    assert.equal(out.truncated_all, false);
    assert.deepEqual(out.delimited, { keys: ['a', 'a', 'c d+e', 'z'], prefixes: ['b/'] });
    assert.deepEqual(out.prefixed, ['b/1', 'b/2']);
    assert.deepEqual(out.paged, [expected.slice(0, 2), expected.slice(2, 4), expected.slice(4, 6)]);
    assert.deepEqual(
      out.paginator,
      expected.map((e) => e[0]),
    );
    // botocore does not decode ListMultipartUploads names: the wire form is visible.
    assert.deepEqual(out.encoded, ['c%20d%2Be'], 'url-encoded: space as %20, + as %2B');
    assert.equal(out.encoding_type, 'url');
  });

  it('UploadPartCopy › byte ranges of a source object assemble a 12 MiB object byte-equal; range past the end → 400 InvalidArgument', async () => {
    const bucket = await newBucket('mpu-copy');
    const out = await boto3(
      bucket,
      `
src = os.urandom(12 * 1024 * 1024 + 7)
s3.put_object(Bucket=bucket_name, Key='dir/source file+1.bin', Body=src)
u = s3.create_multipart_upload(Bucket=bucket_name, Key='assembled')['UploadId']
part_size = 5 * 1024 * 1024
parts = []
for n, start in enumerate(range(0, len(src), part_size), start=1):
    end = min(start + part_size, len(src)) - 1
    r = s3.upload_part_copy(Bucket=bucket_name, Key='assembled', UploadId=u, PartNumber=n,
                            CopySource={'Bucket': bucket_name, 'Key': 'dir/source file+1.bin'},
                            CopySourceRange='bytes=%d-%d' % (start, end))
    parts.append({'ETag': r['CopyPartResult']['ETag'], 'PartNumber': n})
    check(r['CopyPartResult']['ETag'] == '"%s"' % hashlib.md5(src[start:end + 1]).hexdigest(), 'part ETag is the md5 of the range')
    check(r['CopyPartResult']['LastModified'].year >= 2024, 'LastModified parses as a date')
out['past_end'] = error_of(s3.upload_part_copy, Bucket=bucket_name, Key='assembled', UploadId=u, PartNumber=9,
                           CopySource={'Bucket': bucket_name, 'Key': 'dir/source file+1.bin'},
                           CopySourceRange='bytes=0-%d' % len(src))
out['malformed'] = error_of(s3.upload_part_copy, Bucket=bucket_name, Key='assembled', UploadId=u, PartNumber=9,
                            CopySource={'Bucket': bucket_name, 'Key': 'dir/source file+1.bin'}, CopySourceRange='0-10')
s3.complete_multipart_upload(Bucket=bucket_name, Key='assembled', UploadId=u, MultipartUpload={'Parts': parts})
out['equal'] = s3.get_object(Bucket=bucket_name, Key='assembled')['Body'].read() == src
out['parts'] = len(parts)
`,
    );
    assert.equal(out.parts, 3);
    assert.equal(out.equal, true);
    assert.deepEqual([(out.past_end as { Code: string }).Code, (out.past_end as { Status: number }).Status], ['InvalidArgument', 400]);
    assert.equal((out.malformed as { Code: string }).Code, 'InvalidArgument');
  });

  it("GetObject › partNumber=2 → part 2's bytes (206) with x-amz-mp-parts-count; HEAD the same", async () => {
    const bucket = await newBucket('mpu-partget');
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), Buffer.from('last part')];
    const { uploadId, etags } = await uploadParts(bucket, 'k', parts);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', PartNumber: 2 }));
    assert.equal(got.$metadata.httpStatusCode, 206);
    assert.equal(got.PartsCount, 3);
    assert.equal(got.ContentRange, `bytes ${5 * MiB}-${10 * MiB - 1}/${10 * MiB + 9}`);
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(parts[1]!));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', PartNumber: 2 }));
    assert.equal(head.ContentLength, 5 * MiB);
    assert.equal(head.PartsCount, 3);
    const third = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', PartNumber: 3 }));
    assert.equal(Buffer.from(await third.Body!.transformToByteArray()).toString(), 'last part');
  });

  it('boto3 upload_file › 20 MiB with 5 MiB multipart_chunksize → 4 parts; download_file byte-equal', async () => {
    const bucket = await newBucket('mpu-transfer');
    const out = await boto3(
      bucket,
      `
import tempfile
from boto3.s3.transfer import TransferConfig
workdir = tempfile.mkdtemp()
src = os.path.join(workdir, 'src.bin')
dst = os.path.join(workdir, 'dst.bin')
data = os.urandom(20 * 1024 * 1024)
with open(src, 'wb') as f:
    f.write(data)
cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=4)
s3.upload_file(src, bucket_name, 'big/file.bin', Config=cfg)
head = s3.head_object(Bucket=bucket_name, Key='big/file.bin', ChecksumMode='ENABLED')
out['etag'] = head['ETag']
out['size'] = head['ContentLength']
out['checksum_type'] = head.get('ChecksumType')
md5s = [hashlib.md5(data[i:i + 5 * 1024 * 1024]).digest() for i in range(0, len(data), 5 * 1024 * 1024)]
out['expected_etag'] = '"%s-%d"' % (hashlib.md5(b''.join(md5s)).hexdigest(), len(md5s))
s3.download_file(bucket_name, 'big/file.bin', dst, Config=cfg)
with open(dst, 'rb') as f:
    out['equal'] = f.read() == data
out['uploads_left'] = len(s3.list_multipart_uploads(Bucket=bucket_name).get('Uploads', []))
`,
    );
    assert.equal(out.etag, out.expected_etag);
    assert.match(String(out.etag), /-4"$/);
    assert.equal(out.size, 20 * MiB);
    assert.equal(out.equal, true);
    assert.equal(out.uploads_left, 0);
  });

  it('CompleteMultipartUpload › ChecksumAlgorithm CRC32 and CRC32C (COMPOSITE) → head_object ChecksumMode=ENABLED shows checksum-of-checksums -N', async () => {
    const bucket = await newBucket('mpu-composite');
    const out = await boto3(
      bucket,
      `
import base64
from botocore.compat import HAS_CRT
result = {}
for alg in ('CRC32', 'CRC32C'):
    key = 'obj-' + alg
    r = s3.create_multipart_upload(Bucket=bucket_name, Key=key, ChecksumAlgorithm=alg)
    check(r.get('ChecksumAlgorithm') == alg, 'the algorithm is echoed')
    u = r['UploadId']
    # Deterministic, so the test recomputes every checksum from the bytes on its own.
    bodies = [hashlib.shake_256(('%s/%d' % (alg, n)).encode()).digest(size) for n, size in ((1, 5 * 1024 * 1024), (2, 1234))]
    parts = []
    for n, body in enumerate(bodies, start=1):
        # botocore computes CRC32C only with awscrt; without it the part goes with botocore's
        # default CRC32 and the server computes the upload's CRC32C (returned in the response).
        extra = {'ChecksumAlgorithm': alg} if alg == 'CRC32' or HAS_CRT else {}
        p = s3.upload_part(Bucket=bucket_name, Key=key, PartNumber=n, UploadId=u, Body=body, **extra)
        parts.append({'ETag': p['ETag'], 'PartNumber': n, 'Checksum' + alg: p['Checksum' + alg]})
    done = s3.complete_multipart_upload(Bucket=bucket_name, Key=key, UploadId=u, MultipartUpload={'Parts': parts})
    head = s3.head_object(Bucket=bucket_name, Key=key, ChecksumMode='ENABLED')
    got = s3.get_object(Bucket=bucket_name, Key=key, ChecksumMode='ENABLED')
    result[alg] = {
        'part_values': [p['Checksum' + alg] for p in parts],
        'complete': done.get('Checksum' + alg),
        'head': head.get('Checksum' + alg),
        'type': head.get('ChecksumType'),
        'get_equal': got['Body'].read() == b''.join(bodies),
    }
out['result'] = result
`,
    );
    type AlgResult = { part_values: string[]; complete: string; head: string; type: string; get_equal: boolean };
    const result = out.result as Record<'CRC32' | 'CRC32C', AlgResult>;
    // Expected values from the test's own table-driven CRCs (test/helpers/crc.ts), never the server's code.
    checkCrcVectors();
    for (const alg of ['CRC32', 'CRC32C'] as const) {
      const r = result[alg];
      const a = alg === 'CRC32' ? 'crc32' : 'crc32c';
      const bodies = [
        [1, 5 * MiB],
        [2, 1234],
      ].map(([n, size]) => createHash('shake256', { outputLength: size }).update(`${alg}/${n}`).digest());
      assert.deepEqual(
        r.part_values,
        bodies.map((b) => crcBase64(a, b)),
        `${alg}: part checksums are the ${alg}s of the bytes`,
      );
      assert.equal(r.head, compositeBase64(a, bodies), `${alg}: checksum of the part checksums, then -2`);
      assert.equal(r.complete, r.head, `${alg}: Complete returned the same checksum`);
      assert.equal(r.type, 'COMPOSITE');
      assert.equal(r.get_equal, true, `${alg}: boto3 GET with checksum mode skips composite validation and reads the bytes`);
    }
  });

  it("CompleteMultipartUpload › FULL_OBJECT CRC64NVME and CRC32 → the whole object's CRC (combined, no -N); the SDK validates it on GET", async () => {
    const bucket = await newBucket('mpu-fullobject');
    for (const [alg, field] of [
      ['crc64nvme', 'ChecksumCRC64NVME'],
      ['crc32', 'ChecksumCRC32'],
    ] as const) {
      const parts = [randomBytes(5 * MiB + 3), randomBytes(777)];
      // The test's own table-driven CRCs (test/helpers/crc.ts), not the server's code.
      checkCrcVectors();
      const partValues = parts.map((p) => crcBase64(alg, p));
      const expected = crcBase64(alg, Buffer.concat(parts));
      const key = `full-${alg}`;
      const created = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ChecksumAlgorithm: alg.toUpperCase() as 'CRC32',
          ChecksumType: 'FULL_OBJECT',
        }),
      );
      assert.equal(created.ChecksumType, 'FULL_OBJECT');
      const completed: CompletedPart[] = [];
      for (const [i, body] of parts.entries()) {
        const r = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: created.UploadId,
            PartNumber: i + 1,
            Body: body,
            [field]: partValues[i],
          }),
        );
        completed.push({ PartNumber: i + 1, ETag: r.ETag, [field]: partValues[i] });
      }
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: created.UploadId,
          MultipartUpload: { Parts: completed },
          ChecksumType: 'FULL_OBJECT',
          [field]: expected,
        }),
      );
      assert.equal((done as unknown as Record<string, unknown>)[field], expected, `${alg}: combined without reading the bytes`);
      assert.equal(done.ChecksumType, 'FULL_OBJECT');
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal((got as unknown as Record<string, unknown>)[field], expected);
      assert.equal(got.ChecksumType, 'FULL_OBJECT');
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts)), `${alg}: body validated by the SDK`);
    }
    // A wrong full-object checksum in Complete → BadDigest, and the upload stays.
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'bad', ChecksumAlgorithm: 'CRC64NVME' }));
    const p = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'bad', UploadId: c.UploadId, PartNumber: 1, Body: Buffer.from('abc') }));
    const e = await errorOf(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'bad',
          UploadId: c.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] },
          ChecksumCRC64NVME: 'AAAAAAAAAAA=',
        }),
      ),
    );
    assert.equal(e.name, 'BadDigest');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'bad', UploadId: c.UploadId }));
  });

  it('GetObjectAttributes › multipart object → unquoted ETag, ObjectSize, StorageClass, ObjectParts paging, Checksum without -N', async () => {
    const bucket = await newBucket('mpu-attrs');
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), Buffer.from('end')];
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k', ChecksumAlgorithm: 'SHA256' }));
    const completed: CompletedPart[] = [];
    for (const [i, body] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId: c.UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'SHA256' }),
      );
      completed.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumSHA256: r.ChecksumSHA256 });
    }
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: c.UploadId, MultipartUpload: { Parts: completed } }));
    const attrs = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: 'k',
        ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'],
        MaxParts: 2,
      }),
    );
    assert.equal(attrs.ETag, done.ETag!.replace(/"/g, ''));
    assert.equal(attrs.ObjectSize, 10 * MiB + 3);
    assert.equal(attrs.StorageClass, 'STANDARD');
    // COMPOSITE SHA256, computed here with node:crypto: sha256 of the concatenated part sha256s, -3.
    const sha = (b: Buffer) => createHash('sha256').update(b).digest();
    const composite = sha(Buffer.concat(parts.map(sha))).toString('base64');
    assert.equal(done.ChecksumSHA256, `${composite}-3`);
    assert.equal(attrs.Checksum?.ChecksumSHA256, composite);
    assert.equal(attrs.Checksum?.ChecksumType, 'COMPOSITE');
    assert.equal(attrs.ObjectParts?.TotalPartsCount, 3);
    assert.equal(attrs.ObjectParts?.IsTruncated, true);
    assert.deepEqual(
      attrs.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]),
      [
        [1, 5 * MiB],
        [2, 5 * MiB],
      ],
    );
    assert.ok(attrs.LastModified instanceof Date);
    const only = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'k', ObjectAttributes: ['ObjectSize'] }));
    assert.equal(only.ObjectSize, 10 * MiB + 3);
    assert.equal(only.ETag, undefined, 'only the asked attributes');
    const missing = await errorOf(s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'nope', ObjectAttributes: ['ETag'] })));
    assert.equal(missing.name, 'NoSuchKey');
  });

  it("UploadPart › partNumber 0 or 10001 → 400 InvalidArgument; unknown upload id, or another key's → 404 NoSuchUpload; missing bucket → NoSuchBucket", async () => {
    const bucket = await newBucket('mpu-args');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k' }));
    for (const n of [0, 10001]) {
      const e = await errorOf(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId, PartNumber: n, Body: Buffer.from('x') })));
      assert.equal(e.name, 'InvalidArgument', `part ${n}`);
      assert.equal(e.$metadata.httpStatusCode, 400);
    }
    const unknown = await errorOf(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId: 'nope', PartNumber: 1, Body: Buffer.from('x') })));
    assert.equal(unknown.name, 'NoSuchUpload');
    assert.equal(unknown.$metadata.httpStatusCode, 404);
    const otherKey = await errorOf(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'other', UploadId, PartNumber: 1, Body: Buffer.from('x') })));
    assert.equal(otherKey.name, 'NoSuchUpload');
    const noBucket = await errorOf(s3.send(new CreateMultipartUploadCommand({ Bucket: `${bucket}-nope`, Key: 'k' })));
    assert.equal(noBucket.name, 'NoSuchBucket');
    const ok = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId, PartNumber: 10000, Body: Buffer.from('x') }));
    assert.equal(ok.ETag, `"${md5(Buffer.from('x')).toString('hex')}"`);
  });

  it('DeleteBucket › only incomplete uploads → 204 (as S3 general purpose buckets), the uploads and their data are gone', async () => {
    const bucket = await newBucket('mpu-delbucket');
    const before = await pieceCount(server.dataDir);
    await uploadParts(bucket, 'a', [Buffer.from('1'), Buffer.from('2')]);
    await uploadParts(bucket, 'b', [Buffer.from('3')]);
    assert.equal(await pieceCount(server.dataDir), before + 3);
    const r = await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    assert.equal(r.$metadata.httpStatusCode, 204);
    assert.equal((await errorOf(s3.send(new HeadBucketCommand({ Bucket: bucket })))).$metadata.httpStatusCode, 404);
    assert.equal(await pieceCount(server.dataDir), before);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.equal(listed.Uploads?.length ?? 0, 0, 'a new bucket of the same name has no uploads');
  });

  it('lib-storage Upload › 20 MiB stream body in 5 MiB parts → GET byte-equal, multipart ETag', async () => {
    const bucket = await newBucket('mpu-libstorage');
    const data = randomBytes(20 * MiB);
    async function* generate(): AsyncGenerator<Buffer> {
      for (let off = 0; off < data.length; off += 64 * 1024 + 13) yield data.subarray(off, off + 64 * 1024 + 13);
    }
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'stream.bin', Body: Readable.from(generate()) },
      partSize: 5 * MiB,
      queueSize: 3,
      leavePartsOnError: false,
    });
    const done = await upload.done();
    assert.equal(done.ETag, multipartEtag([0, 1, 2, 3].map((i) => data.subarray(i * 5 * MiB, (i + 1) * 5 * MiB))));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'stream.bin' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    const left = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.equal(left.Uploads?.length ?? 0, 0);
  });

  it("CompleteMultipartUpload › 1 GiB in 64 parts → completes without reading or writing the parts' bytes (server /proc/<pid>/io) and reads back the right size and edges", {
    timeout: 300_000,
  }, async (t) => {
    const bucket = await newBucket('mpu-gib');
    // No extra request checksums: this test is about completion, not hashing speed.
    const fast = new S3Client({
      endpoint: server.url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 4 }) }),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
    try {
      const partSize = 16 * MiB;
      const count = 64;
      const body = Buffer.alloc(partSize);
      for (let i = 0; i < partSize; i += 4096) body.writeUInt32BE(i, i);
      const partMd5 = md5(body);
      const { UploadId } = await fast.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'gib' }));
      const etags: string[] = new Array(count);
      let next = 0;
      await Promise.all(
        [0, 1, 2, 3].map(async () => {
          while (next < count) {
            const n = next++;
            const r = await fast.send(new UploadPartCommand({ Bucket: bucket, Key: 'gib', UploadId, PartNumber: n + 1, Body: body }));
            etags[n] = r.ETag!;
          }
        }),
      );
      // What the server process reads and writes (read/write syscalls: files and sockets) during the
      // completion: a copy of the parts would be 1 GiB each way. Speed belongs to the benchmark.
      const io = async () => {
        const text = await readFile(`/proc/${server.pid}/io`, 'utf8');
        return { r: Number(/^rchar: (\d+)/m.exec(text)![1]), w: Number(/^wchar: (\d+)/m.exec(text)![1]) };
      };
      const before = await io();
      const started = performance.now();
      const done = await fast.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'gib',
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
      const ms = performance.now() - started;
      const afterIo = await io();
      t.diagnostic(
        `CompleteMultipartUpload of 1 GiB / ${count} parts: ${ms.toFixed(0)} ms, server read ${afterIo.r - before.r} B, wrote ${afterIo.w - before.w} B`,
      );
      assert.ok(afterIo.r - before.r < 4 * MiB, `the server read ${afterIo.r - before.r} bytes during the completion`);
      assert.ok(afterIo.w - before.w < 4 * MiB, `the server wrote ${afterIo.w - before.w} bytes during the completion`);
      const expectedEtag = `"${createHash('md5')
        .update(Buffer.concat(new Array(count).fill(partMd5)))
        .digest('hex')}-${count}"`;
      assert.equal(done.ETag, expectedEtag);
      const tail = await fast.send(new GetObjectCommand({ Bucket: bucket, Key: 'gib', Range: `bytes=${count * partSize - 8}-` }));
      assert.equal(tail.ContentRange, `bytes ${count * partSize - 8}-${count * partSize - 1}/${count * partSize}`);
      assert.ok(Buffer.from(await tail.Body!.transformToByteArray()).equals(body.subarray(partSize - 8)));
    } finally {
      fast.destroy();
    }
  });
});
