// Default bucket encryption's configuration (Put/Get/DeleteBucketEncryption, docs/encryption.md
// "Default encryption"): round trips with aws-sdk-js and the AWS CLI, every refusal over hand-signed
// HTTP (MalformedXML, InvalidArgument, KMS.NotFoundException), who may (a user with only
// s3:GetEncryptionConfiguration, an anonymous caller), the server-wide SSE-S3 default
// (--sse-default AES256) answered for a bucket without a rule, and a server without a key service
// (PutBucketEncryption → 501 NotImplemented).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  type S3Client,
  type ServerSideEncryptionConfiguration,
} from '@aws-sdk/client-s3';
import { awsCli, awsCliEnv, newBucketName } from '../helpers/clients.js';
import { send, xmlText } from '../helpers/hand-sign.js';
import { errorOf, testClient, testSigner, userClients } from '../helpers/s3.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const AES256: ServerSideEncryptionConfiguration = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] };
const doc = (rule: string) => `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rule}</ServerSideEncryptionConfiguration>`;
const byDefault = (inner: string) => doc(`<Rule><ApplyServerSideEncryptionByDefault>${inner}</ApplyServerSideEncryptionByDefault></Rule>`);

/** A request signed by the root keys (aws-sdk-js's signer), or unsigned with `anonymous`. */
async function call(server: RunningServer, method: string, path: string, body?: string, anonymous = false) {
  const u = new URL(`${server.url}${path}`);
  const bytes = Buffer.from(body ?? '');
  const query = Object.fromEntries(u.searchParams);
  let headers: Record<string, string> = { host: u.host, 'x-amz-content-sha256': createHash('sha256').update(bytes).digest('hex') };
  if (!anonymous) {
    const signed = await testSigner.sign({
      method,
      protocol: 'http:',
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query,
      headers,
      body: bytes,
    });
    headers = signed.headers as Record<string, string>;
  }
  const r = await send(`${server.url}${path}`, method, headers, body === undefined ? undefined : bytes);
  return { status: r.status, code: xmlText(r.body, 'Code'), body: r.body };
}

