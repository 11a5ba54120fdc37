// Two real Strata processes on one data directory (--shared yes), each with its hot-row cache
// (src/store/meta/sqlite-hot.ts): every change acknowledged through one server is seen by the very
// next request through the other — overwrites, deletes (plain and versioned, delete markers), bucket
// policy, ACL and versioning changes, a disabled user, a deleted bucket. Each round first reads
// through the other server (so its cache holds the old state), then changes, then reads again.
// aws-sdk-js for most of it; curl (its own SigV4 signer, --aws-sigv4) and anonymous fetch for reads.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { adminCall, createUser, type TestUser } from '../helpers/admin.js';
import { CURL, run } from '../helpers/clients.js';
import { errorOf, testClient, userClients } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const BUCKET = 'fresh';

describe('Two server processes: no stale read after an acknowledged change (hot-row cache)', () => {
  let dir: string;
  let a: RunningServer;
  let b: RunningServer;
  let sa: S3Client;
  let sb: S3Client;
  let user: TestUser;
  const usersB = userClients(() => b.url);

  const body = async (c: S3Client, Key: string, VersionId?: string, Bucket = BUCKET): Promise<string> =>
    (await c.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body!.transformToString();
  /** The other server as a pair: round i writes through one and reads through the other. */
  const pair = (i: number): [S3Client, S3Client] => (i % 2 === 0 ? [sa, sb] : [sb, sa]);
  const curlGet = async (server: RunningServer, path: string) => {
    const r = await run(CURL, [
      '-s',
      '-w',
      '\n%{http_code}',
      '-H',
      'x-amz-content-sha256: UNSIGNED-PAYLOAD',
      '--aws-sigv4',
      `aws:amz:${REGION}:s3`,
      '--user',
      `${ACCESS_KEY}:${SECRET_KEY}`,
      `${server.url}/${path}`,
    ]);
    const out = r.stdout;
    const nl = out.lastIndexOf('\n');
    return { status: Number(out.slice(nl + 1)), text: out.slice(0, nl) };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-fresh-'));
    a = await startServer({ dataDir: dir, args: ['--shared', 'yes'] });
    b = await startServer({ dataDir: dir, args: ['--shared', 'yes'] });
    sa = testClient(a.url);
    sb = testClient(b.url);
    await sa.send(new CreateBucketCommand({ Bucket: BUCKET }));
    user = await createUser(a.url, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, 'reader');
  });

  after(async () => {
    sa?.destroy();
    sb?.destroy();
    usersB.destroy();
    await Promise.all([a?.stop(), b?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('overwrite › 200 rounds: the other server answers GET and HEAD with the new bytes and ETag (aws-sdk-js; curl every tenth round)', async () => {
    await sa.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ow', Body: 'start' }));
    for (let i = 0; i < 200; i++) {
      const [writer, reader] = pair(i);
      assert.equal(await body(reader, 'ow'), i === 0 ? 'start' : `round ${i - 1}`);
      const put = await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ow', Body: `round ${i}` }));
      assert.equal((await reader.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'ow' }))).ETag, put.ETag, `round ${i}: HEAD`);
      assert.equal(await body(reader, 'ow'), `round ${i}`, `round ${i}: GET`);
      if (i % 10 === 0) {
        const r = await curlGet(i % 2 === 0 ? b : a, `${BUCKET}/ow`);
        assert.deepEqual([r.status, r.text], [200, `round ${i}`], `round ${i}: curl`);
      }
    }
  });

  it('delete › 50 rounds: after DELETE through one server, the other answers 404 NoSuchKey (GET and HEAD)', async () => {
    for (let i = 0; i < 50; i++) {
      const [writer, reader] = pair(i);
      await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'del', Body: `v${i}` }));
      assert.equal(await body(reader, 'del'), `v${i}`);
      await writer.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'del' }));
      assert.equal((await errorOf(reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'del' })))).name, 'NoSuchKey', `round ${i}`);
      assert.equal((await errorOf(reader.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'del' })))).$metadata.httpStatusCode, 404, `round ${i}: HEAD`);
    }
  });

  it('versions › 30 rounds: new version, delete marker and its removal, each seen at once by the other server; old versions by id stay right', async () => {
    const bucket = 'fresh-versions';
    await sa.send(new CreateBucketCommand({ Bucket: bucket }));
    await sa.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const first = await sa.send(new PutObjectCommand({ Bucket: bucket, Key: 'v', Body: 'first' }));
    for (let i = 0; i < 30; i++) {
      const [writer, reader] = pair(i);
      const put = await writer.send(new PutObjectCommand({ Bucket: bucket, Key: 'v', Body: `v${i}` }));
      const got = await reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'v' }));
      assert.deepEqual([await got.Body!.transformToString(), got.VersionId], [`v${i}`, put.VersionId], `round ${i}: latest`);
      assert.equal(await body(reader, 'v', first.VersionId, bucket), 'first');
      const marker = await writer.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'v' }));
      assert.equal(marker.DeleteMarker, true);
      const gone = await errorOf(reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'v' })));
      assert.equal(gone.name, 'NoSuchKey', `round ${i}: after the delete marker`);
      assert.equal(gone.$response?.headers['x-amz-delete-marker'], 'true');
      assert.equal(await body(reader, 'v', put.VersionId, bucket), `v${i}`, `round ${i}: the version by id`);
      await writer.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'v', VersionId: marker.VersionId }));
      assert.equal(await body(reader, 'v', undefined, bucket), `v${i}`, `round ${i}: marker removed`);
      // The version itself removed: the previous one is the latest again.
      await writer.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'v', VersionId: put.VersionId }));
      assert.equal(await body(reader, 'v', undefined, bucket), 'first', `round ${i}: version removed`);
      assert.equal((await errorOf(reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'v', VersionId: put.VersionId })))).name, 'NoSuchVersion');
    }
  });

  it('multipart completion and CopyObject › 10 rounds: the object either makes is what the other server answers next', async () => {
    await sa.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'src', Body: 'copied bytes' }));
    for (let i = 0; i < 10; i++) {
      const [writer, reader] = pair(i);
      await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mp', Body: 'before' }));
      assert.equal(await body(reader, 'mp'), 'before');
      const { UploadId } = await writer.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp' }));
      const part = await writer.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp', UploadId, PartNumber: 1, Body: `multipart ${i}` }));
      await writer.send(
        new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
      );
      assert.equal(await body(reader, 'mp'), `multipart ${i}`, `round ${i}: completed`);
      await writer.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'mp', CopySource: `${BUCKET}/src` }));
      assert.equal(await body(reader, 'mp'), 'copied bytes', `round ${i}: copied`);
    }
  });

  it('versioning › 20 rounds: a PUT through the other server follows the versioning state just set (a version id when Enabled, none when Suspended)', async () => {
    const bucket = 'fresh-versioning';
    await sa.send(new CreateBucketCommand({ Bucket: bucket }));
    for (let i = 0; i < 20; i++) {
      const [writer, reader] = pair(i);
      await writer.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      const on = await reader.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
      assert.match(on.VersionId ?? '', /^[0-9A-Za-z]{32}$/, `round ${i}: Enabled`);
      await writer.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }));
      const off = await reader.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'y' }));
      // The 'null' version a write makes has no x-amz-version-id (S3); a stale Enabled would give an id.
      assert.equal(off.VersionId, undefined, `round ${i}: Suspended`);
      const head = await reader.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
      assert.equal(head.VersionId, 'null');
    }
  });

  it('bucket policy › 20 rounds: a grant set through one server lets the user read through the other at once; its removal refuses at once', async () => {
    await sa.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'pol', Body: 'policy' }));
    const asUser = usersB.as(user);
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::000000000000:user/${user.name}`] }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
      ],
    });
    for (let i = 0; i < 20; i++) {
      assert.equal((await errorOf(asUser.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'pol' })))).name, 'AccessDenied', `round ${i}: before`);
      await sa.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policy }));
      assert.equal(await body(asUser, 'pol'), 'policy', `round ${i}: granted`);
      await sa.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    }
    assert.equal((await errorOf(asUser.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'pol' })))).name, 'AccessDenied');
  });

  it('object ACL › 20 rounds: public-read set through one server lets an anonymous caller read through the other; private refuses it at once', async () => {
    const bucket = 'fresh-acl';
    await sa.send(new CreateBucketCommand({ Bucket: bucket, ACL: 'public-read' }));
    await sa.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl', Body: 'acl' }));
    for (let i = 0; i < 20; i++) {
      const [writer] = pair(i);
      const server = i % 2 === 0 ? b : a;
      assert.equal((await fetch(`${server.url}/${bucket}/acl`)).status, 403, `round ${i}: private`);
      await writer.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl', ACL: 'public-read' }));
      const r = await fetch(`${server.url}/${bucket}/acl`);
      assert.deepEqual([r.status, await r.text()], [200, 'acl'], `round ${i}: public-read`);
      await writer.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl', ACL: 'private' }));
    }
  });

  it('user disabled › 10 rounds: disabled through one server, its key is refused by the other at once; enabled, accepted again', async () => {
    await sa.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'user', Body: 'user' }));
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::000000000000:user/${user.name}`] }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
      ],
    });
    await sa.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policy }));
    const asUser = usersB.as(user);
    const root = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
    try {
      for (let i = 0; i < 10; i++) {
        assert.equal(await body(asUser, 'user'), 'user', `round ${i}: enabled`);
        assert.equal((await adminCall(a.url, root, 'POST', `users/${user.name}/disable`, {})).status, 200);
        const e = await errorOf(asUser.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'user' })));
        assert.equal(e.$metadata.httpStatusCode, 403, `round ${i}: disabled (${e.name})`);
        assert.equal((await adminCall(a.url, root, 'POST', `users/${user.name}/enable`, {})).status, 200);
      }
    } finally {
      await sa.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    }
  });

  it('bucket deleted › 20 rounds: deleted through one server, the other answers NoSuchBucket at once (GET, HEAD, PUT)', async () => {
    for (let i = 0; i < 20; i++) {
      const [writer, reader] = pair(i);
      const bucket = `fresh-gone-${i}`;
      await writer.send(new CreateBucketCommand({ Bucket: bucket }));
      await reader.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'k' }));
      assert.equal(await body(reader, 'k', undefined, bucket), 'k');
      await writer.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
      await writer.send(new DeleteBucketCommand({ Bucket: bucket }));
      assert.equal((await errorOf(reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })))).name, 'NoSuchBucket', `round ${i}: GET`);
      assert.equal((await errorOf(reader.send(new HeadBucketCommand({ Bucket: bucket })))).$metadata.httpStatusCode, 404, `round ${i}: HEAD`);
      assert.equal((await errorOf(reader.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'k' })))).name, 'NoSuchBucket', `round ${i}: PUT`);
    }
  });
});
