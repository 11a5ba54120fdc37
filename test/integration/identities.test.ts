// Users and their access keys against a real Strata process: `strata admin` creates a user in one
// line, its key signs aws-sdk-js's and boto3's requests (authenticated, then AccessDenied: no policy
// attached to these users), disabling or deleting takes effect on the next request, the
// admin API refuses anyone but root and never shadows S3 (docs/admin-api.md).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { adminCall, type Keys } from '../helpers/admin.js';
import { BOTO3_PYTHONS, describeRun, newBucketName, run, runPythonCheck } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, MAIN_JS, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const ROOT: Keys = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

/** `strata admin ARGS` against the server with the root keys from the environment (as a script would). */
function strataAdmin(server: RunningServer, args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [MAIN_JS, 'admin', '--endpoint', server.url, ...args], {
    env: { PATH: process.env.PATH, STRATA_ACCESS_KEY: ACCESS_KEY, STRATA_SECRET_KEY: SECRET_KEY, ...env },
    timeoutMs: 30_000,
  });
}

function userClient(url: string, keys: Keys): S3Client {
  return new S3Client({
    endpoint: url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: keys.accessKey, secretAccessKey: keys.secretKey },
    maxAttempts: 1,
  });
}

/** The S3 error code of ListBuckets signed with `keys`, or 'OK'. */
async function listBucketsAs(url: string, keys: Keys): Promise<string> {
  const c = userClient(url, keys);
  try {
    await c.send(new ListBucketsCommand({}));
    return 'OK';
  } catch (e) {
    return (e as { name: string }).name;
  } finally {
    c.destroy();
  }
}