describe('bucket encryption configuration (Put/Get/DeleteBucketEncryption)', { timeout: 240_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  const users = userClients(() => server.url);
  const bucket = newBucketName('bucket-enc');

  before(async () => {
    server = await startServer({ kms: true, users: ['enc-reader'] });
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    assert.equal((await users.admin('POST', 'kms/keys', { keyId: 'bucket-key' })).status, 200);
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetEncryptionConfiguration', Resource: `arn:aws:s3:::${bucket}` }] };
    assert.equal((await users.admin('POST', 'policies', { name: 'enc-read', document: policy })).status, 200);
    assert.equal((await users.admin('POST', 'policies/enc-read/attach', { user: 'enc-reader' })).status, 200);
  });

  after(async () => {
    users.destroy();
    s3?.destroy();
    await server?.stop();
  });

  it('aws-sdk-js › none → 404 ServerSideEncryptionConfigurationNotFoundError; AES256 and aws:kms (key ARN, BucketKeyEnabled) round trips; delete → 204, none again; NoSuchBucket', async () => {
    const none = await errorOf(s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })));
    assert.deepEqual([none.$metadata.httpStatusCode, none.name], [404, 'ServerSideEncryptionConfigurationNotFoundError']);

    await s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: AES256 }));
    const aes = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    assert.deepEqual(aes.ServerSideEncryptionConfiguration?.Rules, [
      { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
    ]);

    const arn = 'arn:aws:kms:us-east-1:000000000000:key/bucket-key';
    for (const given of ['bucket-key', arn]) {
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: given }, BucketKeyEnabled: true }],
          },
        }),
      );
      const kms = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
      assert.deepEqual(
        kms.ServerSideEncryptionConfiguration?.Rules,
        [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arn }, BucketKeyEnabled: true }],
        given,
      );
    }
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse' } }] },
      }),
    );
    const dsse = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    assert.equal(dsse.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'aws:kms:dsse');

    const deleted = await s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.equal((await errorOf(s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })))).name, 'ServerSideEncryptionConfigurationNotFoundError');
    assert.equal((await s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 204, 'deleting none is 204 too');
    const missing = await errorOf(s3.send(new GetBucketEncryptionCommand({ Bucket: newBucketName('no-such') })));
    assert.equal(missing.name, 'NoSuchBucket');
  });

  it('hand-signed HTTP › malformed documents → 400 MalformedXML, a key with AES256 → 400 InvalidArgument, an unknown or foreign key → 400 KMS.NotFoundException; nothing stored', async () => {
    const path = `/${bucket}?encryption`;
    const cases: Array<[string, number, string]> = [
      ['not xml', 400, 'MalformedXML'],
      ['<Other/>', 400, 'MalformedXML'],
      [doc(''), 400, 'MalformedXML'],
      [doc('<Rule/>'), 400, 'MalformedXML'],
      [byDefault('<SSEAlgorithm>AES128</SSEAlgorithm>'), 400, 'MalformedXML'],
      [byDefault('<KMSMasterKeyID>bucket-key</KMSMasterKeyID>'), 400, 'MalformedXML'],
      [byDefault('<SSEAlgorithm>AES256</SSEAlgorithm>'), 200, ''],
      [
        doc('<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>'.repeat(2)),
        400,
        'MalformedXML',
      ],
      [byDefault('<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>bucket-key</KMSMasterKeyID>'), 400, 'InvalidArgument'],
      [byDefault('<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>no-such-key</KMSMasterKeyID>'), 400, 'KMS.NotFoundException'],
      [
        byDefault('<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>arn:aws:kms:us-east-1:111122223333:key/bucket-key</KMSMasterKeyID>'),
        400,
        'KMS.NotFoundException',
      ],
    ];
    for (const [body, status, code] of cases) {
      const r = await call(server, 'PUT', path, body);
      assert.deepEqual([r.status, r.code ?? ''], [status, code], `${body}\n${r.body}`);
    }
    const got = await call(server, 'GET', path);
    assert.equal(got.status, 200);
    assert.equal(xmlText(got.body, 'SSEAlgorithm'), 'AES256', 'only the one valid document was stored');
    assert.match(got.body, /^<\?xml[^>]*>\s*<ServerSideEncryptionConfiguration xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/">/);
  });

  it('a second user and an anonymous caller › s3:GetEncryptionConfiguration only: Get 200, Put and Delete 403 (logged with the action); anonymous: 403 on all three; the rule unchanged', async () => {
    await s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: AES256 }));
    const reader = users.as(server.users[0]!);
    const got = await reader.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    assert.equal(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
    const from = server.logs().length;
    const put = await errorOf(
      reader.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
        }),
      ),
    );
    assert.deepEqual([put.$metadata.httpStatusCode, put.name], [403, 'AccessDenied']);
    const del = await errorOf(reader.send(new DeleteBucketEncryptionCommand({ Bucket: bucket })));
    assert.deepEqual([del.$metadata.httpStatusCode, del.name], [403, 'AccessDenied']);
    const lines = await server.accessLog(from);
    assert.deepEqual(
      lines
        .filter((l) => l.denied !== undefined)
        .map((l) => `${l.op} ${l.denied?.action}`)
        .sort(),
      ['PutBucketEncryption s3:PutEncryptionConfiguration', 'DeleteBucketEncryption s3:PutEncryptionConfiguration'].sort(),
    );
    const path = `/${bucket}?encryption`;
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', byDefault('<SSEAlgorithm>aws:kms</SSEAlgorithm>')],
      ['DELETE', undefined],
    ] as const) {
      const r = await call(server, method, path, body, true);
      assert.deepEqual([r.status, r.code], [403, 'AccessDenied'], `anonymous ${method}`);
    }
    const still = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    assert.equal(still.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
  });

  it('AWS CLI › s3api put-bucket-encryption (aws:kms, a key id), get-bucket-encryption (the key ARN), delete-bucket-encryption', async () => {
    const cliEnv = await awsCliEnv();
    try {
      const { aws, s3api } = awsCli(() => ({ url: server.url, env: cliEnv.env, cwd: cliEnv.dir, logs: server.logs, timeoutMs: 60_000 }));
      const config = JSON.stringify({
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'bucket-key' }, BucketKeyEnabled: true }],
      });
      await aws(['s3api', 'put-bucket-encryption', '--bucket', bucket, '--server-side-encryption-configuration', config]);
      const got = await s3api(['get-bucket-encryption', '--bucket', bucket]);
      assert.deepEqual(got.ServerSideEncryptionConfiguration.Rules, [
        {
          ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'arn:aws:kms:us-east-1:000000000000:key/bucket-key' },
          BucketKeyEnabled: true,
        },
      ]);
      await aws(['s3api', 'delete-bucket-encryption', '--bucket', bucket]);
      const r = await aws(['s3api', 'get-bucket-encryption', '--bucket', bucket], { expectFailure: true });
      assert.match(r.stderr, /ServerSideEncryptionConfigurationNotFoundError/);
    } finally {
      await cliEnv.cleanup();
    }
  });
});

