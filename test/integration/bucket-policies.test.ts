// Bucket policies, Block Public Access and anonymous access against a real Strata process: the
// operations with aws-sdk-js, boto3 (both) and the AWS CLI; curl and a browser-style fetch as the
// anonymous caller (GET, HEAD, listing, PUT where granted); a second user denied by a bucket policy
// its identity policy would allow, a third granted by one where it has no policy of its own;
// BlockPublicPolicy, RestrictPublicBuckets and the aws:SourceIp / aws:Referer / aws:SecureTransport
// conditions.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { TestUser } from '../helpers/admin.js';
import { AWS_CLI, BOTO3_PYTHONS, CURL, awsCliEnv, describeRun, newBucketName, run, runPythonCheck } from '../helpers/clients.js';
import { errorOf, testClient, userClients } from '../helpers/s3.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const ACCOUNT = '000000000000';

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: unknown;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const policyOf = (...statements: Statement[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const objects = (bucket: string, prefix = '') => `arn:aws:s3:::${bucket}/${prefix}*`;
const userArn = (u: TestUser) => `arn:aws:iam::${ACCOUNT}:user/${u.name}`;

interface Answer {
  status: number;
  body: string;
}

/** One anonymous request with curl (no credentials at all): the status and the body. */
async function curl(url: string, extra: string[] = []): Promise<Answer> {
  const r = await run(CURL, ['-sS', '--max-time', '30', '-o', '-', '-w', '\n%{http_code}', ...extra, url]);
  assert.equal(r.code, 0, describeRun('curl', r));
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

describe('bucket policies and anonymous access', () => {
  let server: RunningServer;
  let root: S3Client;
  let writer: TestUser; // canned readwrite: everything on every bucket, unless a bucket policy denies
  let guest: TestUser; // no policy of its own
  const users = userClients(() => server.url);
  const { as } = users;
  const putPolicy = (bucket: string, policy: string) => root.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
  const read = async (c: S3Client, bucket: string, key: string) => (await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
  const makeBucket = async (prefix: string, keys: string[] = []): Promise<string> => {
    const bucket = newBucketName(prefix);
    await root.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const key of keys) await root.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
    return bucket;
  };

  before(async () => {
    server = await startServer({ users: [{ name: 'writer', policies: ['readwrite'] }, { name: 'guest' }] });
    [writer, guest] = server.users as [TestUser, TestUser];
    root = testClient(server.url);
  });
  after(async () => {
    root?.destroy();
    users.destroy();
    await server?.stop();
  });

  it('aws-sdk-js › Put/Get/DeleteBucketPolicy round trip (the document as sent), PolicyStatus, NoSuchBucketPolicy', async () => {
    const bucket = await makeBucket('rt');
    for (const call of [
      () => root.send(new GetBucketPolicyCommand({ Bucket: bucket })),
      () => root.send(new GetBucketPolicyStatusCommand({ Bucket: bucket })),
    ]) {
      const err = await errorOf(call());
      assert.deepEqual([err.name, err.$metadata.httpStatusCode], ['NoSuchBucketPolicy', 404]);
    }
    const text = JSON.stringify(JSON.parse(policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: objects(bucket) })), null, 4);
    await putPolicy(bucket, text);
    assert.equal((await root.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, text);
    assert.equal((await root.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic, true);
    // Only a fixed user: not public.
    await putPolicy(bucket, policyOf({ Effect: 'Allow', Principal: { AWS: userArn(guest) }, Action: 's3:GetObject', Resource: objects(bucket) }));
    assert.equal((await root.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic, false);
    const del = await root.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.equal((await errorOf(root.send(new GetBucketPolicyCommand({ Bucket: bucket })))).name, 'NoSuchBucketPolicy');
    // Deleting again is still 204.
    assert.equal((await root.send(new DeleteBucketPolicyCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 204);
  });

  it('aws-sdk-js › MalformedPolicy with the reason: bad JSON, no Principal, a Resource outside the bucket, an unknown action, an unknown user, over 20 KiB', async () => {
    const bucket = await makeBucket('bad');
    const cases: Array<[string, string]> = [
      ['{"Version": "2012-10-17", "Statement": ', 'This policy contains invalid Json'],
      [
        JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: objects(bucket) }] }),
        'Missing required field Principal',
      ],
      [policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: objects('another-bucket') }), 'Policy has invalid resource'],
      [policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:FlyToTheMoon', Resource: objects(bucket) }), 'Policy has invalid action'],
      [
        policyOf({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/nobody-here` }, Action: 's3:GetObject', Resource: objects(bucket) }),
        'Invalid principal in policy',
      ],
      [
        policyOf({ Sid: 'x'.repeat(21 * 1024), Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: objects(bucket) }),
        'Policy exceeds the maximum allowed document size.',
      ],
    ];
    for (const [policy, reason] of cases) {
      const err = await errorOf(putPolicy(bucket, policy));
      assert.deepEqual([err.name, err.$metadata.httpStatusCode, err.message], ['MalformedPolicy', 400, reason], policy.slice(0, 80));
    }
    assert.equal((await errorOf(root.send(new GetBucketPolicyCommand({ Bucket: bucket })))).name, 'NoSuchBucketPolicy', 'nothing stored');
  });

  it('aws-sdk-js › Put/Get/DeletePublicAccessBlock round trip, NoSuchPublicAccessBlockConfiguration', async () => {
    const bucket = await makeBucket('pab');
    const missing = await errorOf(root.send(new GetPublicAccessBlockCommand({ Bucket: bucket })));
    assert.deepEqual([missing.name, missing.$metadata.httpStatusCode], ['NoSuchPublicAccessBlockConfiguration', 404]);
    const config = { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: false };
    await root.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: config }));
    assert.deepEqual((await root.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration, config);
    // Elements left out are off.
    await root.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    assert.deepEqual((await root.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration, {
      BlockPublicAcls: false,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    });
    assert.equal((await root.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 204);
    assert.equal((await errorOf(root.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))).name, 'NoSuchPublicAccessBlockConfiguration');
  });

  it('users › the policy operations need their own actions: readwrite may, guest (no policy) may not', async () => {
    const bucket = await makeBucket('ops');
    const policy = policyOf({ Effect: 'Allow', Principal: { AWS: userArn(guest) }, Action: 's3:GetObject', Resource: objects(bucket) });
    await as(writer).send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
    assert.equal((await as(writer).send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, policy);
    const err = await errorOf(as(guest).send(new GetBucketPolicyCommand({ Bucket: bucket })));
    assert.deepEqual([err.name, err.$metadata.httpStatusCode], ['AccessDenied', 403]);
    assert.equal((await errorOf(as(guest).send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy })))).name, 'AccessDenied');
  });

  it('anonymous (curl) › private bucket → 403 "Access Denied"; under a public-read policy GET/HEAD work, listing and PUT stay refused', async () => {
    const bucket = await makeBucket('site', ['index.html', 'css/site.css']);
    const url = `${server.url}/${bucket}`;
    const mark = server.logs().length;
    const refused = await curl(`${url}/index.html`);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /<Code>AccessDenied<\/Code><Message>Access Denied<\/Message>/);
    const [line] = (await server.accessLog(mark)).filter((l) => l.op === 'GetObject');
    assert.deepEqual([line?.status, line?.denied?.principal, line?.denied?.action], [403, 'anonymous', 's3:GetObject']);

    await putPolicy(bucket, policyOf({ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: objects(bucket) }));
    const got = await curl(`${url}/index.html`);
    assert.deepEqual(got, { status: 200, body: 'body of index.html' });
    const head = await run(CURL, ['-sS', '-I', `${url}/css/site.css`]);
    assert.match(head.stdout, /^HTTP\/1\.1 200/);
    assert.match(head.stdout, /content-length: 20/i);
    // Not granted: s3:ListBucket and s3:PutObject.
    assert.equal((await curl(`${url}?list-type=2`)).status, 403);
    assert.equal((await curl(`${url}/new.txt`, ['-X', 'PUT', '--data-binary', 'x'])).status, 403);
    // A missing key under s3:GetObject without s3:ListBucket: 403, as S3 answers (no hint that it is missing).
    assert.equal((await curl(`${url}/missing.html`)).status, 403);
  });

  it('anonymous (browser-style fetch) › GET with Origin/Referer and no signature under a public-read policy → the bytes', async () => {
    const bucket = await makeBucket('web', ['app.js']);
    await putPolicy(bucket, policyOf({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: objects(bucket) }));
    const res = await fetch(`${server.url}/${bucket}/app.js`, {
      headers: { Origin: 'https://example.com', Referer: 'https://example.com/page', Accept: '*/*', 'User-Agent': 'Mozilla/5.0' },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'body of app.js');
  });

  it('anonymous › s3:ListBucket granted → ListObjects and ListObjectsV2 (curl); s3:PutObject granted under uploads/ → PUT and a POST form there only', async () => {
    const bucket = await makeBucket('drop', ['a.txt', 'uploads/seed.txt']);
    await putPolicy(
      bucket,
      policyOf(
        { Sid: 'List', Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` },
        { Sid: 'Drop', Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: objects(bucket, 'uploads/') },
      ),
    );
    const v1 = await curl(`${server.url}/${bucket}`);
    assert.equal(v1.status, 200);
    assert.match(v1.body, /<Key>a\.txt<\/Key>/);
    const v2 = await curl(`${server.url}/${bucket}?list-type=2&prefix=uploads/`);
    assert.equal(v2.status, 200);
    assert.match(v2.body, /<Key>uploads\/seed\.txt<\/Key>/);
    assert.doesNotMatch(v2.body, /a\.txt/);
    const put = await curl(`${server.url}/${bucket}/uploads/anon.txt`, ['-X', 'PUT', '--data-binary', 'from nobody']);
    assert.equal(put.status, 200, put.body);
    assert.equal(await read(root, bucket, 'uploads/anon.txt'), 'from nobody');
    assert.equal((await curl(`${server.url}/${bucket}/elsewhere.txt`, ['-X', 'PUT', '--data-binary', 'x'])).status, 403);
    // A browser form with no policy and no signature is anonymous too: stored under uploads/ only.
    const form = (key: string) => {
      const fd = new FormData();
      fd.append('key', key);
      fd.append('file', new Blob(['form bytes']), 'f.txt');
      return fetch(`${server.url}/${bucket}`, { method: 'POST', body: fd });
    };
    assert.equal((await form('uploads/form.txt')).status, 204);
    assert.equal(await read(root, bucket, 'uploads/form.txt'), 'form bytes');
    const outside = await form('form.txt');
    assert.equal(outside.status, 403);
    assert.match(await outside.text(), /<Code>AccessDenied<\/Code>/);
    assert.equal((await curl(`${server.url}/${bucket}/a.txt`)).status, 403, 'GetObject is not granted');
  });

  it('second user › an explicit Deny in the bucket policy beats its readwrite identity policy; root stays allowed', async () => {
    const bucket = await makeBucket('deny', ['open.txt', 'secret/plans.txt']);
    await putPolicy(
      bucket,
      policyOf({
        Sid: 'NoSecrets',
        Effect: 'Deny',
        Principal: { AWS: userArn(writer) },
        Action: ['s3:GetObject', 's3:DeleteObject'],
        Resource: objects(bucket, 'secret/'),
      }),
    );
    const s3 = as(writer);
    assert.equal(await read(s3, bucket, 'open.txt'), 'body of open.txt');
    for (const call of [
      () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret/plans.txt' })),
      () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'secret/plans.txt' })),
    ]) {
      const err = await errorOf(call());
      assert.deepEqual([err.name, err.$metadata.httpStatusCode, err.message], ['AccessDenied', 403, 'Access Denied']);
    }
    // Not denied: writing there (the policy denies reads and deletes only).
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret/new.txt', Body: 'n' }));
    // Another user the Deny does not name, and root (always allowed: a documented difference from AWS).
    assert.equal(await read(root, bucket, 'secret/plans.txt'), 'body of secret/plans.txt');
  });

  it('third user › a bucket policy grants guest (no identity policy) reading and listing one bucket, nothing else', async () => {
    const shared = await makeBucket('shared', ['report.csv']);
    const other = await makeBucket('other', ['x.txt']);
    const s3 = as(guest);
    assert.equal((await errorOf(s3.send(new GetObjectCommand({ Bucket: shared, Key: 'report.csv' })))).name, 'AccessDenied', 'before the policy');
    await putPolicy(
      shared,
      policyOf(
        { Effect: 'Allow', Principal: { AWS: [userArn(guest)] }, Action: 's3:GetObject', Resource: objects(shared) },
        { Effect: 'Allow', Principal: { AWS: userArn(guest) }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${shared}` },
      ),
    );
    assert.equal(await read(s3, shared, 'report.csv'), 'body of report.csv');
    assert.deepEqual(
      (await s3.send(new ListObjectsV2Command({ Bucket: shared }))).Contents?.map((o) => o.Key),
      ['report.csv'],
    );
    for (const call of [
      () => s3.send(new PutObjectCommand({ Bucket: shared, Key: 'mine.txt', Body: 'm' })),
      () => s3.send(new GetObjectCommand({ Bucket: other, Key: 'x.txt' })),
    ]) {
      assert.equal((await errorOf(call())).name, 'AccessDenied');
    }
    // The grant names guest only: writer's readwrite still works, anonymous does not.
    assert.equal((await curl(`${server.url}/${shared}/report.csv`)).status, 403);
  });

  it('BlockPublicPolicy › a public policy is refused with AccessDenied (root too), a fixed-principal one is stored', async () => {
    const bucket = await makeBucket('block');
    await root.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
    const err = await errorOf(putPolicy(bucket, policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: objects(bucket) })));
    assert.deepEqual([err.name, err.$metadata.httpStatusCode], ['AccessDenied', 403]);
    assert.equal((await errorOf(root.send(new GetBucketPolicyCommand({ Bucket: bucket })))).name, 'NoSuchBucketPolicy');
    await putPolicy(bucket, policyOf({ Effect: 'Allow', Principal: { AWS: userArn(guest) }, Action: 's3:GetObject', Resource: objects(bucket) }));
    // "*" pinned to one address is not public either.
    await putPolicy(
      bucket,
      policyOf({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: objects(bucket),
        Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.1/32' } },
      }),
    );
  });

  it('RestrictPublicBuckets › the public policy stops serving anonymous callers (account users keep it); switched off → served again', async () => {
    const bucket = await makeBucket('restrict', ['page.html']);
    await putPolicy(bucket, policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: objects(bucket) }));
    assert.equal((await curl(`${server.url}/${bucket}/page.html`)).status, 200);
    await root.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    const refused = await curl(`${server.url}/${bucket}/page.html`);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /<Code>AccessDenied<\/Code>/);
    assert.equal(await read(as(guest), bucket, 'page.html'), 'body of page.html', 'guest is in the bucket owner account');
    await root.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    assert.equal((await curl(`${server.url}/${bucket}/page.html`)).status, 200);
  });

  it('conditions › aws:SourceIp 127.0.0.1/32 serves the anonymous GET, 10.0.0.0/8 does not (and is not public)', async () => {
    const bucket = await makeBucket('ip', ['f.txt']);
    const byIp = (cidr: string) =>
      policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: objects(bucket), Condition: { IpAddress: { 'aws:SourceIp': [cidr] } } });
    await putPolicy(bucket, byIp('127.0.0.1/32'));
    assert.equal((await curl(`${server.url}/${bucket}/f.txt`)).status, 200);
    assert.equal((await root.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic, false);
    await putPolicy(bucket, byIp('10.0.0.0/8'));
    assert.equal((await curl(`${server.url}/${bucket}/f.txt`)).status, 403);
  });

  it('conditions › aws:Referer in an Allow, aws:SecureTransport false in a Deny (plain HTTP: writer refused)', async () => {
    const bucket = await makeBucket('cond', ['img.png']);
    await putPolicy(
      bucket,
      policyOf(
        {
          Sid: 'FromOurSite',
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: objects(bucket),
          Condition: { StringLike: { 'aws:Referer': ['https://example.com/*'] } },
        },
        {
          Sid: 'TlsOnly',
          Effect: 'Deny',
          Principal: { AWS: userArn(writer) },
          Action: 's3:*',
          Resource: objects(bucket),
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ),
    );
    assert.equal((await curl(`${server.url}/${bucket}/img.png`, ['-H', 'Referer: https://example.com/gallery'])).status, 200);
    assert.equal((await curl(`${server.url}/${bucket}/img.png`, ['-H', 'Referer: https://elsewhere.example/'])).status, 403);
    assert.equal((await curl(`${server.url}/${bucket}/img.png`)).status, 403);
    assert.equal((await errorOf(as(writer).send(new GetObjectCommand({ Bucket: bucket, Key: 'img.png' })))).name, 'AccessDenied');
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › bucket_policies.py: policy round trip, status, MalformedPolicy, PAB, BlockPublicPolicy, an UNSIGNED client`, async (t) => {
      const r = await runPythonCheck(python, 'bucket_policies.py', server, { bucket: newBucketName('py') });
      t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
      for (const check of ['no_policy_yet', 'anonymous_reads_under_public_policy', 'malformed_policies', 'block_public_policy_refuses']) {
        assert.match(r.stdout, new RegExp(`^ok {3}${check}$`, 'm'));
      }
    });
  }

  it('AWS CLI › s3api put-bucket-policy (file://), get-bucket-policy, get-bucket-policy-status, delete-bucket-policy', async (t) => {
    const bucket = await makeBucket('cli', ['doc.txt']);
    const { env, dir, cleanup } = await awsCliEnv();
    const aws = (args: string[]) => run(AWS_CLI, [...args, '--endpoint-url', server.url, '--output', 'json'], { env });
    try {
      t.diagnostic((await run(AWS_CLI, ['--version'], { env })).stdout.trim());
      const policy = policyOf({ Sid: 'CliPublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: objects(bucket) });
      const file = join(dir, 'policy.json');
      await writeFile(file, policy);
      const put = await aws(['s3api', 'put-bucket-policy', '--bucket', bucket, '--policy', `file://${file}`]);
      assert.equal(put.code, 0, describeRun('put-bucket-policy', put));
      const got = await aws(['s3api', 'get-bucket-policy', '--bucket', bucket]);
      assert.equal(got.code, 0, describeRun('get-bucket-policy', got));
      assert.equal((JSON.parse(got.stdout) as { Policy: string }).Policy, policy);
      const status = await aws(['s3api', 'get-bucket-policy-status', '--bucket', bucket]);
      assert.equal((JSON.parse(status.stdout) as { PolicyStatus: { IsPublic: boolean } }).PolicyStatus.IsPublic, true);
      assert.equal((await curl(`${server.url}/${bucket}/doc.txt`)).status, 200);
      assert.equal((await aws(['s3api', 'delete-bucket-policy', '--bucket', bucket])).code, 0);
      const missing = await aws(['s3api', 'get-bucket-policy', '--bucket', bucket]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /NoSuchBucketPolicy/);
      assert.equal((await curl(`${server.url}/${bucket}/doc.txt`)).status, 403);
    } finally {
      await cleanup();
    }
  });
});
