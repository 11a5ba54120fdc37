// A data directory written by the previous release (metadata format 5, test/fixtures/format5-datadir.tar.gz,
// made by scripts/make-format5-fixture.mjs with real requests) opened by the current server: the
// migration to format 6, every object byte for byte, listings, CORS, the upload in progress and its
// parts (then completed), new writes, and versioning enabled on a migrated bucket. aws-sdk-js v3.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, REPO_ROOT, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';
import { adminCall } from '../helpers/admin.js';

interface Manifest {
  buckets: string[];
  objects: Array<{ bucket: string; key: string; size: number; sha256: string; etag: string; contentType?: string; metadata?: Record<string, string> }>;
  uploads: Array<{
    bucket: string;
    key: string;
    uploadId: string;
    parts: Array<{ partNumber: number; etag: string; size: number }>;
    sha256OfAll: string;
    metadata: Record<string, string>;
  }>;
  cors: {
    bucket: string;
    CORSRules: Array<{ AllowedMethods: string[]; AllowedOrigins: string[]; AllowedHeaders: string[]; ExposeHeaders: string[]; MaxAgeSeconds: number }>;
  };
}

const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'format5-datadir.tar.gz');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('a data directory of the previous release (format 5)', () => {
  let root: string;
  let dataDir: string;
  let manifest: Manifest;
  let server: RunningServer;
  let s3: S3Client;

  const formatVersion = () => {
    const db = new Database(join(dataDir, 'meta.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT value FROM meta WHERE name = 'format_version'").get() as { value: number }).value;
    } finally {
      db.close();
    }
  };
  const getBytes = async (bucket: string, key: string, versionId?: string) => {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return { r, bytes: Buffer.from(await r.Body!.transformToByteArray()) };
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'strata-format5-'));
    execFileSync('tar', ['-xzf', FIXTURE, '-C', root]);
    dataDir = join(root, 'data');
    manifest = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8')) as Manifest;
    assert.equal(formatVersion(), 5, 'the fixture is a format-5 data directory');
    server = await startServer({ dataDir });
    s3 = testClient(server.url);
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('open › format-5 metadata → migrated to the current format (format 6: objects_live index, job_state, the new columns; format 7: the identity tables; format 8: roles; format 9: the key service tables; format 10: usage counters; format 11: the heal queue; format 12: XXH3-128 piece checksums, no schema change)', () => {
    assert.equal(formatVersion(), 12);
    const db = new Database(join(dataDir, 'meta.db'), { readonly: true, fileMustExist: true });
    try {
      const names = (db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')").pluck().all() as string[]).sort();
      assert.ok(names.includes('objects_live') && names.includes('job_state'), names.join(', '));
      assert.ok(names.includes('iam_users') && names.includes('iam_access_keys'), names.join(', '));
      assert.ok(names.includes('iam_roles') && names.includes('iam_attachments_policy'), names.join(', '));
      assert.ok(names.includes('kms_keys') && names.includes('kms_key_versions'), names.join(', '));
      assert.ok(names.includes('bucket_usage'), names.join(', '));
      const cols = (t: string) => (db.prepare(`PRAGMA table_info(${t})`).all() as Array<{ name: string }>).map((c) => c.name);
      assert.ok(cols('buckets').includes('object_lock'));
      assert.ok(cols('objects').includes('extra'));
      assert.ok(cols('uploads').includes('extra'));
    } finally {
      db.close();
    }
  });

  it('usage › the upgrade to format 10 counted the old objects and bytes of each bucket (admin usage)', async () => {
    const r = await adminCall(server.url, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, 'GET', 'usage');
    assert.equal(r.status, 200);
    const want = manifest.buckets
      .map((name) => {
        const mine = manifest.objects.filter((o) => o.bucket === name);
        const bytes = mine.reduce((n, o) => n + o.size, 0);
        return { name, objects: mine.length, bytes, versions: mine.length, deleteMarkers: 0 };
      })
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    assert.deepEqual(r.body.buckets, want);
  });

  it('GetObject › every object of the old release → byte for byte, with its ETag, Content-Type and metadata', async () => {
    assert.ok(manifest.objects.length >= 10);
    for (const o of manifest.objects) {
      const { r, bytes } = await getBytes(o.bucket, o.key);
      assert.equal(bytes.length, o.size, `${o.bucket}/${o.key} size`);
      assert.equal(sha256(bytes), o.sha256, `${o.bucket}/${o.key} bytes`);
      assert.equal(r.ETag, o.etag, `${o.bucket}/${o.key} ETag`);
      if (o.contentType) assert.equal(r.ContentType, o.contentType);
      if (o.metadata) assert.deepEqual(r.Metadata, o.metadata);
    }
  });

  it('ListBuckets / ListObjectsV2 / ListObjectVersions › old buckets and keys → all there, in order; each object is the null version, latest', async () => {
    const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name!);
    assert.deepEqual(buckets.sort(), [...manifest.buckets].sort());
    for (const bucket of manifest.buckets) {
      const want = manifest.objects.filter((o) => o.bucket === bucket);
      const keys: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < 100; page++) {
        const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 3, ContinuationToken: token }));
        for (const c of r.Contents ?? []) {
          keys.push(c.Key!);
          const o = want.find((x) => x.key === c.Key);
          assert.ok(o, `listed ${c.Key}`);
          assert.equal(c.Size, o.size);
          assert.equal(c.ETag, o.etag);
        }
        if (!r.IsTruncated) break;
        token = r.NextContinuationToken;
      }
      assert.deepEqual(keys, want.map((o) => o.key).sort(byBytes), bucket);
      const v = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      assert.equal(v.DeleteMarkers, undefined);
      assert.deepEqual(
        (v.Versions ?? []).map((x) => [x.Key, x.VersionId, x.IsLatest]),
        keys.map((k) => [k, 'null', true]),
      );
    }
  });

  it('GetBucketCors › the old CORS configuration → intact', async () => {
    const r = await s3.send(new GetBucketCorsCommand({ Bucket: manifest.cors.bucket }));
    assert.deepEqual(
      r.CORSRules?.map((x) => ({ ...x, ID: undefined })),
      manifest.cors.CORSRules.map((x) => ({ ...x, ID: undefined })),
    );
  });

  it('ListMultipartUploads / ListParts / CompleteMultipartUpload › the old upload in progress → listed with its parts, then completes byte for byte', async () => {
    const u = manifest.uploads[0]!;
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: u.bucket }));
    assert.deepEqual(
      uploads.Uploads?.map((x) => [x.Key, x.UploadId]),
      [[u.key, u.uploadId]],
    );
    const parts = await s3.send(new ListPartsCommand({ Bucket: u.bucket, Key: u.key, UploadId: u.uploadId }));
    assert.deepEqual(
      parts.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]),
      u.parts.map((p) => [p.partNumber, p.etag, p.size]),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: u.bucket,
        Key: u.key,
        UploadId: u.uploadId,
        MultipartUpload: { Parts: u.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
    const { r, bytes } = await getBytes(u.bucket, u.key);
    assert.equal(sha256(bytes), u.sha256OfAll);
    assert.deepEqual(r.Metadata, u.metadata);
    assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: u.bucket }))).Uploads, undefined);
  });

  it('PutObject / DeleteObject › new writes on a migrated bucket → read back; the old objects untouched', async () => {
    const small = Buffer.from('written after the upgrade');
    const big = Buffer.alloc(300 * 1024, 7);
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'new/small.txt', Body: small }));
    await s3.send(new PutObjectCommand({ Bucket: 'backups', Key: 'big/2m.bin', Body: big })); // overwrites an old piece-file object
    await s3.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'empty' }));
    assert.deepEqual((await getBytes('photos', 'new/small.txt')).bytes, small);
    assert.equal(sha256((await getBytes('backups', 'big/2m.bin')).bytes), sha256(big));
    assert.equal((await errorOf(s3.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'empty' })))).$metadata.httpStatusCode, 404);
    const o = manifest.objects.find((x) => x.key === 'big/300k.bin')!;
    assert.equal(sha256((await getBytes(o.bucket, o.key)).bytes), o.sha256);
  });

  it('PutBucketVersioning › Enabled on a migrated bucket → new versions over the old null version, delete markers, the null version still readable', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'photos', VersioningConfiguration: { Status: 'Enabled' } }));
    const old = manifest.objects.find((x) => x.bucket === 'photos' && x.key === 'a.txt')!;
    const put = await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a.txt', Body: 'version 2' }));
    assert.ok(put.VersionId && put.VersionId !== 'null');
    assert.equal((await getBytes('photos', 'a.txt')).bytes.toString(), 'version 2');
    assert.equal(sha256((await getBytes('photos', 'a.txt', 'null')).bytes), old.sha256);
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'a.txt' }));
    assert.equal(del.DeleteMarker, true);
    assert.equal((await errorOf(s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'a.txt' })))).$metadata.httpStatusCode, 404);
    const v = await s3.send(new ListObjectVersionsCommand({ Bucket: 'photos', Prefix: 'a.txt' }));
    assert.deepEqual(
      v.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest]),
      [[del.VersionId, true]],
    );
    assert.deepEqual(
      v.Versions?.map((x) => [x.VersionId, x.IsLatest]),
      [
        [put.VersionId, false],
        ['null', false],
      ],
    );
    // ListObjectsV2 leaves the key out while its latest version is a delete marker.
    const listed = (await s3.send(new ListObjectsV2Command({ Bucket: 'photos' }))).Contents!.map((c) => c.Key);
    assert.ok(!listed.includes('a.txt'));
    // Removing the marker restores version 2.
    await s3.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'a.txt', VersionId: del.VersionId }));
    assert.equal((await getBytes('photos', 'a.txt')).bytes.toString(), 'version 2');
  });

  it('restart › the migrated directory opens again (current format, nothing migrated twice) and keeps its objects', async () => {
    s3.destroy();
    await server.stop();
    assert.equal(formatVersion(), 12);
    server = await startServer({ dataDir });
    s3 = testClient(server.url);
    const o = manifest.objects.find((x) => x.key === 'ünïcødé/çà et là 🎉.txt')!;
    assert.equal(sha256((await getBytes(o.bucket, o.key)).bytes), o.sha256);
    assert.equal((await getBytes('photos', 'a.txt')).bytes.toString(), 'version 2');
  });
});