describe('identities: users and access keys', () => {
  let server: RunningServer;
  let root: S3Client;
  const bucket = newBucketName('ids');
  let dir: string;

  before(async () => {
    server = await startServer({ users: ['second', { name: 'third' }] });
    root = testClient(server.url);
    await root.send(new CreateBucketCommand({ Bucket: bucket }));
    dir = await mkdtemp(join(tmpdir(), 'strata-ids-'));
  });
  after(async () => {
    root?.destroy();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('strata admin user add › one line with --access-key/--secret-key → the key is authenticated by aws-sdk-js, then AccessDenied (no policy attached)', async () => {
    const r = await strataAdmin(server, ['user', 'add', 'alice', '--access-key', 'AKIAALICE0000000001X', '--secret-key', 'alice-secret-key-0123456789']);
    assert.equal(r.code, 0, describeRun('strata admin user add', r));
    assert.match(r.stdout, /Secret key: alice-secret-key-0123456789/);
    const keys = { accessKey: 'AKIAALICE0000000001X', secretKey: 'alice-secret-key-0123456789' };
    assert.equal(await listBucketsAs(server.url, keys), 'AccessDenied');
    const c = userClient(server.url, keys);
    try {
      const e = await errorOf(c.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' })));
      assert.equal(e.name, 'AccessDenied');
      assert.equal(e.$metadata.httpStatusCode, 403);
      const e2 = await errorOf(c.send(new ListObjectsV2Command({ Bucket: bucket })));
      assert.equal(e2.name, 'AccessDenied');
    } finally {
      c.destroy();
    }
    // The access log names the user principal's refusal by the authorize stage.
    const lines = await server.accessLog();
    assert.ok(
      lines.some((l) => l.denied?.principal === 'user' && l.denied.by === 'authorize'),
      JSON.stringify(lines.slice(-3)),
    );
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`strata admin user add › the user's key with ${label} → authenticated and AccessDenied; an unknown key → InvalidAccessKeyId`, async () => {
      const name = `py${python.length}${label.includes('Debian') ? 'deb' : 'venv'}`;
      const r = await strataAdmin(server, ['--json', 'user', 'add', name]);
      assert.equal(r.code, 0, describeRun('strata admin user add', r));
      const created = JSON.parse(r.stdout) as { accessKey: string; secretKey: string };
      assert.match(created.accessKey, /^[A-Z0-9]{20}$/);
      assert.equal(created.secretKey.length, 40);
      await runPythonCheck(python, 'identities.py', server, { bucket, accessKey: created.accessKey, secretKey: created.secretKey });
    });
  }

  it('user disable/enable › the next request → InvalidAccessKeyId; re-enabled → authenticated again', async () => {
    const [second] = server.users;
    assert.equal(await listBucketsAs(server.url, second!), 'AccessDenied');
    assert.equal((await strataAdmin(server, ['user', 'disable', 'second'])).code, 0);
    assert.equal(await listBucketsAs(server.url, second!), 'InvalidAccessKeyId');
    assert.equal((await strataAdmin(server, ['user', 'enable', 'second'])).code, 0);
    assert.equal(await listBucketsAs(server.url, second!), 'AccessDenied');
  });

  it('key disable/enable/remove › disabled → InvalidAccessKeyId, enabled → authenticated, removed → InvalidAccessKeyId; the user keeps its other key', async () => {
    const [, third] = server.users;
    const add = await strataAdmin(server, ['--json', 'key', 'add', 'third', '--expiry', new Date(Date.now() + 3600_000).toISOString()]);
    assert.equal(add.code, 0, describeRun('key add', add));
    const extra = JSON.parse(add.stdout) as { accessKey: string; secretKey: string };
    const extraKeys = { accessKey: extra.accessKey, secretKey: extra.secretKey };
    assert.equal(await listBucketsAs(server.url, extraKeys), 'AccessDenied');
    assert.equal((await strataAdmin(server, ['key', 'disable', extra.accessKey])).code, 0);
    assert.equal(await listBucketsAs(server.url, extraKeys), 'InvalidAccessKeyId');
    assert.equal(await listBucketsAs(server.url, third!), 'AccessDenied', 'the other key of the user is untouched');
    assert.equal((await strataAdmin(server, ['key', 'enable', extra.accessKey])).code, 0);
    assert.equal(await listBucketsAs(server.url, extraKeys), 'AccessDenied');
    const list = await strataAdmin(server, ['--json', 'key', 'list', 'third']);
    assert.equal((JSON.parse(list.stdout) as { accessKeys: unknown[] }).accessKeys.length, 2);
    assert.doesNotMatch(list.stdout, new RegExp(extra.secretKey.replace(/[+/]/g, '\\$&')), 'a secret is shown only at creation');
    assert.equal((await strataAdmin(server, ['key', 'remove', extra.accessKey])).code, 0);
    assert.equal(await listBucketsAs(server.url, extraKeys), 'InvalidAccessKeyId');
  });

  it('key add › an expired key → InvalidAccessKeyId (expiry in the past is refused at creation: 400 InvalidArgument)', async () => {
    const past = await adminCall(server.url, ROOT, 'POST', 'users/third/keys', { expiry: new Date(Date.now() - 1000).toISOString() });
    assert.equal(past.status, 400);
    assert.equal(past.body.Code, 'InvalidArgument');
    const soon = await adminCall(server.url, ROOT, 'POST', 'users/third/keys', { expiry: Date.now() + 1500 });
    assert.equal(soon.status, 200);
    const keys = { accessKey: String(soon.body.accessKey), secretKey: String(soon.body.secretKey) };
    // Bounded wait on the condition (the key expires 1.5 s after creation).
    let code = '';
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      code = await listBucketsAs(server.url, keys);
      if (code === 'InvalidAccessKeyId') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(code, 'InvalidAccessKeyId');
  });

  it('strata admin policy/group › policy add FILE.json, attach to a user and a group, group members, info, detach, remove', async () => {
    const file = join(dir, 'ro.json');
    await writeFile(file, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::*'] }] }));
    const ok = async (args: string[]) => {
      const r = await strataAdmin(server, args);
      assert.equal(r.code, 0, describeRun(args.join(' '), r));
      return r.stdout;
    };
    await ok(['policy', 'add', 'readonly-test', file]);
    await ok(['policy', 'attach', 'readonly-test', '--user', 'second']);
    await ok(['group', 'add', 'devs', 'second']);
    await ok(['group', 'members', 'add', 'devs', 'third']);
    await ok(['policy', 'attach', 'readonly-test', '--group', 'devs']);
    const info = JSON.parse(await ok(['--json', 'user', 'info', 'second'])) as { groups: string[]; policies: string[] };
    assert.deepEqual(info.groups, ['devs']);
    assert.deepEqual(info.policies, ['readonly-test']);
    assert.deepEqual((JSON.parse(await ok(['--json', 'group', 'info', 'devs'])) as { members: string[] }).members, ['second', 'third']);
    assert.match(await ok(['policy', 'info', 'readonly-test']), /s3:GetObject/);
    // user add --policy attaches at creation; removing the user takes its attachment away.
    await ok(['user', 'add', 'carol', '--policy', 'readonly-test']);
    assert.deepEqual((JSON.parse(await ok(['--json', 'user', 'info', 'carol'])) as { policies: string[] }).policies, ['readonly-test']);
    await ok(['user', 'remove', 'carol']);
    const gone = await strataAdmin(server, ['user', 'info', 'carol']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NoSuchEntity/);
    // Attached: removing is a conflict.
    const busy = await strataAdmin(server, ['policy', 'remove', 'readonly-test']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /DeleteConflict/);
    await ok(['policy', 'detach', 'readonly-test', '--user', 'second']);
    await ok(['group', 'members', 'remove', 'devs', 'second']);
    await ok(['group', 'remove', 'devs']);
    await ok(['policy', 'remove', 'readonly-test']);
    assert.doesNotMatch(await ok(['policy', 'list']), /readonly-test/);
    // A document that is not a policy: MalformedPolicy.
    await writeFile(file, '{"Version":"2012-10-17"}');
    const bad = await strataAdmin(server, ['policy', 'add', 'bad', file]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /MalformedPolicy/);
  });

  it('strata admin › no root keys → exit 2 naming the variables; an unknown command → exit 2 with the usage; a server that refuses → exit 1 with code and message', async () => {
    const noKeys = await run(process.execPath, [MAIN_JS, 'admin', '--endpoint', server.url, 'user', 'list'], {
      env: { PATH: process.env.PATH },
      timeoutMs: 30_000,
    });
    assert.equal(noKeys.code, 2);
    assert.match(noKeys.stderr, /STRATA_ACCESS_KEY.*AWS_ACCESS_KEY_ID/s);
    const unknown = await strataAdmin(server, ['user', 'fly']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /usage: strata admin/);
    const refused = await strataAdmin(server, ['user', 'list'], {
      STRATA_ACCESS_KEY: server.users[0]!.accessKey,
      STRATA_SECRET_KEY: server.users[0]!.secretKey,
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /AccessDenied/);
    const awsVars = await run(process.execPath, [MAIN_JS, 'admin', '--endpoint', server.url, '--json', 'user', 'list'], {
      env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY },
      timeoutMs: 30_000,
    });
    assert.equal(awsVars.code, 0, describeRun('with AWS_* variables', awsVars));
    assert.ok((JSON.parse(awsVars.stdout) as { users: Array<{ name: string }> }).users.some((u) => u.name === 'second'));
  });

  it('admin API › errors are JSON with a code, a message and the status: NoSuchEntity 404, EntityAlreadyExists 409, bad name 400, unknown path 404, wrong method 405', async () => {
    const cases: Array<[string, 'GET' | 'POST' | 'DELETE', string, object | undefined, number, string]> = [
      ['no such user', 'GET', 'users/nobody', undefined, 404, 'NoSuchEntity'],
      ['user exists', 'POST', 'users', { name: 'second' }, 409, 'EntityAlreadyExists'],
      ['bad user name', 'POST', 'users', { name: 'a/b' }, 400, 'InvalidArgument'],
      ['root key taken', 'POST', 'users', { name: 'x1', accessKey: ACCESS_KEY, secretKey: 'whatever-secret' }, 409, 'EntityAlreadyExists'],
      ['unknown path', 'GET', 'nothing', undefined, 404, 'NotFound'],
      ['wrong method', 'DELETE', 'users', undefined, 405, 'MethodNotAllowed'],
    ];
    for (const [what, method, path, body, status, code] of cases) {
      const r = await adminCall(server.url, ROOT, method, path, body);
      assert.equal(r.status, status, what);
      assert.equal(r.body.Code, code, what);
      assert.equal(typeof r.body.Message, 'string', what);
    }
  });

  it('admin API › a user key → 403 AccessDenied, an anonymous caller → 403 AccessDenied, a bad signature → 403 SignatureDoesNotMatch; each in the access log with the principal', async () => {
    const from = server.logs().length;
    const asUser = await adminCall(server.url, server.users[0], 'GET', 'users');
    assert.deepEqual([asUser.status, asUser.body.Code], [403, 'AccessDenied']);
    const asUserCreate = await adminCall(server.url, server.users[0], 'POST', 'users', { name: 'sneaky' });
    assert.deepEqual([asUserCreate.status, asUserCreate.body.Code], [403, 'AccessDenied']);
    const anonymous = await adminCall(server.url, undefined, 'GET', 'users');
    assert.deepEqual([anonymous.status, anonymous.body.Code], [403, 'AccessDenied']);
    const forged = await adminCall(server.url, { accessKey: ACCESS_KEY, secretKey: 'not-the-secret' }, 'GET', 'users');
    assert.deepEqual([forged.status, forged.body.Code], [403, 'SignatureDoesNotMatch']);
    assert.equal((await adminCall(server.url, ROOT, 'GET', 'users/sneaky')).status, 404, 'nothing was created');
    const lines = await server.adminLog(from);
    const denied = lines.filter((l) => l.adminCode === 'AccessDenied' && l.principal?.kind === 'user');
    // Sorted: each worker writes its own log lines, so across workers their order is not the requests'.
    assert.deepEqual(denied.map((l) => `${l.op} ${l.principal?.user}`).sort(), ['admin:ListUsers second', 'admin:CreateUser second'].sort());
    assert.ok(
      lines.some((l) => l.status === 403 && l.principal === undefined),
      'the anonymous call is logged',
    );
  });

  it('admin API › the paths never shadow S3: bucket "_strata" is InvalidBucketName; virtual-hosted, the same path is an object key', async () => {
    const e = await errorOf(root.send(new CreateBucketCommand({ Bucket: '_strata' })));
    assert.equal(e.name, 'InvalidBucketName');
    const vhost = await startServer({ args: ['--domain', 'localhost'] });
    const c = testClient(vhost.url.replace('127.0.0.1', 'localhost'), { pathStyle: false });
    try {
      await c.send(new CreateBucketCommand({ Bucket: 'vh-bucket' }));
      await c.send(new PutObjectCommand({ Bucket: 'vh-bucket', Key: '_strata/admin/v1/users', Body: 'an object' }));
      const listed = await c.send(new ListObjectsV2Command({ Bucket: 'vh-bucket' }));
      assert.deepEqual(
        listed.Contents?.map((o) => o.Key),
        ['_strata/admin/v1/users'],
      );
    } finally {
      c.destroy();
      await vhost.stop();
    }
  });
});
