// SSE-S3 and SSE-KMS end to end against a server with the built-in key service (docs/encryption.md):
// the response headers on PUT, GET and HEAD (key ARN, encryption context, bucket key), ETags, range
// reads across packages, no plaintext on disk; bucket default encryption applied to PUTs without
// headers; who may use which key (kms:GenerateDataKey to write, kms:Decrypt to read, none for SSE-S3
// and the default key); a disabled key failing closed and readable again once enabled; a rotated key
// (old objects readable, new ones wrapped by the new version); and the client matrix: boto3 newest
// and Debian's, the AWS CLI, s3cmd, rclone (SSE-S3, SSE-KMS, and SSE-C over HTTPS with rclone's customer key).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import {
  BOTO3_PYTHONS,
  RCLONE,
  S3CMD,
  awsCli,
  awsCliEnv,
  describeRun,
  isolatedClientEnv,
  newBucketName,
  run,
  runPythonCheck,
  writeS3cmdConfig,
  writeSelfSignedCert,
} from '../helpers/clients.js';
import { createUser } from '../helpers/admin.js';
import { errorOf, testClient, userClients } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, type RunningServer, SECRET_KEY, startServer } from '../helpers/server.js';

const arn = (keyId: string) => `arn:aws:kms:us-east-1:000000000000:key/${keyId}`;
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
/** 200 KiB of text: four 64 KiB packages, not inline. */
const BODY = Buffer.from('0123456789abcdef-strata-plaintext-marker\n'.repeat(5000));

