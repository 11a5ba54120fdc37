// Roles and STS (docs/iam.md, "Roles and STS") against a real Strata process: roles made with
// `strata admin role add` and the admin API; AssumeRole and GetCallerIdentity from aws-sdk-js's STS
// client, boto3 (both) and the AWS CLI; the temporary credentials against S3 (what the role allows,
// AccessDenied otherwise, a session policy narrowing); who may assume (the user the trust policy
// names; a user whose own policy allows it when the trust names the account; root) and who may not
// (another user, an anonymous caller); the parameter checks; a tampered token, a deleted role, and
// the expiry (a second server whose minimum duration is 1 s, the test switch).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { type TestUser, adminCall } from '../helpers/admin.js';
import { AWS_CLI, BOTO3_PYTHONS, isolatedClientEnv, newBucketName, RCLONE, run, runPythonCheck, S3CMD, writeS3cmdConfig } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, MAIN_JS, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const ACCOUNT = '000000000000';
const userArn = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const trustFor = (principal: unknown) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }],
});
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const keysOf = (u: TestUser): Creds => ({ accessKeyId: u.accessKey, secretAccessKey: u.secretKey });

async function stsError(p: Promise<unknown>): Promise<STSServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof STSServiceException) return e;
    throw e;
  }
  assert.fail('expected the STS call to fail');
}

