// Listings as clients read them: encoding-type=url (aws-sdk-js, boto3 newest and Debian's, raw XML
// through curl), the empty continuation token, and ListBuckets' 2024 parameters (max-buckets,
// continuation-token, prefix, bucket-region) through aws-sdk-js, its paginator and boto3.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  paginateListBuckets,
} from '@aws-sdk/client-s3';
import { CURL, DEBIAN_PYTHON, VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { presignTarget } from '../hardening/raw-http.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

/** Keys whose url-encoded form differs from a form encoding or a naive one. */
const KEYS = ['a b', 'a+b', '100%', 'é日本/😀', 'new\nline', 'tab\tkey', 'dir/sub dir/x+y', 'dir/sub dir/z', '~t', "(p)*!'", 'q?&=#'];

/** The percent-decoder a JavaScript user has: decodeURIComponent ('+' stays '+'). */
const decode = (s: string | undefined) => (s === undefined ? undefined : decodeURIComponent(s));

const PYTHONS = [
  { label: 'boto3 newest (.venv)', python: VENV_PYTHON },
  { label: 'boto3 Debian (/usr/bin/python3)', python: DEBIAN_PYTHON },
];

const PY_PRELUDE = `
import json, os
import boto3
from botocore.client import Config
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id='${ACCESS_KEY}',
                  aws_secret_access_key='${SECRET_KEY}', region_name='${REGION}',
                  config=Config(signature_version='s3v4', retries={'max_attempts': 1}, s3={'addressing_style': 'path'}))
bucket_name = os.environ['S3_BUCKET']
out = {}
`;

describe('Listings', () => {
  let server: RunningServer;
  let s3: S3Client;
  let env: NodeJS.ProcessEnv;
  let cleanupEnv: () => Promise<void>;
  const bucket = newBucketName('enc');

  async function python(py: string, code: string, extraEnv: Record<string, string> = {}): Promise<Record<string, any>> {
    const r = await run(py, ['-c', PY_PRELUDE + code + '\nprint(json.dumps(out))'], {
      env: { ...env, S3_ENDPOINT: server.url, S3_BUCKET: bucket, ...extraEnv },
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, `${describeRun(py, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  }

  /**
   * The XML of a GET by curl, presigned by the SDK's signer (curl 7.88's --aws-sigv4 canonicalises
   * an encoded query wrongly).
   */
  async function curlGet(path: string, query: Record<string, string>): Promise<string> {
    const target = await presignTarget({ method: 'GET', port: server.port, path, query });
    const r = await run(CURL, ['-sS', '--fail-with-body', `${server.url}${target}`], { env, timeoutMs: 30_000 });
    assert.equal(r.code, 0, describeRun(`curl ${target}`, r));
    return r.stdout;
  }

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    ({ env, cleanup: cleanupEnv } = await isolatedClientEnv());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const Key of KEYS) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
    await cleanupEnv?.();
  });

  it('ListObjectsV2 › EncodingType url through aws-sdk-js → keys decode with decodeURIComponent; Prefix, Delimiter, StartAfter, CommonPrefixes encoded', async () => {
    const all = await s3.send(new ListObjectsV2Command({ Bucket: bucket, EncodingType: 'url' }));
    assert.equal(all.EncodingType, 'url');
    assert.deepEqual(
      all.Contents!.map((o) => decode(o.Key)),
      [...KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    assert.ok(all.Contents!.some((o) => o.Key === 'a%20b') && all.Contents!.some((o) => o.Key === 'a%2Bb'), 'space → %20, + → %2B');
    const sub = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, EncodingType: 'url', Prefix: 'dir/sub dir/', Delimiter: '+', StartAfter: 'dir/sub dir/' }),
    );
    assert.deepEqual([sub.Prefix, sub.Delimiter, sub.StartAfter], ['dir/sub%20dir/', '%2B', 'dir/sub%20dir/']);
    assert.deepEqual(
      sub.CommonPrefixes!.map((p) => p.Prefix),
      ['dir/sub%20dir/x%2B'],
    );
    assert.deepEqual(
      sub.Contents!.map((o) => decode(o.Key)),
      ['dir/sub dir/z'],
    );
  });

  it('ListObjectsV2 › pages of one key with EncodingType url → every key once, decoded exactly', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, EncodingType: 'url', MaxKeys: 1, ContinuationToken: token }));
      seen.push(...page.Contents!.map((o) => decode(o.Key)!));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(seen.sort(), [...KEYS].sort());
  });

  it('ListObjects › EncodingType url through aws-sdk-js → Marker, NextMarker, Delimiter, keys encoded; Prefix echoed as sent', async () => {
    const r = await s3.send(
      new ListObjectsCommand({ Bucket: bucket, EncodingType: 'url', Prefix: 'dir/sub dir/', Marker: 'dir/sub dir/', Delimiter: '/', MaxKeys: 1 }),
    );
    assert.deepEqual([r.Prefix, r.Marker, r.Delimiter, r.IsTruncated, r.NextMarker], ['dir/sub dir/', 'dir/sub%20dir/', '/', true, 'dir/sub%20dir/x%2By']);
    assert.deepEqual(
      r.Contents!.map((o) => o.Key),
      ['dir/sub%20dir/x%2By'],
    );
  });

  it('ListObjectVersions › EncodingType url through aws-sdk-js → KeyMarker, NextKeyMarker, Prefix, keys encoded', async () => {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, EncodingType: 'url', Prefix: 'dir/sub dir/', KeyMarker: 'a b', MaxKeys: 1 }));
    assert.deepEqual([r.Prefix, r.KeyMarker, r.NextKeyMarker], ['dir/sub%20dir/', 'a%20b', 'dir/sub%20dir/x%2By']);
    assert.deepEqual(
      r.Versions!.map((v) => v.Key),
      ['dir/sub%20dir/x%2By'],
    );
  });

  it('ListObjectsV2 › raw XML (curl) → %20, %2B, %0A, %25 and UTF-8 bytes; / kept; no ContinuationToken for an empty continuation-token=', async () => {
    const xml = await curlGet(`/${bucket}`, { 'list-type': '2', 'encoding-type': 'url', 'continuation-token': '', prefix: 'dir/sub dir/', delimiter: '+' });
    assert.match(xml, /<Prefix>dir\/sub%20dir\/<\/Prefix>/);
    assert.match(xml, /<Delimiter>%2B<\/Delimiter>/);
    assert.match(xml, /<CommonPrefixes><Prefix>dir\/sub%20dir\/x%2B<\/Prefix><\/CommonPrefixes>/);
    assert.doesNotMatch(xml, /ContinuationToken/);
    const whole = await curlGet(`/${bucket}`, { 'list-type': '2', 'encoding-type': 'url' });
    for (const k of [
      'a%20b',
      'a%2Bb',
      '100%25',
      'new%0Aline',
      'tab%09key',
      '%C3%A9%E6%97%A5%E6%9C%AC/%F0%9F%98%80',
      '~t',
      '%28p%29%2A%21%27',
      'q%3F%26%3D%23',
    ]) {
      assert.ok(whole.includes(`<Key>${k}</Key>`), `<Key>${k}</Key> in ${whole}`);
    }
  });

  it('ListObjects › raw XML (curl) with encoding-type=url → <Prefix> as sent (XML-escaped), <Marker> encoded', async () => {
    const xml = await curlGet(`/${bucket}`, { 'encoding-type': 'url', prefix: 'a b&', marker: 'a b' });
    assert.match(xml, /<Prefix>a b&amp;<\/Prefix>/);
    assert.match(xml, /<Marker>a%20b<\/Marker>/);
  });

  it('ListObjectsV2 › continuation-token= (empty) → listed from the start, as without the parameter', async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: '', MaxKeys: 2 }));
    assert.equal(r.ContinuationToken, undefined);
    assert.equal(r.KeyCount, 2);
    assert.equal(r.Contents![0]!.Key, "(p)*!'");
  });

  for (const { label, python: py } of PYTHONS) {
    it(`ListObjects / V2 / versions › ${label}: automatic url encoding round-trips every key; V1 Prefix with a space and a newline echoed as sent`, async () => {
      const out = await python(
        py,
        `
paged = []
for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket_name, PaginationConfig={'PageSize': 2}):
    paged += [o['Key'] for o in page.get('Contents', [])]
out['v2'] = paged
v1 = []
for page in s3.get_paginator('list_objects').paginate(Bucket=bucket_name, Delimiter='/', PaginationConfig={'PageSize': 1}):
    v1 += [o['Key'] for o in page.get('Contents', [])] + [p['Prefix'] for p in page.get('CommonPrefixes', [])]
out['v1'] = v1
out['v1_prefix'] = s3.list_objects(Bucket=bucket_name, Prefix='dir/sub dir/')['Prefix']
out['v1_newline'] = s3.list_objects(Bucket=bucket_name, Prefix='\\n')['Prefix']
out['v2_prefix'] = s3.list_objects_v2(Bucket=bucket_name, Prefix='dir/sub dir/', StartAfter='dir/sub dir/')
out['v2_prefix'] = [out['v2_prefix']['Prefix'], out['v2_prefix']['StartAfter'], [o['Key'] for o in out['v2_prefix']['Contents']]]
vers = []
for page in s3.get_paginator('list_object_versions').paginate(Bucket=bucket_name, PaginationConfig={'PageSize': 3}):
    vers += [v['Key'] for v in page.get('Versions', [])]
out['versions'] = vers
out['explicit'] = [o['Key'] for o in s3.list_objects_v2(Bucket=bucket_name, Prefix='a', EncodingType='url')['Contents']]
`,
      );
      const sorted = [...KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepEqual(out.v2, sorted);
      assert.deepEqual(out.versions, sorted);
      assert.deepEqual(
        out.v1,
        sorted
          .filter((k) => !k.includes('/'))
          .concat('dir/', 'é日本/')
          .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );
      assert.equal(out.v1_prefix, 'dir/sub dir/');
      assert.equal(out.v1_newline, '\n');
      assert.deepEqual(out.v2_prefix, ['dir/sub dir/', 'dir/sub dir/', ['dir/sub dir/x+y', 'dir/sub dir/z']]);
      // Asked for explicitly, botocore leaves the wire form: %20 and %2B, never '+' for a space.
      assert.deepEqual(out.explicit, ['a%20b', 'a%2Bb']);
    });
  }
});

describe('ListBuckets', () => {
  let server: RunningServer;
  let s3: S3Client;
  let env: NodeJS.ProcessEnv;
  let cleanupEnv: () => Promise<void>;
  const names = Array.from({ length: 23 }, (_, i) => `lb-${String(i).padStart(2, '0')}-${newBucketName('x')}`.slice(0, 63).replace(/-+$/, ''));

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    ({ env, cleanup: cleanupEnv } = await isolatedClientEnv());
    for (const Bucket of names) await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: 'other-prefix-bucket' }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
    await cleanupEnv?.();
  });

  it('ListBuckets › MaxBuckets 5 through aws-sdk-js, following ContinuationToken → every bucket once, in name order, pages of 5', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListBucketsCommand({ MaxBuckets: 5, ContinuationToken: token }));
      sizes.push(page.Buckets?.length ?? 0);
      seen.push(...(page.Buckets ?? []).map((b) => b.Name!));
      assert.equal(page.Owner?.ID !== undefined, true);
      token = page.ContinuationToken;
    } while (token);
    assert.deepEqual(seen, [...names, 'other-prefix-bucket'].sort());
    assert.deepEqual(sizes, [5, 5, 5, 5, 4]);
  });

  it('ListBuckets › paginateListBuckets with Prefix and a page size of 4 → the prefixed buckets; Prefix echoed', async () => {
    const seen: string[] = [];
    for await (const page of paginateListBuckets({ client: s3, pageSize: 4 }, { Prefix: 'lb-1' })) {
      assert.equal(page.Prefix, 'lb-1');
      seen.push(...(page.Buckets ?? []).map((b) => b.Name!));
    }
    assert.deepEqual(
      seen,
      names.filter((n) => n.startsWith('lb-1')),
    );
  });

  it('ListBuckets › BucketRegion us-east-1 → all, with BucketRegion; another region → none; no parameter → all on one page, no token', async () => {
    const mine = await s3.send(new ListBucketsCommand({ BucketRegion: REGION }));
    assert.equal(mine.Buckets!.length, names.length + 1);
    assert.ok(mine.Buckets!.every((b) => b.BucketRegion === REGION));
    const none = await s3.send(new ListBucketsCommand({ BucketRegion: 'eu-west-3' }));
    assert.equal(none.Buckets?.length ?? 0, 0);
    const plain = await s3.send(new ListBucketsCommand({}));
    assert.equal(plain.Buckets!.length, names.length + 1);
    assert.equal(plain.ContinuationToken, undefined);
    assert.equal(plain.Prefix, undefined);
  });

  it('ListBuckets › max-buckets 0, 10001, "x"; a made-up continuation token → 400 InvalidArgument', async () => {
    for (const MaxBuckets of [0, 10_001]) {
      const e = await errorOf(s3.send(new ListBucketsCommand({ MaxBuckets })));
      assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['InvalidArgument', 400], `MaxBuckets ${MaxBuckets}`);
    }
    const e = await errorOf(s3.send(new ListBucketsCommand({ ContinuationToken: 'bm90LWEtdG9rZW4' })));
    assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['InvalidArgument', 400]);
    const r = await run(
      CURL,
      [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--aws-sigv4',
        `aws:amz:${REGION}:s3`,
        '--user',
        `${ACCESS_KEY}:${SECRET_KEY}`,
        '-H',
        'x-amz-content-sha256: UNSIGNED-PAYLOAD',
        `${server.url}/?max-buckets=x`,
      ],
      { env, timeoutMs: 30_000 },
    );
    assert.equal(r.stdout, '400', describeRun('curl max-buckets=x', r));
  });

  for (const { label, python: py } of PYTHONS) {
    it(`ListBuckets › ${label}: list_buckets, and MaxBuckets paging where botocore knows it`, async () => {
      const r = await run(
        py,
        [
          '-c',
          `
import json, os, boto3
from botocore.client import Config
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id='${ACCESS_KEY}', aws_secret_access_key='${SECRET_KEY}',
                  region_name='${REGION}', config=Config(signature_version='s3v4', retries={'max_attempts': 1}))
out = {'all': [b['Name'] for b in s3.list_buckets()['Buckets']], 'paged': None}
shape = s3.meta.service_model.operation_model('ListBuckets').input_shape
if shape is not None and 'MaxBuckets' in shape.members:
    names, token = [], None
    while True:
        kw = {'MaxBuckets': 7, 'Prefix': 'lb-'}
        if token: kw['ContinuationToken'] = token
        page = s3.list_buckets(**kw)
        names += [b['Name'] for b in page['Buckets']]
        token = page.get('ContinuationToken')
        if not token: break
    out['paged'] = names
print(json.dumps(out))
`,
        ],
        { env: { ...env, S3_ENDPOINT: server.url }, timeoutMs: 60_000 },
      );
      assert.equal(r.code, 0, describeRun(py, r));
      const out = JSON.parse(r.stdout);
      assert.deepEqual(out.all, [...names, 'other-prefix-bucket'].sort());
      if (py === VENV_PYTHON) assert.deepEqual(out.paged, names, 'the newest botocore knows MaxBuckets');
      else if (out.paged !== null) assert.deepEqual(out.paged, names);
    });
  }
});
