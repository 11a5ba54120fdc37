// aws-sdk-js v3 (@aws-sdk/client-s3) against a real Strata process, path-style and
// virtual-hosted-style (bucket.localhost, resolved to 127.0.0.1 by the test's own agent).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { errorOf, testClient } from '../helpers/s3.js';
import { startServer } from '../helpers/server.js';

const require = createRequire(import.meta.url);
const sdkVersion = JSON.parse(readFileSync(require.resolve('@aws-sdk/client-s3/package.json'), 'utf8')).version as string;

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

/** Keys that broke naive servers (encoding, normalisation, ordering). */
const TRICKY_KEYS = [
  'a b',
  'a+b',
  '100%.csv',
  'a/../b',
  'a//b',
  './x',
  '한글/ü.txt',
  '😀',
  'key?with#chars',
  '~tilde',
  "!'()*",
  'k'.repeat(1024),
  'dir/my file+1.txt',
  'semi;colon,comma=eq&amp@at$dollar',
];

console.log(`# @aws-sdk/client-s3 ${sdkVersion}`);

let server: Awaited<ReturnType<typeof startServer>>;
before(async () => {
  server = await startServer({ args: ['--domain', 'localhost'] });
});
after(async () => {
  await server?.stop();
});

for (const style of ['path', 'virtual'] as const) {
  describe(`aws-sdk-js v3 ${sdkVersion} (${style}-style)`, () => {
    let s3: S3Client;
    const bucket = `sdkjs-${style}-${Date.now().toString(36)}`;
    before(() => {
      s3 = testClient(style === 'path' ? server.url : `http://localhost:${server.port}`, { pathStyle: style === 'path' });
    });
    after(() => s3.destroy());

    it('CreateBucket → listed by ListBuckets with Owner; second create in us-east-1 (no LocationConstraint) → 409 BucketAlreadyOwnedByYou', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const list = await s3.send(new ListBucketsCommand({}));
      assert.ok(list.Buckets?.some((b) => b.Name === bucket && b.CreationDate instanceof Date));
      assert.ok(list.Owner?.ID);
      const e = await errorOf(s3.send(new CreateBucketCommand({ Bucket: bucket })));
      assert.equal(e.name, 'BucketAlreadyOwnedByYou');
      assert.equal(e.$metadata.httpStatusCode, 409);
    });

    it('HeadBucket → x-amz-bucket-region; GetBucketLocation → empty for us-east-1', async () => {
      const h = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      assert.equal(h.BucketRegion, 'us-east-1');
      const loc = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
      assert.ok(loc.LocationConstraint === undefined || (loc.LocationConstraint as string) === '');
    });

    it('PutObject (Buffer body, CRC32 header) → GetObject same bytes, ETag = MD5, metadata echoed', async () => {
      const body = Buffer.from('hello from aws-sdk-js\n'.repeat(100));
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'hello.txt',
          Body: body,
          ContentType: 'text/plain',
          Metadata: { colour: 'blue' },
          CacheControl: 'max-age=60',
        }),
      );
      assert.equal(put.ETag, `"${md5(body)}"`);
      assert.ok(put.ChecksumCRC32, 'the CRC32 the SDK sent is echoed');
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      assert.ok(bytes.equals(body));
      assert.equal(got.ContentType, 'text/plain');
      assert.equal(got.Metadata?.colour, 'blue');
      assert.equal(got.CacheControl, 'max-age=60');
      assert.equal(got.ContentLength, body.length);
      assert.ok(got.LastModified instanceof Date);
    });

    it('GetObject Range bytes=6-9 → 206 with Content-Range and the exact slice', async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt', Range: 'bytes=6-9' }));
      assert.equal(got.$metadata.httpStatusCode, 206);
      assert.match(got.ContentRange ?? '', /^bytes 6-9\/\d+$/);
      assert.equal(Buffer.from(await got.Body!.transformToByteArray()).toString(), 'from');
    });

    it('HeadObject / GetObject on a missing key → 404 NotFound / NoSuchKey', async () => {
      const h = await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' })));
      assert.equal(h.$metadata.httpStatusCode, 404);
      const g = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' })));
      assert.equal(g.name, 'NoSuchKey');
    });

    it('operations on a missing bucket → NoSuchBucket', async () => {
      const e = await errorOf(s3.send(new ListObjectsV2Command({ Bucket: `${bucket}-nope` })));
      assert.equal(e.name, 'NoSuchBucket');
      const p = await errorOf(s3.send(new PutObjectCommand({ Bucket: `${bucket}-nope`, Key: 'k', Body: 'x' })));
      assert.equal(p.name, 'NoSuchBucket');
    });

    it('tricky keys round-trip exactly through put/get/head/list/copy/delete', async () => {
      for (const key of TRICKY_KEYS) {
        const body = Buffer.from(`body of ${key}`);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), `get ${key}`);
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        assert.equal(head.ContentLength, body.length, `head ${key}`);
        await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `copy-${key.slice(0, 1000)}`, CopySource: `${bucket}/${encodeURIComponent(key)}` }));
        const copied = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `copy-${key.slice(0, 1000)}` }));
        assert.ok(Buffer.from(await copied.Body!.transformToByteArray()).equals(body), `copy ${key}`);
      }
      const listed: string[] = [];
      for await (const page of paginateListObjectsV2({ client: s3, pageSize: 5 }, { Bucket: bucket })) {
        for (const o of page.Contents ?? []) listed.push(o.Key!);
      }
      for (const key of TRICKY_KEYS) assert.ok(listed.includes(key), `listed ${key}`);
      // UTF-8 byte order, not UTF-16 order
      const sorted = [...listed].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepEqual(listed, sorted);
      for (const key of TRICKY_KEYS) {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `copy-${key.slice(0, 1000)}` }));
        const e = await errorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
        assert.equal(e.$metadata.httpStatusCode, 404, `deleted ${key}`);
      }
    });

    it('ListObjects V1 with delimiter → CommonPrefixes and NextMarker when truncated', async () => {
      for (const k of ['d/1', 'd/2', 'e/1', 'f', 'g']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
      const p1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 2, Prefix: '' }));
      assert.deepEqual(
        p1.CommonPrefixes?.map((c) => c.Prefix),
        ['d/', 'e/'],
      );
      assert.equal(p1.IsTruncated, true);
      assert.equal(p1.NextMarker, 'e/');
      // hello.txt from the earlier test is still there and sorts after 'g'
      const p2 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 3, Marker: p1.NextMarker }));
      assert.deepEqual(
        p2.Contents?.map((c) => c.Key),
        ['f', 'g', 'hello.txt'],
      );
      assert.equal(p2.IsTruncated, false);
      assert.ok(p2.Contents?.every((c) => c.Owner?.ID));
    });

    it('ListObjectVersions → VersionId null, IsLatest', async () => {
      const v = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'd/' }));
      assert.deepEqual(
        v.Versions?.map((x) => [x.Key, x.VersionId, x.IsLatest]),
        [
          ['d/1', 'null', true],
          ['d/2', 'null', true],
        ],
      );
    });

    it('DeleteObjects (no Content-MD5) → every key deleted, missing keys reported deleted', async () => {
      const r = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: ['d/1', 'd/2', 'e/1', 'f', 'g', 'hello.txt', 'never-existed'].map((Key) => ({ Key })) },
        }),
      );
      assert.equal(r.Deleted?.length, 7);
      assert.equal(r.Errors, undefined);
      const rest = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.equal(rest.KeyCount, 0);
    });

    it('DeleteBucket → gone from ListBuckets', async () => {
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      const e = await errorOf(s3.send(new HeadBucketCommand({ Bucket: bucket })));
      assert.equal(e.$metadata.httpStatusCode, 404);
    });
  });
}