describe('Roles and STS', () => {
  let server: RunningServer;
  let root: S3Client;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  const bucket = newBucketName('sts');
  const clients: Array<{ destroy(): void }> = [];
  const stsAs = (credentials: Creds) => {
    const c = new STSClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const s3As = (credentials: Creds) => {
    const c = testClient(server.url, { credentials });
    clients.push(c);
    return c;
  };
  const admin = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: object) =>
    adminCall(server.url, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, method, path, body);
  const assume = async (who: Creds, role: string, extra: { DurationSeconds?: number; Policy?: string; RoleSessionName?: string } = {}) => {
    const out = await stsAs(who).send(new AssumeRoleCommand({ RoleArn: roleArn(role), RoleSessionName: 'session-1', ...extra }));
    const c = out.Credentials!;
    return { out, creds: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } };
  };
  const body = async (c: S3Client, key: string) => (await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();

  before(async () => {
    server = await startServer({ users: ['alice', 'bob', 'carol'] });
    [alice, bob, carol] = server.users as [TestUser, TestUser, TestUser];
    root = testClient(server.url);
    await root.send(new CreateBucketCommand({ Bucket: bucket }));
    await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.txt', Body: 'a.txt' }));
    // reader: the trust policy names alice; readonly attached. Made with the CLI, as a script would.
    const trustFile = join(server.dataDir, 'trust-reader.json');
    await writeFile(trustFile, JSON.stringify(trustFor({ AWS: userArn('alice') })));
    const cli = await run(
      process.execPath,
      [MAIN_JS, 'admin', '--endpoint', server.url, 'role', 'add', 'reader', '--trust', trustFile, '--policy', 'readonly'],
      { env: { PATH: process.env.PATH, STRATA_ACCESS_KEY: ACCESS_KEY, STRATA_SECRET_KEY: SECRET_KEY }, timeoutMs: 30_000 },
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /ARN: arn:aws:iam::000000000000:role\/reader/);
    // writer: the trust policy names the account; readwrite attached; carol's own policy allows assuming it.
    const w = await admin('POST', 'roles', { name: 'writer', trustPolicy: trustFor({ AWS: ACCOUNT }), policies: ['readwrite'], maxSessionDuration: 7200 });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    const may = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn('writer') }] };
    assert.equal((await admin('POST', 'policies', { name: 'assume-writer', document: may })).status, 200);
    assert.equal((await admin('POST', 'policies/assume-writer/attach', { user: 'carol' })).status, 200);
  });

  after(async () => {
    for (const c of [root, ...clients]) c?.destroy();
    await server?.stop();
  });

  it('admin API and CLI › roles listed and described; bad input refused', async () => {
    const list = await admin('GET', 'roles');
    assert.deepEqual(
      (list.body.roles as Array<{ name: string }>).map((r) => r.name),
      ['reader', 'writer'],
    );
    const readerInfo = await admin('GET', 'roles/reader');
    assert.deepEqual(readerInfo.body.policies, ['readonly']);
    assert.deepEqual(readerInfo.body.trustPolicy, trustFor({ AWS: userArn('alice') }));
    assert.equal((readerInfo.body.role as { maxSessionDuration: number }).maxSessionDuration, 3600);
    const refused: Array<[object, number, string]> = [
      [{ name: 'x', trustPolicy: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] } }, 400, 'MalformedPolicy'],
      [{ name: 'x', trustPolicy: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Resource: '*' }] } }, 400, 'MalformedPolicy'],
      [{ name: 'x', trustPolicy: trustFor('*'), maxSessionDuration: 899 }, 400, 'InvalidArgument'],
      [{ name: 'bad name', trustPolicy: trustFor('*') }, 400, 'InvalidArgument'],
      [{ name: 'reader', trustPolicy: trustFor('*') }, 409, 'EntityAlreadyExists'],
    ];
    for (const [b, status, code] of refused) {
      const r = await admin('POST', 'roles', b);
      assert.deepEqual([r.status, r.body.Code], [status, code], JSON.stringify(b));
    }
    assert.equal((await admin('GET', 'roles/nope')).status, 404);
    // A user may not manage roles.
    const asAlice = await adminCall(server.url, alice, 'GET', 'roles');
    assert.equal(asAlice.status, 403);
    // The CLI: list, info, attach a policy to a role, detach it, remove a role.
    const cli = (...args: string[]) =>
      run(process.execPath, [MAIN_JS, 'admin', '--endpoint', server.url, ...args], {
        env: { PATH: process.env.PATH, STRATA_ACCESS_KEY: ACCESS_KEY, STRATA_SECRET_KEY: SECRET_KEY },
        timeoutMs: 30_000,
      });
    const listed = await cli('role', 'list');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^reader +arn:aws:iam::000000000000:role\/reader max 3600s$/m);
    const trustFile = join(server.dataDir, 'trust-any.json');
    await writeFile(trustFile, JSON.stringify(trustFor('*')));
    assert.equal((await cli('role', 'add', 'scratch', '--trust', trustFile, '--max-duration', '900')).code, 0);
    assert.equal((await cli('policy', 'attach', 'writeonly', '--role', 'scratch')).code, 0);
    const info = await cli('--json', 'role', 'info', 'scratch');
    assert.deepEqual((JSON.parse(info.stdout) as { policies: string[] }).policies, ['writeonly']);
    assert.equal((await cli('policy', 'detach', 'writeonly', '--role', 'scratch')).code, 0);
    assert.equal((await cli('role', 'remove', 'scratch')).code, 0);
    const gone = await cli('role', 'info', 'scratch');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /cannot be found/);
  });

  it('aws-sdk-js › GetCallerIdentity, AssumeRole, then S3 with the session: reads allowed, writes AccessDenied', async () => {
    const me = await stsAs(keysOf(alice)).send(new GetCallerIdentityCommand({}));
    assert.deepEqual([me.Arn, me.Account], [userArn('alice'), ACCOUNT]);
    const rootId = await stsAs({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }).send(new GetCallerIdentityCommand({}));
    assert.deepEqual([rootId.Arn, rootId.UserId], [`arn:aws:iam::${ACCOUNT}:root`, ACCOUNT]);

    const { out, creds } = await assume(keysOf(alice), 'reader', { DurationSeconds: 900 });
    assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/reader/session-1`);
    assert.match(out.AssumedRoleUser?.AssumedRoleId ?? '', /^AROA[A-Z2-7]{17}:session-1$/);
    const ttl = out.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(ttl > 880_000 && ttl <= 900_000, `expiry in ${ttl} ms`);

    const s3 = s3As(creds);
    assert.equal(await body(s3, 'a.txt'), 'a.txt');
    const put = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'by-session', Body: 'x' })));
    assert.deepEqual([put.name, put.$metadata.httpStatusCode], ['AccessDenied', 403]);
    const who = await stsAs(creds).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/reader/session-1`);
    assert.equal(who.UserId, out.AssumedRoleUser?.AssumedRoleId);
    // The server never logs a session's secret or token.
    const logs = server.logs();
    assert.equal(logs.includes(creds.secretAccessKey), false);
    assert.equal(logs.includes(creds.sessionToken), false);
  });

  it('trust account-wide › carol (her policy allows it) and root may assume writer; a session policy narrows it', async () => {
    const { creds } = await assume(keysOf(carol), 'writer', { DurationSeconds: 7200 });
    const s3 = s3As(creds);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'by-writer', Body: 'w' }));
    assert.equal(await body(root, 'by-writer'), 'w');

    const onlyGet = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });
    const narrowed = await assume(keysOf(carol), 'writer', { Policy: onlyGet, RoleSessionName: 'narrow' });
    assert.ok((narrowed.out.PackedPolicySize ?? 0) > 0);
    const n3 = s3As(narrowed.creds);
    assert.equal(await body(n3, 'by-writer'), 'w');
    const denied = await errorOf(n3.send(new PutObjectCommand({ Bucket: bucket, Key: 'by-narrow', Body: 'n' })));
    assert.equal(denied.name, 'AccessDenied');

    const asRoot = await assume({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, 'writer', { RoleSessionName: 'root-job' });
    await s3As(asRoot.creds).send(new PutObjectCommand({ Bucket: bucket, Key: 'by-root-session', Body: 'r' }));
  });

  it('who may not › bob (not named), alice on writer (no policy allows), a missing role, anonymous → AccessDenied / MissingAuthenticationToken', async () => {
    for (const [who, role] of [
      [bob, 'reader'],
      [bob, 'writer'],
      [alice, 'writer'],
      [alice, 'no-such-role'],
    ] as const) {
      const e = await stsError(assume(keysOf(who), role));
      assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['AccessDenied', 403], `${who.name} → ${role}`);
      assert.equal(e.message, `User: ${userArn(who.name)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn(role)}`);
    }
    // curl-style, unsigned.
    const form = `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(roleArn('reader'))}&RoleSessionName=anon`;
    const res = await fetch(`${server.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    const text = await res.text();
    assert.equal(res.status, 403);
    assert.match(
      text,
      /<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code>/,
    );
    // And anonymous S3 reads of the private bucket stay refused.
    assert.equal((await fetch(`${server.url}/${bucket}/a.txt`)).status, 403);
  });

  it('parameters › DurationSeconds out of bounds or over the role maximum, bad session names → ValidationError; a bad session policy → MalformedPolicyDocument', async () => {
    const cases: Array<[string, Parameters<typeof assume>[2], string, RegExp]> = [
      ['reader', { DurationSeconds: 899 }, 'ValidationError', /durationSeconds.*greater than or equal to 900/],
      ['reader', { DurationSeconds: 43_201 }, 'ValidationError', /less than or equal to 43200/],
      ['reader', { DurationSeconds: 7200 }, 'ValidationError', /exceeds the MaxSessionDuration/],
      ['reader', { RoleSessionName: 'a' }, 'ValidationError', /roleSessionName/],
      ['reader', { RoleSessionName: 'not ok!' }, 'ValidationError', /regular expression pattern/],
      // The SDK names the modeled error of code MalformedPolicyDocument MalformedPolicyDocumentException.
      ['reader', { Policy: '{"Statement": ' }, 'MalformedPolicyDocumentException', /./],
      ['reader', { Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] }) }, 'MalformedPolicyDocumentException', /Resource/],
    ];
    for (const [role, extra, code, message] of cases) {
      const e = await stsError(assume(keysOf(alice), role, extra));
      assert.deepEqual([e.name, e.$metadata.httpStatusCode], [code, 400], JSON.stringify(extra));
      assert.match(e.message, message);
    }
  });

  it("tokens › tampered → InvalidToken (400), missing → InvalidAccessKeyId (403), another session's → InvalidToken; STS answers InvalidClientTokenId", async () => {
    const one = await assume(keysOf(alice), 'reader', { RoleSessionName: 'one' });
    const two = await assume(keysOf(alice), 'reader', { RoleSessionName: 'two' });
    const t = Buffer.from(one.creds.sessionToken, 'base64');
    t[t.length - 5]! ^= 1;
    const tampered = { ...one.creds, sessionToken: t.toString('base64') };
    const cases: Array<[Creds, string, number]> = [
      [tampered, 'InvalidToken', 400],
      [{ accessKeyId: one.creds.accessKeyId, secretAccessKey: one.creds.secretAccessKey }, 'InvalidAccessKeyId', 403],
      [{ ...one.creds, sessionToken: two.creds.sessionToken }, 'InvalidToken', 400],
    ];
    for (const [creds, code, status] of cases) {
      const e = await errorOf(s3As(creds).send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })));
      assert.deepEqual([e.name, e.$metadata.httpStatusCode], [code, status]);
    }
    const e = await stsError(stsAs(tampered).send(new GetCallerIdentityCommand({})));
    assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['InvalidClientTokenId', 403]);
  });

  it('SigV2 › a header-signed GET with x-amz-security-token reads; an altered token → InvalidToken', async () => {
    const { creds } = await assume(keysOf(alice), 'reader', { RoleSessionName: 'sigv2' });
    const get = (token: string) => {
      const date = new Date().toUTCString();
      const toSign = `GET\n\n\n${date}\nx-amz-security-token:${token}\n/${bucket}/a.txt`;
      const sig = createHmac('sha1', creds.secretAccessKey).update(toSign).digest('base64');
      return fetch(`${server.url}/${bucket}/a.txt`, {
        headers: { date, 'x-amz-security-token': token, authorization: `AWS ${creds.accessKeyId}:${sig}` },
      });
    };
    const ok = await get(creds.sessionToken);
    assert.deepEqual([ok.status, await ok.text()], [200, 'a.txt']);
    const t = creds.sessionToken;
    const bad = await get(`${t.slice(0, 10)}${t[10] === 'A' ? 'B' : 'A'}${t.slice(11)}`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /<Code>InvalidToken<\/Code>/);
  });

  it('deleted role › its sessions are refused at once; made again, old sessions stay refused', async () => {
    const trust = trustFor({ AWS: userArn('alice') });
    assert.equal((await admin('POST', 'roles', { name: 'temp', trustPolicy: trust, policies: ['readonly'] })).status, 200);
    const { creds } = await assume(keysOf(alice), 'temp');
    const s3 = s3As(creds);
    assert.equal(await body(s3, 'a.txt'), 'a.txt');
    assert.equal((await admin('DELETE', 'roles/temp')).status, 200);
    const gone = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })));
    assert.deepEqual([gone.name, gone.$metadata.httpStatusCode], ['InvalidToken', 400]);
    assert.equal((await admin('POST', 'roles', { name: 'temp', trustPolicy: trust, policies: ['readonly'] })).status, 200);
    assert.equal((await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })))).name, 'InvalidToken');
    assert.equal((await admin('DELETE', 'roles/temp')).status, 200);
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › sts.py as alice: get_caller_identity, assume_role, S3 with the session (presigned too), ValidationError`, async (t) => {
      const r = await runPythonCheck(python, 'sts.py', server, {
        bucket,
        accessKey: alice.accessKey,
        secretKey: alice.secretKey,
        env: { ROLE_ARN: roleArn('reader') },
      });
      t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
      for (const line of [
        'get_caller_identity as the user',
        'assume_role',
        'read with the session',
        'put refused AccessDenied',
        'presigned URL with the token',
        'get_caller_identity as the session',
        'DurationSeconds 899 ValidationError',
      ])
        assert.match(r.stdout, new RegExp(`^ok {3}${line}$`, 'm'));
    });
  }

  it('s3cmd (SigV2 and SigV4, access_token) and rclone (session_token, a narrowing session policy) with sessions › get works, put AccessDenied', async () => {
    const { creds } = await assume(keysOf(alice), 'reader', { RoleSessionName: 'tools' });
    const { env, dir, cleanup } = await isolatedClientEnv();
    try {
      for (const v2 of [true, false]) {
        const cfg = join(dir, `s3cmd-${v2}.cfg`);
        await writeS3cmdConfig(cfg, server, {
          accessKey: creds.accessKeyId,
          secretKey: creds.secretAccessKey,
          sessionToken: creds.sessionToken,
          signatureV2: v2,
        });
        const out = join(dir, `got-${v2}.txt`);
        const got = await run(S3CMD, ['-c', cfg, 'get', '--force', `s3://${bucket}/a.txt`, out], { env });
        assert.equal(got.code, 0, `s3cmd v2=${v2}: ${got.stderr}`);
        assert.equal(await readFile(out, 'utf8'), 'a.txt');
        const put = await run(S3CMD, ['-c', cfg, 'put', cfg, `s3://${bucket}/s3cmd-put`], { env });
        assert.notEqual(put.code, 0);
        assert.match(put.stderr, /AccessDenied|403/);
      }
      // rclone lists before it reads: a session of writer narrowed to reading and listing.
      const readList = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }],
      });
      const rc = (await assume(keysOf(carol), 'writer', { RoleSessionName: 'rclone', Policy: readList })).creds;
      const rcloneEnv = {
        ...Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('RCLONE_'))),
        RCLONE_CONFIG: join(dir, 'rclone.conf'),
        RCLONE_CONFIG_STRATA_TYPE: 's3',
        RCLONE_CONFIG_STRATA_PROVIDER: 'Other',
        RCLONE_CONFIG_STRATA_ACCESS_KEY_ID: rc.accessKeyId,
        RCLONE_CONFIG_STRATA_SECRET_ACCESS_KEY: rc.secretAccessKey,
        RCLONE_CONFIG_STRATA_SESSION_TOKEN: rc.sessionToken,
        RCLONE_CONFIG_STRATA_ENDPOINT: server.url,
        RCLONE_CONFIG_STRATA_REGION: REGION,
      };
      await writeFile(join(dir, 'rclone.conf'), '');
      const cat = await run(RCLONE, ['cat', `strata:${bucket}/a.txt`], { env: rcloneEnv });
      assert.equal(cat.code, 0, cat.stderr);
      assert.equal(cat.stdout, 'a.txt');
      const rput = await run(RCLONE, ['copyto', join(dir, 'rclone.conf'), `strata:${bucket}/rclone-put`, '--retries', '1', '--low-level-retries', '1'], {
        env: rcloneEnv,
      });
      assert.notEqual(rput.code, 0);
      assert.match(rput.stderr, /AccessDenied|403/);
    } finally {
      await cleanup();
    }
  });

  it('AWS CLI › sts get-caller-identity, sts assume-role, then s3api get-object with AWS_SESSION_TOKEN; bob refused', async (t) => {
    const cli = async (keys: Creds, args: string[]) => {
      const { env, cleanup } = await isolatedClientEnv({
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        ...(keys.sessionToken !== undefined && { AWS_SESSION_TOKEN: keys.sessionToken }),
        AWS_DEFAULT_REGION: REGION,
        AWS_PAGER: '',
      });
      try {
        return await run(AWS_CLI, [...args, '--endpoint-url', server.url, '--output', 'json'], { env, timeoutMs: 60_000 });
      } finally {
        await cleanup();
      }
    };
    const me = await cli(keysOf(alice), ['sts', 'get-caller-identity']);
    assert.equal(me.code, 0, me.stderr);
    t.diagnostic((await run(AWS_CLI, ['--version'])).stdout.trim());
    assert.equal((JSON.parse(me.stdout) as { Arn: string }).Arn, userArn('alice'));
    const out = await cli(keysOf(alice), ['sts', 'assume-role', '--role-arn', roleArn('reader'), '--role-session-name', 'cli']);
    assert.equal(out.code, 0, out.stderr);
    const c = (JSON.parse(out.stdout) as { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } }).Credentials;
    const session = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    const who = await cli(session, ['sts', 'get-caller-identity']);
    assert.equal((JSON.parse(who.stdout) as { Arn: string }).Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/reader/cli`);
    const got = await cli(session, ['s3api', 'get-object', '--bucket', bucket, '--key', 'a.txt', join(server.dataDir, 'cli-out.txt')]);
    assert.equal(got.code, 0, got.stderr);
    const refused = await cli(keysOf(bob), ['sts', 'assume-role', '--role-arn', roleArn('reader'), '--role-session-name', 'cli']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /AccessDenied/);
  });
});

describe('STS session expiry (test switch STRATA_TEST_STS_MIN_DURATION)', () => {
  let server: RunningServer;
  const clients: Array<{ destroy(): void }> = [];
  before(async () => {
    server = await startServer({ users: ['alice'], env: { NODE_ENV: 'test', STRATA_TEST_STS_MIN_DURATION: '1' } });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('a session works until its expiry, then S3 answers ExpiredToken (400) and STS ExpiredToken', async () => {
    const alice = server.users[0]!;
    const bucket = newBucketName('exp');
    const root = testClient(server.url);
    clients.push(root);
    await root.send(new CreateBucketCommand({ Bucket: bucket }));
    await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
    const r = await adminCall(server.url, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, 'POST', 'roles', {
      name: 'short',
      trustPolicy: trustFor({ AWS: userArn('alice') }),
      policies: ['readonly'],
    });
    assert.equal(r.status, 200);
    const sts = new STSClient({ endpoint: server.url, region: REGION, credentials: keysOf(alice), maxAttempts: 1 });
    clients.push(sts);
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn('short'), RoleSessionName: 'brief', DurationSeconds: 2 }));
    const c = out.Credentials!;
    const creds = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const s3 = testClient(server.url, { credentials: creds });
    clients.push(s3);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body!.transformToString(), 'v');
    // Wait past the expiry (at most ~2.5 s), then the same credentials are refused.
    await new Promise((ok) => setTimeout(ok, Math.max(0, c.Expiration!.getTime() + 1000 - Date.now())));
    const e = await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
    assert.deepEqual([e.name, e.$metadata.httpStatusCode, e.message], ['ExpiredToken', 400, 'The provided token has expired.']);
    const stsExpired = new STSClient({ endpoint: server.url, region: REGION, credentials: creds, maxAttempts: 1 });
    clients.push(stsExpired);
    const se = await stsError(stsExpired.send(new GetCallerIdentityCommand({})));
    assert.equal(se.name, 'ExpiredToken');
  });
});
