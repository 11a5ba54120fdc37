// Users' policies decide their requests (authorize.ts → the policy language): a second and third user
// made through the admin API, with a canned policy, a managed policy using ${aws:username} and
// s3:prefix, and a group, against a real Strata process — aws-sdk-js, boto3 (both) and the AWS CLI
// as those users; root and an anonymous caller beside them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { TestUser } from '../helpers/admin.js';
import { AWS_CLI, BOTO3_PYTHONS, isolatedClientEnv, newBucketName, run, runPythonCheck } from '../helpers/clients.js';
import { errorOf, testClient, userClients } from '../helpers/s3.js';
import { REGION, startServer, type RunningServer } from '../helpers/server.js';

describe('IAM policies: what each user may do', () => {
  let server: RunningServer;
  let root: S3Client;
  let reader: TestUser;
  let homer: TestUser;
  const bucket = newBucketName('team');
  const users = userClients(() => server.url);
  const { as, admin } = users;
  const body = async (c: S3Client, key: string) => (await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();

  before(async () => {
    server = await startServer({ users: [{ name: 'reader', policies: ['readonly'] }, { name: 'homer' }] });
    [reader, homer] = server.users as [TestUser, TestUser];
    root = testClient(server.url);
    await root.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const key of ['a.txt', 'home/homer/x.txt', 'home/other/y.txt']) await root.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    // AWS's home-folder example: list only under home/<name>/, read and write only there.
    const home = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ListOwnHome',
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: `arn:aws:s3:::${bucket}`,
          Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } },
        },
        { Sid: 'OwnHome', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${bucket}/home/\${aws:username}/*` },
      ],
    };
    assert.equal((await admin('POST', 'policies', { name: 'home', document: home })).status, 200);
    assert.equal((await admin('POST', 'policies/home/attach', { user: 'homer' })).status, 200);
  });

  after(async () => {
    root?.destroy();
    users.destroy();
    await server?.stop();
  });

  it('canned readonly (aws-sdk-js) › reads objects; cannot write, delete, list or create buckets → AccessDenied', async () => {
    const s3 = as(reader);
    assert.equal(await body(s3, 'a.txt'), 'a.txt');
    const refused: Array<[string, () => Promise<unknown>]> = [
      ['PutObject', () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'nope', Body: 'x' }))],
      ['DeleteObject', () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a.txt' }))],
      ['ListObjectsV2', () => s3.send(new ListObjectsV2Command({ Bucket: bucket }))],
      ['CreateBucket', () => s3.send(new CreateBucketCommand({ Bucket: newBucketName('mine') }))],
      ['ListBuckets', () => s3.send(new ListBucketsCommand({}))],
    ];
    for (const [name, call] of refused) {
      const err = await errorOf(call());
      assert.deepEqual([err.name, err.$metadata.httpStatusCode], ['AccessDenied', 403], name);
    }
    assert.equal(await body(root, 'a.txt'), 'a.txt', 'the refused delete changed nothing');
  });

  it('home folder with ${aws:username} and s3:prefix › homer lists and writes only under home/homer/', async () => {
    const s3 = as(homer);
    const mine = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'home/homer/' }));
    assert.deepEqual(
      mine.Contents?.map((o) => o.Key),
      ['home/homer/x.txt'],
    );
    for (const prefix of [undefined, 'home/', 'home/other/']) {
      const err = await errorOf(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix })));
      assert.equal(err.name, 'AccessDenied', `prefix ${prefix}`);
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'home/homer/new.txt', Body: 'new' }));
    assert.equal(await body(s3, 'home/homer/new.txt'), 'new');
    // Both sent at once, each with its rejection handler attached at once: the second may fail
    // before the first is awaited (an unhandled rejection fails the test otherwise).
    for (const p of [
      errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'home/other/y.txt' }))),
      errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' }))),
    ]) {
      assert.equal((await p).name, 'AccessDenied');
    }
    const other = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'home/other/z.txt', Body: 'z' })));
    assert.equal(other.name, 'AccessDenied');
  });

  it('groups › a group policy applies to its members on the next request, and stops when they leave', async () => {
    const s3 = as(reader);
    const put = () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'by-reader', Body: 'r' }));
    assert.equal((await errorOf(put())).name, 'AccessDenied');
    assert.equal((await admin('POST', 'groups', { name: 'writers', members: ['reader'] })).status, 200);
    assert.equal((await admin('POST', 'policies/readwrite/attach', { group: 'writers' })).status, 200);
    await put();
    assert.equal(await body(root, 'by-reader'), 'r');
    assert.equal((await admin('POST', 'groups/writers/members/remove', { users: ['reader'] })).status, 200);
    assert.equal((await errorOf(put())).name, 'AccessDenied');
  });

  it('anonymous › a private bucket refuses an unsigned GET (curl-style, no credentials)', async () => {
    const res = await fetch(`${server.url}/${bucket}/a.txt`);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /<Code>AccessDenied<\/Code>/);
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › iam_policies.py as the readonly user: get works, put is AccessDenied`, async (t) => {
      const r = await runPythonCheck(python, 'iam_policies.py', server, { bucket, accessKey: reader.accessKey, secretKey: reader.secretKey });
      t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
      assert.match(r.stdout, /^ok {3}read a\.txt$/m);
      assert.match(r.stdout, /^ok {3}put refused AccessDenied$/m);
    });
  }

  it('AWS CLI as homer › s3api list-objects-v2 under home/homer/ works; without the prefix → AccessDenied', async (t) => {
    const { env, cleanup } = await isolatedClientEnv({
      AWS_ACCESS_KEY_ID: homer.accessKey,
      AWS_SECRET_ACCESS_KEY: homer.secretKey,
      AWS_DEFAULT_REGION: REGION,
      AWS_PAGER: '',
    });
    try {
      const ok = await run(
        AWS_CLI,
        ['s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'home/homer/', '--endpoint-url', server.url, '--output', 'json'],
        { env },
      );
      assert.equal(ok.code, 0, ok.stderr);
      t.diagnostic((await run(AWS_CLI, ['--version'], { env })).stdout.trim());
      assert.ok((JSON.parse(ok.stdout) as { Contents: { Key: string }[] }).Contents.every((o) => o.Key.startsWith('home/homer/')));
      const denied = await run(AWS_CLI, ['s3api', 'list-objects-v2', '--bucket', bucket, '--endpoint-url', server.url], { env });
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /AccessDenied/);
    } finally {
      await cleanup();
    }
  });
});
