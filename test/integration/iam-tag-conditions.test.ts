// The object-tag condition keys (src/s3/tag-conditions.ts, docs/iam.md) and the lock headers by
// permission (object-lock.ts lockVisibility), against a real Strata process with aws-sdk-js, a
// hand-built POST form and raw fetch: a user allowed GetObject only where s3:ExistingObjectTag/public
// is "yes"; a user allowed PutObject (and PutObjectTagging) only with s3:RequestObjectTag/team =
// "blue"; users who may GetObject with or without GetObjectRetention / GetObjectLegalHold; root and
// an anonymous caller beside them.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type Keys, type TestUser, adminCall } from '../helpers/admin.js';
import { newBucketName } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const ROOT: Keys = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

/** A SigV4 POST form for `bucket` signed with `keys` (fields in order; the file goes last). */
function postForm(keys: Keys, bucket: string, key: string, extra: Record<string, string>): Record<string, string> {
  const now = new Date();
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  const amzDate = `${day}T${now.toISOString().slice(11, 19).replaceAll(':', '')}Z`;
  const credential = `${keys.accessKey}/${day}/${REGION}/s3/aws4_request`;
  const conditions = [
    { bucket },
    { key },
    { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
    { 'x-amz-credential': credential },
    { 'x-amz-date': amzDate },
    ...Object.entries(extra).map(([k, v]) => ({ [k]: v })),
  ];
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions })).toString('base64');
  const hmac = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${keys.secretKey}`, day), REGION), 's3'), 'aws4_request');
  return {
    key,
    ...extra,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': amzDate,
    policy,
    'x-amz-signature': createHmac('sha256', signingKey).update(policy).digest('hex'),
  };
}

const tagging = (tags: Record<string, string>) => ({ TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) });

describe('IAM: object-tag condition keys and lock headers by permission', { timeout: 180_000 }, () => {
  let server: RunningServer;
  let root: S3Client;
  let reader: TestUser;
  let blue: TestUser;
  let plain: TestUser;
  let auditor: TestUser;
  let holder: TestUser;
  const bucket = newBucketName('tags');
  const locked = newBucketName('locked');
  const clients: S3Client[] = [];
  const as = (u: Keys) => {
    const c = testClient(server.url, { credentials: { accessKeyId: u.accessKey, secretAccessKey: u.secretKey } });
    clients.push(c);
    return c;
  };
  const policy = async (name: string, user: string, statements: object[]) => {
    const r = await adminCall(server.url, ROOT, 'POST', 'policies', { name, document: { Version: '2012-10-17', Statement: statements } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await adminCall(server.url, ROOT, 'POST', `policies/${name}/attach`, { user })).status, 200);
  };
  const codeOf = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'OK';
    } catch (e) {
      return (e as { name: string }).name;
    }
  };
  const rootTags = async (key: string) =>
    (await root.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet?.map((t) => `${t.Key}=${t.Value}`);

  before(async () => {
    server = await startServer({ users: ['tagreader', 'blue', 'plain', 'auditor', 'holder'] });
    [reader, blue, plain, auditor, holder] = server.users as [TestUser, TestUser, TestUser, TestUser, TestUser];
    root = testClient(server.url);
    await root.send(new CreateBucketCommand({ Bucket: bucket }));
    await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'pub.txt', Body: 'pub', Tagging: 'public=yes&team=x' }));
    await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'priv.txt', Body: 'priv', Tagging: 'public=no' }));
    await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'none.txt', Body: 'none' }));
    const arn = `arn:aws:s3:::${bucket}/*`;
    await policy('public-tag-reader', 'tagreader', [
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectTagging'],
        Resource: arn,
        Condition: { StringEquals: { 's3:ExistingObjectTag/public': 'yes' } },
      },
    ]);
    await policy('blue-writer', 'blue', [
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:PutObjectTagging'],
        Resource: arn,
        Condition: { StringEquals: { 's3:RequestObjectTag/team': 'blue' }, 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['team', 'note'] } },
      },
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectTagging'], Resource: arn },
    ]);
    // Object lock: a version with GOVERNANCE retention and a legal hold.
    await root.send(new CreateBucketCommand({ Bucket: locked, ObjectLockEnabledForBucket: true }));
    await root.send(
      new PutObjectCommand({
        Bucket: locked,
        Key: 'held.txt',
        Body: 'held',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
        ObjectLockLegalHoldStatus: 'ON',
      }),
    );
    const lockArn = `arn:aws:s3:::${locked}/*`;
    await policy('get-only', 'plain', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: lockArn }]);
    await policy('get-retention', 'auditor', [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectRetention'], Resource: lockArn }]);
    await policy('get-hold', 'holder', [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectLegalHold'], Resource: lockArn }]);
  });

  after(async () => {
    for (const c of [root, ...clients]) c?.destroy();
    await server?.stop();
  });

  it('s3:ExistingObjectTag/public = yes › GET/HEAD/GetObjectTagging of a public=yes object work; public=no, untagged, missing → AccessDenied; a retag takes effect at once', async () => {
    const s3 = as(reader);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'pub.txt' }))).Body!.transformToString(), 'pub');
    assert.equal(await codeOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'pub.txt' }))), 'OK');
    assert.equal(await codeOf(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'pub.txt' }))), 'OK');
    for (const key of ['priv.txt', 'none.txt', 'missing.txt']) {
      assert.equal(await codeOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))), 'AccessDenied', key);
      assert.equal(await codeOf(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))), 'AccessDenied', key);
    }
    assert.equal(await codeOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'pub.txt', Body: 'x' }))), 'AccessDenied', 'no write');
    await root.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'priv.txt', Tagging: tagging({ public: 'yes' }) }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'priv.txt' }))).Body!.transformToString(), 'priv');
    await root.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'priv.txt', Tagging: tagging({ public: 'no' }) }));
    assert.equal(await codeOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'priv.txt' }))), 'AccessDenied');
    // Another user and an anonymous caller: the tag grants nothing to them.
    assert.equal(await codeOf(as(plain).send(new GetObjectCommand({ Bucket: bucket, Key: 'pub.txt' }))), 'AccessDenied');
    assert.equal((await fetch(`${server.url}/${bucket}/pub.txt`)).status, 403);
  });

  it('s3:RequestObjectTag/team = blue › PutObject, CreateMultipartUpload, CopyObject with team=blue work; team=red, no tags, an extra key → AccessDenied', async () => {
    const s3 = as(blue);
    const put = (Key: string, Tagging?: string) => codeOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key, Tagging })));
    assert.equal(await put('b1.txt', 'team=blue'), 'OK');
    assert.deepEqual(await rootTags('b1.txt'), ['team=blue']);
    assert.equal(await put('b2.txt', 'team=blue&note=hi'), 'OK');
    assert.equal(await put('r1.txt', 'team=red'), 'AccessDenied');
    assert.equal(await put('r2.txt'), 'AccessDenied');
    assert.equal(await put('r3.txt', 'team=blue&secret=1'), 'AccessDenied', 'ForAllValues on RequestObjectTagKeys');
    assert.equal(await codeOf(root.send(new HeadObjectCommand({ Bucket: bucket, Key: 'r1.txt' }))), 'NotFound', 'nothing written');
    const mpu = (Key: string, Tagging: string) => codeOf(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key, Tagging })));
    assert.equal(await mpu('m1.bin', 'team=blue'), 'OK');
    assert.equal(await mpu('m2.bin', 'team=red'), 'AccessDenied');
    const copy = (Key: string, Tagging: string) =>
      codeOf(s3.send(new CopyObjectCommand({ Bucket: bucket, Key, CopySource: `${bucket}/none.txt`, TaggingDirective: 'REPLACE', Tagging })));
    assert.equal(await copy('c1.txt', 'team=blue'), 'OK');
    assert.deepEqual(await rootTags('c1.txt'), ['team=blue']);
    assert.equal(await copy('c2.txt', 'team=red'), 'AccessDenied');
    // The tag condition is the blue user's only: another user's and an anonymous PUT stay refused.
    assert.equal(await codeOf(as(plain).send(new PutObjectCommand({ Bucket: bucket, Key: 'p.txt', Body: 'p', Tagging: 'team=blue' }))), 'AccessDenied');
    assert.equal((await fetch(`${server.url}/${bucket}/anon.txt`, { method: 'PUT', body: 'a', headers: { 'x-amz-tagging': 'team=blue' } })).status, 403);
  });

  it('s3:RequestObjectTag from the body › PutObjectTagging team=blue works, team=red → AccessDenied and the tags stay', async () => {
    const s3 = as(blue);
    const retag = (tags: Record<string, string>) => codeOf(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'b1.txt', Tagging: tagging(tags) })));
    assert.equal(await retag({ team: 'blue', note: 'again' }), 'OK');
    assert.deepEqual(await rootTags('b1.txt'), ['team=blue', 'note=again']);
    assert.equal(await retag({ team: 'red' }), 'AccessDenied');
    assert.equal(await retag({}), 'AccessDenied', 'removing the tags is not a team=blue request');
    assert.deepEqual(await rootTags('b1.txt'), ['team=blue', 'note=again']);
    const from = server.logs().length;
    assert.equal(await retag({ team: 'green' }), 'AccessDenied');
    const line = (await server.accessLog(from)).find((l) => l.op === 'PutObjectTagging');
    assert.deepEqual([line?.status, line?.denied?.action], [403, 's3:PutObjectTagging'], 'the deferred refusal is logged like any other');
  });

  it('s3:RequestObjectTag from a POST form’s tagging field › team=blue uploads, team=red → 403 AccessDenied', async () => {
    const upload = async (key: string, tags: string) => {
      const fields = postForm(blue, bucket, key, { tagging: `<Tagging><TagSet><Tag><Key>team</Key><Value>${tags}</Value></Tag></TagSet></Tagging>` });
      const fd = new FormData();
      for (const [k, v] of Object.entries(fields)) fd.append(k, v);
      fd.append('file', new Blob(['form']), 'f.txt');
      return fetch(`${server.url}/${bucket}`, { method: 'POST', body: fd });
    };
    const ok = await upload('form-blue.txt', 'blue');
    assert.equal(ok.status, 204, await ok.text());
    assert.deepEqual(await rootTags('form-blue.txt'), ['team=blue']);
    const refused = await upload('form-red.txt', 'red');
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>AccessDenied<\/Code>/);
  });

  it('lock headers › GetObject alone: none; + GetObjectRetention: mode and date only; + GetObjectLegalHold: the hold only; root: all; anonymous: 403', async () => {
    const lockHeaders = async (keys: Keys | undefined) => {
      const res = keys
        ? await as(keys).send(new HeadObjectCommand({ Bucket: locked, Key: 'held.txt' }))
        : await root.send(new HeadObjectCommand({ Bucket: locked, Key: 'held.txt' }));
      return [res.ObjectLockMode ?? '-', res.ObjectLockRetainUntilDate ? 'date' : '-', res.ObjectLockLegalHoldStatus ?? '-'];
    };
    assert.deepEqual(await lockHeaders(undefined), ['GOVERNANCE', 'date', 'ON']);
    assert.deepEqual(await lockHeaders(plain), ['-', '-', '-']);
    assert.deepEqual(await lockHeaders(auditor), ['GOVERNANCE', 'date', '-']);
    assert.deepEqual(await lockHeaders(holder), ['-', '-', 'ON']);
    // GET answers the same as HEAD (raw headers, with the body).
    const get = await as(plain).send(new GetObjectCommand({ Bucket: locked, Key: 'held.txt' }));
    assert.equal(await get.Body!.transformToString(), 'held');
    assert.deepEqual([get.ObjectLockMode, get.ObjectLockLegalHoldStatus], [undefined, undefined]);
    const got = await as(auditor).send(new GetObjectCommand({ Bucket: locked, Key: 'held.txt' }));
    await got.Body!.transformToString();
    assert.deepEqual([got.ObjectLockMode, got.ObjectLockLegalHoldStatus], ['GOVERNANCE', undefined]);
    assert.equal((await errorOf(as(reader).send(new HeadObjectCommand({ Bucket: locked, Key: 'held.txt' })))).$metadata.httpStatusCode, 403);
    assert.equal((await fetch(`${server.url}/${locked}/held.txt`, { method: 'HEAD' })).status, 403);
  });
});