describe('SSE-S3 and SSE-KMS end to end (built-in key service)', { timeout: 600_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const users = userClients(() => server.url);
  const bucket = newBucketName('sse-kms');
  const defaulted = newBucketName('sse-kms-default');
  const put = (input: Partial<PutObjectCommandInput> & { Key: string }, client = s3) =>
    client.send(new PutObjectCommand({ Bucket: bucket, Body: 'x', ...input }));
  const get = async (Key: string, client = s3, Bucket = bucket) => {
    const r = await client.send(new GetObjectCommand({ Bucket, Key }));
    return { r, body: Buffer.from(await r.Body!.transformToByteArray()) };
  };
  const failure = async (p: Promise<unknown>) => {
    const e = await errorOf(p);
    return `${e.$metadata.httpStatusCode} ${e.name}`;
  };

  before(async () => {
    server = await startServer({ kms: true, users: ['kms-writer', 'kms-reader', 'kms-none'] });
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: defaulted }));
    for (const keyId of ['app-key', 'other-key']) assert.equal((await users.admin('POST', 'kms/keys', { keyId })).status, 200);
    const objects = [`arn:aws:s3:::${bucket}/*`, `arn:aws:s3:::${defaulted}/*`];
    const policies: Record<string, object[]> = {
      'kms-writer': [
        { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: objects },
        { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: arn('app-key') },
      ],
      'kms-reader': [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objects },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:aws:kms:*:*:key/app-*' },
      ],
      'kms-none': [{ Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: objects }],
    };
    for (const [user, Statement] of Object.entries(policies)) {
      assert.equal((await users.admin('POST', 'policies', { name: `${user}-policy`, document: { Version: '2012-10-17', Statement } })).status, 200);
      assert.equal((await users.admin('POST', `policies/${user}-policy/attach`, { user })).status, 200);
    }
  });

  after(async () => {
    users.destroy();
    s3?.destroy();
    await server?.stop();
  });

  it('SSE-S3 (aws-sdk-js) › AES256 echoed on PUT, GET, HEAD; the ETag is the MD5 (as AWS); range reads across package boundaries; the plaintext is nowhere on disk', async () => {
    const w = await put({ Key: 'sse-s3', Body: BODY, ServerSideEncryption: 'AES256' });
    assert.deepEqual([w.ServerSideEncryption, w.SSEKMSKeyId, w.ETag], ['AES256', undefined, `"${md5(BODY)}"`]);
    const { r, body } = await get('sse-s3');
    assert.equal(r.ServerSideEncryption, 'AES256');
    assert.ok(body.equals(BODY));
    for (const [start, end] of [
      [65530, 65545],
      [0, 0],
      [131071, 196608],
      [BODY.length - 7, BODY.length - 1],
    ] as const) {
      const part = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-s3', Range: `bytes=${start}-${end}` }));
      assert.ok(Buffer.from(await part.Body!.transformToByteArray()).equals(BODY.subarray(start, end + 1)), `${start}-${end}`);
    }
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sse-s3' }))).ServerSideEncryption, 'AES256');
    // Every file of the data directory (pieces, meta.db and its WAL): the marker never appears.
    const marker = Buffer.from('strata-plaintext-marker');
    const files = (await readdir(server.dataDir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile());
    assert.ok(files.length > 2);
    for (const f of files) {
      const bytes = await readFile(join(f.parentPath, f.name)).catch(() => Buffer.alloc(0));
      assert.equal(bytes.includes(marker), false, `${f.name} holds the plaintext`);
    }
  });

  it('SSE-KMS (aws-sdk-js) › the key as an ARN (id or ARN given; the default key without one), context and bucket key echoed, ETag not the MD5; unknown, foreign and alias keys → 400 KMS.NotFoundException, nothing stored', async () => {
    const context = Buffer.from(JSON.stringify({ department: 'finance' })).toString('base64');
    const w = await put({
      Key: 'kms',
      Body: BODY,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'app-key',
      SSEKMSEncryptionContext: context,
      BucketKeyEnabled: true,
    });
    assert.deepEqual([w.ServerSideEncryption, w.SSEKMSKeyId, w.SSEKMSEncryptionContext, w.BucketKeyEnabled], ['aws:kms', arn('app-key'), context, true]);
    assert.notEqual(w.ETag, `"${md5(BODY)}"`);
    const { r, body } = await get('kms');
    assert.ok(body.equals(BODY));
    assert.deepEqual([r.ServerSideEncryption, r.SSEKMSKeyId, r.BucketKeyEnabled, r.ETag], ['aws:kms', arn('app-key'), true, w.ETag]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms' }));
    assert.deepEqual([head.ServerSideEncryption, head.SSEKMSKeyId], ['aws:kms', arn('app-key')]);
    assert.equal((await put({ Key: 'kms-arn', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: arn('app-key') })).SSEKMSKeyId, arn('app-key'));
    assert.equal((await put({ Key: 'kms-default', ServerSideEncryption: 'aws:kms' })).SSEKMSKeyId, arn('strata-test'));
    const dsse = await put({ Key: 'kms-dsse', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: 'app-key' });
    assert.deepEqual([dsse.ServerSideEncryption, (await get('kms-dsse')).r.ServerSideEncryption], ['aws:kms:dsse', 'aws:kms:dsse']);
    for (const SSEKMSKeyId of ['no-such-key', 'arn:aws:kms:us-east-1:111122223333:key/app-key', 'alias/aws/s3']) {
      assert.equal(await failure(put({ Key: 'refused', ServerSideEncryption: 'aws:kms', SSEKMSKeyId })), '400 KMS.NotFoundException', SSEKMSKeyId);
    }
    assert.equal(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'refused' }))), '404 NotFound');
  });

  it('default encryption over HTTP › a PUT without headers gets the bucket’s aws:kms rule (key, bucket key); an aws:kms PUT without the bucket-key header takes the bucket’s; AES256 asked stays AES256', async () => {
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: defaulted,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'app-key' }, BucketKeyEnabled: true }],
        },
      }),
    );
    const w = await s3.send(new PutObjectCommand({ Bucket: defaulted, Key: 'no-headers', Body: BODY }));
    assert.deepEqual([w.ServerSideEncryption, w.SSEKMSKeyId, w.BucketKeyEnabled], ['aws:kms', arn('app-key'), true]);
    const { r, body } = await get('no-headers', s3, defaulted);
    assert.ok(body.equals(BODY));
    assert.equal(r.SSEKMSKeyId, arn('app-key'));
    const asked = await s3.send(
      new PutObjectCommand({ Bucket: defaulted, Key: 'asked-kms', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'other-key' }),
    );
    assert.deepEqual([asked.SSEKMSKeyId, asked.BucketKeyEnabled], [arn('other-key'), true]);
    const aes = await s3.send(new PutObjectCommand({ Bucket: defaulted, Key: 'asked-aes', Body: 'x', ServerSideEncryption: 'AES256' }));
    assert.deepEqual([aes.ServerSideEncryption, aes.SSEKMSKeyId, aes.BucketKeyEnabled], ['AES256', undefined, undefined]);
  });

  it('key permissions › a writer with kms:GenerateDataKey on app-key writes under it but may not read it back (kms:Decrypt), nor write under other-key; a reader with kms:Decrypt reads; SSE-S3 and the default key need no kms: permission; refusals logged with the kms: action', async () => {
    const [writer, reader, none] = server.users.map((u) => users.as(u)) as [S3Client, S3Client, S3Client];
    assert.equal((await put({ Key: 'by-writer', Body: BODY, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'app-key' }, writer)).SSEKMSKeyId, arn('app-key'));
    const from = server.logs().length;
    assert.equal(await failure(get('by-writer', writer)), '403 AccessDenied');
    assert.equal(await failure(put({ Key: 'writer-other', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'other-key' }, writer)), '403 AccessDenied');
    assert.equal(await failure(get('by-writer', none)), '403 AccessDenied');
    assert.equal(await failure(put({ Key: 'none-app', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'app-key' }, none)), '403 AccessDenied');
    assert.equal(
      await failure(none.send(new PutObjectCommand({ Bucket: defaulted, Key: 'none-default', Body: 'x' }))),
      '403 AccessDenied',
      'the bucket’s KMS rule needs the key too',
    );
    const lines = (await server.accessLog(from)).filter((l) => l.denied !== undefined);
    assert.deepEqual(
      lines.map((l) => `${l.op} ${l.denied?.action} ${l.denied?.resource}`).sort(),
      [
        'GetObject kms:Decrypt key',
        'PutObject kms:GenerateDataKey key',
        'GetObject kms:Decrypt key',
        'PutObject kms:GenerateDataKey key',
        'PutObject kms:GenerateDataKey key',
      ].sort(),
    );
    assert.ok((await get('by-writer', reader)).body.equals(BODY), 'kms:Decrypt on key/app-* reads');
    for (const [Key, extra] of [
      ['none-s3', { ServerSideEncryption: 'AES256' }],
      ['none-kms-default', { ServerSideEncryption: 'aws:kms' }],
    ] as const) {
      await put({ Key, Body: 'no kms permission needed', ...extra }, none);
      assert.equal((await get(Key, none)).body.toString(), 'no kms permission needed', Key);
    }
    for (const Key of ['writer-other', 'none-app']) assert.equal(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key }))), '404 NotFound', Key);
    assert.equal(await failure(s3.send(new HeadObjectCommand({ Bucket: defaulted, Key: 'none-default' }))), '404 NotFound');
  });

  it('policy condition s3:x-amz-server-side-encryption-aws-kms-key-id › compared as the key ARN whichever form the client sends: a user pinned to app-key writes with its id or ARN, not with another key or none', async () => {
    const pinned = await createUser(server.url, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, 'kms-pinned');
    const Statement = [
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { StringEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': arn('app-key') } },
      },
      { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: '*' },
    ];
    assert.equal((await users.admin('POST', 'policies', { name: 'kms-pinned-policy', document: { Version: '2012-10-17', Statement } })).status, 200);
    assert.equal((await users.admin('POST', 'policies/kms-pinned-policy/attach', { user: 'kms-pinned' })).status, 200);
    const client = users.as(pinned);
    assert.equal((await put({ Key: 'pinned-id', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'app-key' }, client)).SSEKMSKeyId, arn('app-key'));
    assert.equal((await put({ Key: 'pinned-arn', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: arn('app-key') }, client)).SSEKMSKeyId, arn('app-key'));
    assert.equal(await failure(put({ Key: 'pinned-other', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'other-key' }, client)), '403 AccessDenied');
    assert.equal(await failure(put({ Key: 'pinned-none', ServerSideEncryption: 'aws:kms' }, client)), '403 AccessDenied');
  });

  it('anonymous callers (a bucket policy grants everyone s3:GetObject and s3:PutObject) › SSE-S3 objects written and read; SSE-KMS refused, the default key included (403: no account to use a key with, as AWS), nothing stored', async () => {
    const open = newBucketName('sse-kms-public');
    await s3.send(new CreateBucketCommand({ Bucket: open }));
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${open}/*` }],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: open, Policy: JSON.stringify(policy) }));
    await s3.send(new PutObjectCommand({ Bucket: open, Key: 's3', Body: 'public', ServerSideEncryption: 'AES256' }));
    await s3.send(new PutObjectCommand({ Bucket: open, Key: 'kms-default', Body: 'public', ServerSideEncryption: 'aws:kms' }));
    await s3.send(new PutObjectCommand({ Bucket: open, Key: 'kms-app', Body: 'public', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'app-key' }));
    const anonymous = async (method: string, key: string, headers: Record<string, string> = {}) => {
      const r = await fetch(`${server.url}/${open}/${key}`, { method, headers, ...(method === 'PUT' && { body: 'anonymous' }) });
      const text = await r.text();
      return `${r.status}${r.status === 200 ? '' : ` ${/<Code>([^<]*)<\/Code>/.exec(text)?.[1]}`}${method === 'GET' && r.status === 200 ? ` ${text}` : ''}`;
    };
    assert.equal(await anonymous('GET', 's3'), '200 public');
    assert.equal(await anonymous('GET', 'kms-default'), '403 AccessDenied');
    assert.equal(await anonymous('GET', 'kms-app'), '403 AccessDenied');
    assert.equal(await anonymous('PUT', 'anon-s3', { 'x-amz-server-side-encryption': 'AES256' }), '200');
    assert.equal(await anonymous('GET', 'anon-s3'), '200 anonymous');
    assert.equal(await anonymous('PUT', 'anon-kms', { 'x-amz-server-side-encryption': 'aws:kms' }), '403 AccessDenied');
    assert.equal(await failure(s3.send(new HeadObjectCommand({ Bucket: open, Key: 'anon-kms' }))), '404 NotFound');
  });

  it('a disabled key › writes and reads under it fail closed (400 KMS.DisabledException; HEAD still answers), other keys unaffected; enabled again → readable and writable', async () => {
    await put({ Key: 'before-disable', Body: BODY, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'app-key' });
    assert.equal((await users.admin('POST', 'kms/keys/app-key/disable')).status, 200);
    try {
      assert.equal(await failure(get('before-disable')), '400 KMS.DisabledException');
      assert.equal(await failure(put({ Key: 'while-disabled', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'app-key' })), '400 KMS.DisabledException');
      assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: defaulted, Key: 'while-disabled', Body: 'x' }))), '400 KMS.DisabledException');
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'before-disable' }))).SSEKMSKeyId, arn('app-key'));
      assert.ok((await get('sse-s3')).body.equals(BODY), 'SSE-S3 (the default key) unaffected');
    } finally {
      assert.equal((await users.admin('POST', 'kms/keys/app-key/enable')).status, 200);
    }
    assert.ok((await get('before-disable')).body.equals(BODY));
    await put({ Key: 'after-enable', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'app-key' });
  });

  it('a rotated key › objects wrapped by the old version stay readable; new objects are wrapped by the new version (the data key’s version in meta.db)', async () => {
    await put({ Key: 'before-rotate', Body: BODY, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'app-key' });
    const rotated = await users.admin('POST', 'kms/keys/app-key/rotate');
    assert.equal(rotated.status, 200);
    const current = (rotated.body.key as { currentVersion: number }).currentVersion;
    await put({ Key: 'after-rotate', Body: BODY, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'app-key' });
    for (const key of ['before-rotate', 'after-rotate']) assert.ok((await get(key)).body.equals(BODY), key);
    const db = new Database(join(server.dataDir, 'meta.db'), { readonly: true, fileMustExist: true });
    try {
      const version = (key: string): number => {
        const row = db.prepare('SELECT extra FROM objects WHERE bucket = ? AND key = ? AND is_latest = 1').get(bucket, Buffer.from(key)) as { extra: string };
        const wrapped = Buffer.from((JSON.parse(row.extra) as { sse: { dataKey: string } }).sse.dataKey, 'base64');
        return wrapped.readUInt32BE(1); // data-key format 1: byte 0 the format, bytes 1-4 the version
      };
      assert.deepEqual([version('before-rotate'), version('after-rotate')], [current - 1, current]);
    } finally {
      db.close();
    }
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › sse_s3_kms.py: SSE-S3 and SSE-KMS put/get/head, key ARN, context, bucket key, unknown key, bucket default encryption`, async (t: TestContext) => {
      const r = await runPythonCheck(python, 'sse_s3_kms.py', server, { bucket: newBucketName('sse-py'), env: { S3_KMS_KEY: 'app-key' } });
      t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
    });
  }

  it('AWS CLI › aws s3 cp --sse AES256 and --sse aws:kms --sse-kms-key-id: head-object shows the encryption, the download is the upload', async () => {
    const cliEnv = await awsCliEnv();
    try {
      const { aws, s3api } = awsCli(() => ({ url: server.url, env: cliEnv.env, cwd: cliEnv.dir, logs: server.logs, timeoutMs: 60_000 }));
      await writeFile(join(cliEnv.dir, 'up.txt'), BODY);
      await aws(['s3', 'cp', 'up.txt', `s3://${bucket}/cli-s3`, '--sse', 'AES256']);
      await aws(['s3', 'cp', 'up.txt', `s3://${bucket}/cli-kms`, '--sse', 'aws:kms', '--sse-kms-key-id', 'app-key']);
      const s3Head = await s3api(['head-object', '--bucket', bucket, '--key', 'cli-s3']);
      assert.equal(s3Head.ServerSideEncryption, 'AES256');
      const kmsHead = await s3api(['head-object', '--bucket', bucket, '--key', 'cli-kms']);
      assert.deepEqual([kmsHead.ServerSideEncryption, kmsHead.SSEKMSKeyId], ['aws:kms', arn('app-key')]);
      for (const key of ['cli-s3', 'cli-kms']) {
        await aws(['s3', 'cp', `s3://${bucket}/${key}`, `${key}.down`]);
        assert.ok((await readFile(join(cliEnv.dir, `${key}.down`))).equals(BODY), key);
      }
    } finally {
      await cliEnv.cleanup();
    }
  });

  it('s3cmd › put --server-side-encryption (SSE-S3) and --server-side-encryption-kms-id (SSE-KMS); get returns the bytes; signed with SigV2, SSE-S3 works and SSE-KMS is refused both ways (400 InvalidArgument, as AWS)', async () => {
    const { env, dir, cleanup } = await isolatedClientEnv();
    try {
      const cfg = join(dir, 's3cfg');
      const cfgV2 = join(dir, 's3cfg-v2');
      await writeS3cmdConfig(cfg, server);
      await writeS3cmdConfig(cfgV2, server, { signatureV2: true });
      await writeFile(join(dir, 'up.txt'), BODY);
      const s3cmd = async (args: string[], config = cfg, expectFailure = false) => {
        const r = await run(S3CMD, ['-c', config, ...args], { env, cwd: dir, timeoutMs: 60_000 });
        if (expectFailure) assert.notEqual(r.code, 0, describeRun(`s3cmd ${args.join(' ')} (expected to fail)`, r));
        else assert.equal(r.code, 0, `${describeRun(`s3cmd ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
        return r;
      };
      await s3cmd(['put', '--server-side-encryption', join(dir, 'up.txt'), `s3://${bucket}/s3cmd-s3`]);
      await s3cmd(['put', '--server-side-encryption-kms-id=app-key', join(dir, 'up.txt'), `s3://${bucket}/s3cmd-kms`]);
      const s3Head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 's3cmd-s3' }));
      assert.equal(s3Head.ServerSideEncryption, 'AES256');
      const kmsHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 's3cmd-kms' }));
      assert.deepEqual([kmsHead.ServerSideEncryption, kmsHead.SSEKMSKeyId], ['aws:kms', arn('app-key')]);
      for (const key of ['s3cmd-s3', 's3cmd-kms']) {
        await s3cmd(['get', '--force', `s3://${bucket}/${key}`, join(dir, `${key}.down`)]);
        assert.ok((await readFile(join(dir, `${key}.down`))).equals(BODY), key);
      }
      await s3cmd(['put', '--server-side-encryption', join(dir, 'up.txt'), `s3://${bucket}/s3cmd-v2-s3`], cfgV2);
      await s3cmd(['get', '--force', `s3://${bucket}/s3cmd-v2-s3`, join(dir, 'v2-s3.down')], cfgV2);
      assert.ok((await readFile(join(dir, 'v2-s3.down'))).equals(BODY));
      const from = server.logs().length;
      const refusedPut = await s3cmd(['put', '--server-side-encryption-kms-id=app-key', join(dir, 'up.txt'), `s3://${bucket}/s3cmd-v2-kms`], cfgV2, true);
      assert.match(refusedPut.stderr + refusedPut.stdout, /InvalidArgument|Signature Version 4/);
      await s3cmd(['get', '--force', `s3://${bucket}/s3cmd-kms`, join(dir, 'v2-kms.down')], cfgV2, true);
      const lines = (await server.accessLog(from)).filter((l) => l.status >= 400).map((l) => `${l.op} ${l.status} ${l.s3Code}`);
      assert.ok(lines.includes('PutObject 400 InvalidArgument') && lines.includes('GetObject 400 InvalidArgument'), lines.join(', '));
      assert.equal(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 's3cmd-v2-kms' }))), '404 NotFound');
    } finally {
      await cleanup();
    }
  });

  it('rclone › --s3-server-side-encryption AES256, and aws:kms with --s3-sse-kms-key-id: the copies come back identical; SSE-C with --s3-sse-customer-key against an HTTPS server (rclone refuses SSE-C over HTTP itself): identical with the key, nothing without', async () => {
    const { env: base, dir, cleanup } = await isolatedClientEnv();
    const certDir = join(dir, 'certs');
    await mkdir(certDir);
    await writeSelfSignedCert(certDir);
    const tls = await startServer({ args: ['--certs', certDir], tls: true });
    try {
      const env = Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('RCLONE_')));
      const remote = (name: string, url: string) => ({
        [`RCLONE_CONFIG_${name}_TYPE`]: 's3',
        [`RCLONE_CONFIG_${name}_PROVIDER`]: 'Other',
        [`RCLONE_CONFIG_${name}_ACCESS_KEY_ID`]: ACCESS_KEY,
        [`RCLONE_CONFIG_${name}_SECRET_ACCESS_KEY`]: SECRET_KEY,
        [`RCLONE_CONFIG_${name}_ENDPOINT`]: url,
        [`RCLONE_CONFIG_${name}_REGION`]: REGION,
      });
      Object.assign(env, { RCLONE_CONFIG: join(dir, 'rclone.conf'), ...remote('STRATA', server.url), ...remote('STRATATLS', tls.url) });
      await writeFile(join(dir, 'rclone.conf'), '');
      await writeFile(join(dir, 'up.txt'), BODY);
      const rclone = async (args: string[], expectFailure = false) => {
        const r = await run(RCLONE, ['--no-check-certificate', '--retries', '1', ...args], { env, cwd: dir, timeoutMs: 120_000 });
        if (expectFailure) assert.notEqual(r.code, 0, describeRun(`rclone ${args.join(' ')} (expected to fail)`, r));
        else
          assert.equal(
            r.code,
            0,
            `${describeRun(`rclone ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}${tls.logs().slice(-3000)}`,
          );
      };
      const customerKey = 'abcdefghijklmnopqrstuvwxyz012345'; // 32 bytes, as rclone takes it raw
      const ssec = ['--s3-sse-customer-algorithm', 'AES256', '--s3-sse-customer-key', customerKey];
      const modes: Array<[string, string, string[]]> = [
        ['strata', 'rclone-s3', ['--s3-server-side-encryption', 'AES256']],
        ['strata', 'rclone-kms', ['--s3-server-side-encryption', 'aws:kms', '--s3-sse-kms-key-id', 'app-key']],
        ['stratatls', 'rclone-ssec', ssec],
      ];
      await rclone(['mkdir', `stratatls:${bucket}`]);
      for (const [where, key, flags] of modes) {
        await rclone(['copyto', ...flags, 'up.txt', `${where}:${bucket}/${key}`]);
        await rclone(['copyto', ...flags, `${where}:${bucket}/${key}`, `${key}.down`]);
        assert.ok((await readFile(join(dir, `${key}.down`))).equals(BODY), key);
      }
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'rclone-s3' }))).ServerSideEncryption, 'AES256');
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'rclone-kms' }))).SSEKMSKeyId, arn('app-key'));
      // The SSE-C object needs its key: without it the server refuses (400 InvalidRequest on HEAD, which
      // rclone takes for "no such file": nothing to transfer); no byte of it reaches the client.
      const from = tls.logs().length;
      await rclone(['copyto', `stratatls:${bucket}/rclone-ssec`, 'no-key.down']);
      await assert.rejects(readFile(join(dir, 'no-key.down')), { code: 'ENOENT' });
      const answers = (await tls.accessLog(from)).filter((l) => l.key === 'rclone-ssec').map((l) => `${l.op} ${l.status} ${l.s3Code ?? ''}`);
      assert.ok(answers.includes('HeadObject 400 InvalidRequest'), answers.join(', '));
      assert.ok(!answers.some((a) => a.startsWith('GetObject 2')), answers.join(', '));
    } finally {
      await tls.stop();
      await cleanup();
    }
  });
});