describe('bucket encryption with --sse-default AES256, and without a key service', { timeout: 120_000 }, () => {
  let defaulted: RunningServer;
  let keyless: RunningServer;

  before(async () => {
    [defaulted, keyless] = await Promise.all([startServer({ kms: true, args: ['--sse-default', 'AES256'] }), startServer()]);
  });

  after(async () => {
    await Promise.all([defaulted?.stop(), keyless?.stop()]);
  });

  it('--sse-default AES256 › a bucket without a rule answers the SSE-S3 rule (as AWS does for every bucket since 2023), an object PUT without headers is SSE-S3; after a KMS rule and its deletion, SSE-S3 again', async () => {
    const s3 = testClient(defaulted.url);
    try {
      const bucket = newBucketName('sse-default');
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const rules = async () => (await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }))).ServerSideEncryptionConfiguration?.Rules;
      assert.deepEqual(await rules(), [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }]);
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain-request', Body: 'hello' }));
      assert.equal(put.ServerSideEncryption, 'AES256');
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
        }),
      );
      assert.equal((await rules())?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'aws:kms');
      const kmsPut = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms-default', Body: 'hello' }));
      assert.deepEqual([kmsPut.ServerSideEncryption, kmsPut.SSEKMSKeyId], ['aws:kms', 'arn:aws:kms:us-east-1:000000000000:key/strata-test']);
      await s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
      assert.deepEqual(await rules(), [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }]);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain-request' }));
      assert.equal(head.ServerSideEncryption, 'AES256');
    } finally {
      s3.destroy();
    }
  });

  it('no key service › PutBucketEncryption (AES256 and aws:kms) → 501 NotImplemented "KMS is not configured", a malformed one still 400 MalformedXML; Get → 404; nothing stored', async () => {
    const s3 = testClient(keyless.url);
    try {
      const bucket = newBucketName('keyless');
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      for (const SSEAlgorithm of ['AES256', 'aws:kms'] as const) {
        const err = await errorOf(
          s3.send(
            new PutBucketEncryptionCommand({
              Bucket: bucket,
              ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm } }] },
            }),
          ),
        );
        assert.deepEqual([err.$metadata.httpStatusCode, err.name], [501, 'NotImplemented'], SSEAlgorithm);
        assert.match(err.message, /KMS is not configured/);
      }
      const bad = await call(keyless, 'PUT', `/${bucket}?encryption`, doc(''));
      assert.deepEqual([bad.status, bad.code], [400, 'MalformedXML']);
      assert.equal((await errorOf(s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })))).name, 'ServerSideEncryptionConfigurationNotFoundError');
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'plain' }));
      assert.equal(put.ServerSideEncryption, undefined, 'stored in the clear, as before');
    } finally {
      s3.destroy();
    }
  });
});
