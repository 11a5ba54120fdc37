// The audit log (docs/audit.md) against a real Strata process, with --workers 2 (the primary owns
// the file and the webhook; workers send it their records) and --workers 1 (the process writes
// itself): a known workload from aws-sdk-js, boto3 (both), the AWS CLI and curl — as root, as a
// second user (reads allowed, a write refused), as an STS session, anonymously, with a wrong secret,
// a presigned URL, admin API calls — leaves exactly its records in the file, each with the right
// principal, status, error code, bucket, key, version and lengths, and nothing secret anywhere in
// it; rotation with a small size keeps every record across PATH and PATH.1…N; a webhook gets every
// record, also after refusing the first attempts, with its bearer token; a webhook that never
// answers delays no S3 answer and the bounded queue drops (and says so).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AuditRecord } from '../../src/audit/record.js';
import { adminCall } from '../helpers/admin.js';
import { awsCli, awsCliEnv, BOTO3_PYTHONS, CURL, newBucketName, run, runPythonCheck } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

type Rec = AuditRecord;

const ROOT = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
const tmp = mkdtempSync(join(tmpdir(), 'strata-audit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let fileNo = 0;
const newAuditPath = () => join(tmp, `run-${++fileNo}`, 'audit.log');

/** Every record of PATH.N … PATH.1, PATH (oldest first). */
function readRecords(path: string): { recs: Rec[]; text: string; files: string[] } {
  const files: string[] = [];
  for (let i = 1; existsSync(`${path}.${i}`); i++) files.unshift(`${path}.${i}`);
  if (existsSync(path)) files.push(path);
  const text = files.map((f) => readFileSync(f, 'utf8')).join('');
  const recs = text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Rec);
  return { recs, text, files };
}

const who = (r: Rec) => [r.principal.kind, r.principal.user, r.principal.role && `${r.principal.role}/${r.principal.session}`].filter(Boolean).join(':');
const summary = (r: Rec) => `${r.api} ${r.operation} ${r.status} ${r.errorCode ?? '-'} ${who(r)}`;

/** Waits (bounded) for a condition that the server reaches on its own. */
async function until(cond: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`waited too long for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A webhook receiver: `behave(n)` answers the n-th POST (1-based): a status, or 'hang' (never answered). */
async function webhook(behave: (n: number) => number | 'hang') {
  const posts: Array<{ auth?: string; type?: string; lines: Rec[] }> = [];
  const hung: ServerResponse[] = [];
  let attempts = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = ++attempts;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = behave(n);
      if (answer === 'hang') {
        hung.push(res);
        return;
      }
      if (answer >= 200 && answer < 300) {
        const lines = Buffer.concat(chunks)
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Rec);
        posts.push({ auth: req.headers.authorization, type: req.headers['content-type'], lines });
      }
      res.writeHead(answer).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
  return {
    url,
    posts,
    attempts: () => attempts,
    hung,
    records: () => posts.flatMap((p) => p.lines),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

for (const workers of [2, 1]) {
  describe(`audit log, --workers ${workers}`, () => {
    const base = ['--workers', String(workers)];

    it('a known workload from every client leaves exactly its records, with the right fields and nothing secret', async () => {
      const path = newAuditPath();
      const server: RunningServer = await startServer({ args: [...base, '--audit-file', path], users: [{ name: 'reader', policies: ['readonly'] }] });
      const reader = server.users[0]!;
      const bucket = newBucketName('audit');
      const secrets: string[] = [SECRET_KEY, reader.secretKey];
      const closers: Array<{ destroy(): void }> = [];
      const cli = await awsCliEnv();
      try {
        const root = testClient(server.url);
        closers.push(root);
        await root.send(new CreateBucketCommand({ Bucket: bucket }));
        await root.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
        const put = await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'k1', Body: 'hello' }));
        const versionId = put.VersionId!;
        assert.ok(versionId);
        const got = await root.send(new GetObjectCommand({ Bucket: bucket, Key: 'k1', VersionId: versionId }));
        assert.equal(await got.Body!.transformToString(), 'hello');

        // The AWS CLI, then boto3 (newest and Debian's) as root.
        const { s3api } = awsCli(() => ({ url: server.url, env: cli.env, cwd: cli.dir, logs: server.logs, timeoutMs: 60_000 }));
        assert.equal((await s3api(['head-object', '--bucket', bucket, '--key', 'k1'])).ContentLength, 5);
        for (const { python } of BOTO3_PYTHONS) await runPythonCheck(python, 'audit.py', server, { bucket });

        // The second user: a read allowed, a write refused.
        const asReader = testClient(server.url, { credentials: { accessKeyId: reader.accessKey, secretAccessKey: reader.secretKey } });
        closers.push(asReader);
        await (await asReader.send(new GetObjectCommand({ Bucket: bucket, Key: 'k1' }))).Body!.transformToString();
        assert.equal((await errorOf(asReader.send(new PutObjectCommand({ Bucket: bucket, Key: 'refused', Body: 'no' })))).name, 'AccessDenied');
        // The reader's key with a wrong secret: SignatureDoesNotMatch, the key it named recorded.
        const forged = testClient(server.url, { credentials: { accessKeyId: reader.accessKey, secretAccessKey: 'not-the-secret-0000' } });
        closers.push(forged);
        const bad = await errorOf(forged.send(new HeadBucketCommand({ Bucket: bucket })));
        assert.ok(bad instanceof S3ServiceException && bad.$metadata.httpStatusCode === 403);

        // Anonymous with curl: refused.
        const anon = await run(CURL, ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${server.url}/${bucket}/k1`]);
        assert.equal(anon.stdout, '403');
        // A presigned GET (root's), opened with curl: its signature is in the URL's query, never in the record.
        const presigned = await getSignedUrl(root, new GetObjectCommand({ Bucket: bucket, Key: 'k1' }), { expiresIn: 600 });
        secrets.push(new URL(presigned).searchParams.get('X-Amz-Signature')!);
        assert.equal((await run(CURL, ['-s', presigned])).stdout, 'hello');

        // An STS session of the reader (a role it may assume), reading with the temporary credentials.
        const role = await adminCall(server.url, ROOT, 'POST', 'roles', {
          name: 'auditrole',
          trustPolicy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/reader' }, Action: 'sts:AssumeRole' }],
          },
          policies: ['readonly'],
        });
        assert.equal(role.status, 200, JSON.stringify(role.body));
        const sts = new STSClient({
          endpoint: server.url,
          region: REGION,
          credentials: { accessKeyId: reader.accessKey, secretAccessKey: reader.secretKey },
          maxAttempts: 1,
        });
        closers.push(sts);
        const creds = (await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/auditrole', RoleSessionName: 's1' }))).Credentials!;
        secrets.push(creds.SecretAccessKey!, creds.SessionToken!);
        const asSession = testClient(server.url, {
          credentials: { accessKeyId: creds.AccessKeyId!, secretAccessKey: creds.SecretAccessKey!, sessionToken: creds.SessionToken! },
        });
        closers.push(asSession);
        await (await asSession.send(new GetObjectCommand({ Bucket: bucket, Key: 'k1' }))).Body!.transformToString();

        // The admin API: allowed for root, refused for the reader.
        assert.equal((await adminCall(server.url, ROOT, 'GET', 'users')).status, 200);
        assert.equal((await adminCall(server.url, reader, 'GET', 'users')).status, 403);
      } finally {
        for (const c of closers) c.destroy();
        await cli.cleanup();
        // SIGTERM: the records still queued (in the workers, in the primary) are delivered before the exit.
        await server.stop();
      }
      assert.equal((await server.exited).code, 0);

      const { recs, text } = readRecords(path);
      const boto3 = BOTO3_PYTHONS.flatMap(() => ['s3 PutObject 200 - root', 's3 GetObject 200 - root', 'sts sts:GetCallerIdentity 200 - root']);
      const expected = [
        'admin admin:CreateUser 200 - root',
        's3 CreateBucket 200 - root',
        's3 PutBucketVersioning 200 - root',
        's3 PutObject 200 - root',
        's3 GetObject 200 - root',
        's3 HeadObject 200 - root',
        ...boto3,
        's3 GetObject 200 - user:reader',
        's3 PutObject 403 AccessDenied user:reader',
        's3 HeadBucket 403 SignatureDoesNotMatch unauthenticated',
        's3 GetObject 403 AccessDenied anonymous',
        's3 GetObject 200 - root',
        'admin admin:CreateRole 200 - root',
        'sts sts:AssumeRole 200 - user:reader',
        's3 GetObject 200 - user:auditrole/s1',
        'admin admin:ListUsers 200 - root',
        'admin admin:ListUsers 403 AccessDenied user:reader',
      ];
      assert.deepEqual(recs.map(summary).sort(), expected.sort(), text);

      // Nothing secret: no secret key (root's, the user's, the session's), no session token, no signature.
      for (const s of secrets) assert.ok(!text.includes(s), `a secret (${s.slice(0, 4)}…) is in the audit file`);
      for (const s of ['AWS4-HMAC-SHA256', 'Signature=', 'X-Amz-', 'Credential=', 'x-amz-security-token', 'authorization', 'cookie'])
        assert.ok(!text.toLowerCase().includes(s.toLowerCase()), `${s} is in the audit file`);

      // Fields.
      assert.equal(new Set(recs.map((r) => r.requestId)).size, recs.length, 'request ids are unique');
      for (const r of recs) {
        assert.ok(Number.isFinite(Date.parse(r.time)) && r.time.endsWith('Z'), r.time);
        assert.equal(r.sourceIp, '127.0.0.1');
        assert.ok(r.durationMs >= 0 && Number.isInteger(r.bytesIn) && Number.isInteger(r.bytesOut));
      }
      const find = (s: string, pred: (r: Rec) => boolean = () => true) => {
        const r = recs.find((x) => summary(x) === s && pred(x));
        assert.ok(r, `no record ${s}`);
        return r;
      };
      const rootPut = find('s3 PutObject 200 - root', (r) => r.key === 'k1');
      assert.deepEqual([rootPut.bucket, rootPut.bytesIn, rootPut.method], [rootPut.bucket, 5, 'PUT']);
      assert.deepEqual(rootPut.principal, { kind: 'root', accessKey: ACCESS_KEY, arn: 'arn:aws:iam::000000000000:root' });
      assert.match(rootPut.userAgent ?? '', /aws-sdk-js/);
      const rootGet = find('s3 GetObject 200 - root', (r) => r.key === 'k1' && r.versionId !== undefined);
      assert.equal(rootGet.versionId, rootPut.versionId);
      assert.equal(rootGet.bytesOut, 5);
      assert.match(find('s3 HeadObject 200 - root').userAgent ?? '', /aws-cli/);
      assert.match(find('s3 PutObject 200 - root', (r) => r.key === 'from-boto3').userAgent ?? '', /Boto3/);
      assert.match(find('s3 GetObject 403 AccessDenied anonymous').userAgent ?? '', /curl/);
      const refused = find('s3 PutObject 403 AccessDenied user:reader');
      assert.deepEqual(
        [refused.bucket, refused.key, refused.principal.accessKey, refused.principal.arn],
        [rootPut.bucket, 'refused', server.users[0]!.accessKey, 'arn:aws:iam::000000000000:user/reader'],
      );
      assert.equal(find('s3 HeadBucket 403 SignatureDoesNotMatch unauthenticated').principal.accessKey, server.users[0]!.accessKey);
      assert.equal(find('s3 GetObject 200 - user:auditrole/s1').principal.arn, 'arn:aws:sts::000000000000:assumed-role/auditrole/s1');
      const adminRefused = find('admin admin:ListUsers 403 AccessDenied user:reader');
      assert.equal(adminRefused.path, '/_strata/admin/v1/users');
      assert.ok(find('admin admin:CreateUser 200 - root').bytesOut > 0);
    });

    it('the console: its own routes are recorded (api console: login refused and made, presign, logout); its /api/s3 calls once, as S3 calls of the user', async () => {
      const path = newAuditPath();
      const server = await startServer({ args: [...base, '--audit-file', path], console: true });
      const origin = server.consoleUrl!;
      const bucket = newBucketName('con');
      const json = { 'content-type': 'application/json' };
      try {
        const refused = await fetch(`${origin}/api/session`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ accessKeyId: ACCESS_KEY, secretAccessKey: 'not-the-secret' }),
        });
        assert.equal(refused.status, 403);
        const login = await fetch(`${origin}/api/session`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }),
        });
        assert.equal(login.status, 200);
        const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
        const api = { cookie, 'x-strata-console': '1' };
        assert.equal((await fetch(`${origin}/api/s3/${bucket}`, { method: 'PUT', headers: api })).status, 200);
        const presign = await fetch(`${origin}/api/presign`, {
          method: 'POST',
          headers: { ...api, ...json },
          body: JSON.stringify({ bucket, key: 'k', method: 'GET', expiresSeconds: 60 }),
        });
        assert.equal(presign.status, 200);
        assert.equal((await fetch(`${origin}/api/session`, { headers: { 'x-strata-console': '1' } })).status, 401);
        assert.equal((await fetch(`${origin}/api/session`, { method: 'DELETE', headers: api })).status, 204);
      } finally {
        await server.stop();
      }
      const { recs, text } = readRecords(path);
      assert.deepEqual(recs.map(summary).sort(), [
        'console console:CreateSession 200 - root',
        'console console:CreateSession 403 SignatureDoesNotMatch unauthenticated',
        'console console:DeleteSession 204 - root',
        'console console:GetSession 401 NoSession unauthenticated',
        'console console:Presign 200 - root',
        's3 CreateBucket 200 - root',
      ]);
      const failed = recs.find((r) => r.operation === 'console:CreateSession' && r.status === 403)!;
      assert.equal(failed.principal.accessKey, ACCESS_KEY);
      assert.equal(failed.path, '/api/session');
      assert.ok(recs.find((r) => r.operation === 'console:Presign')!.bytesOut > 0);
      for (const secret of [SECRET_KEY, 'not-the-secret', 'strata_console=', 'X-Amz-Signature'])
        assert.ok(!text.includes(secret), `the audit file holds ${secret}`);
    });

    it('rotation with a small size: every record across PATH and PATH.1…N, count exact, each file within the size', async () => {
      const path = newAuditPath();
      const server = await startServer({ args: [...base, '--audit-file', path, '--audit-file-max-bytes', '4096', '--audit-file-keep', '500'] });
      const bucket = newBucketName('rot');
      const c = testClient(server.url);
      const N = 300;
      try {
        await c.send(new CreateBucketCommand({ Bucket: bucket }));
        for (let i = 0; i < N; i++) await c.send(new HeadBucketCommand({ Bucket: bucket }));
      } finally {
        c.destroy();
        await server.stop();
      }
      const { recs, files } = readRecords(path);
      assert.equal(recs.length, N + 1);
      assert.equal(recs.filter((r) => r.operation === 'HeadBucket' && r.status === 200).length, N);
      assert.equal(new Set(recs.map((r) => r.requestId)).size, N + 1);
      assert.ok(files.length >= 10, `${files.length} files`);
      for (const f of files) assert.ok(statSync(f).size <= 4096, `${f}: ${statSync(f).size} bytes`);
    });

    it('a webhook gets every record once, with its token, also after refusing the first three attempts (retries)', async () => {
      const hook = await webhook((n) => (n <= 3 ? 500 : 200));
      const server = await startServer({ args: [...base, '--audit-webhook', hook.url, '--audit-webhook-token', 'tok-123'] });
      const bucket = newBucketName('hook');
      const c = testClient(server.url);
      const N = 40;
      try {
        await c.send(new CreateBucketCommand({ Bucket: bucket }));
        for (let i = 0; i < N; i++) await c.send(new PutObjectCommand({ Bucket: bucket, Key: `k${i}`, Body: `v${i}` }));
        assert.equal((await adminCall(server.url, ROOT, 'GET', 'users')).status, 200);
        await until(() => hook.records().length >= N + 2, `${N + 2} records at the webhook (${hook.records().length} so far)`);
      } finally {
        c.destroy();
        await server.stop();
        hook.close();
      }
      const recs = hook.records();
      assert.equal(recs.length, N + 2);
      assert.equal(new Set(recs.map((r) => r.requestId)).size, N + 2);
      assert.deepEqual(
        recs
          .map((r) => r.key)
          .filter(Boolean)
          .sort(),
        Array.from({ length: N }, (_, i) => `k${i}`).sort(),
      );
      assert.ok(recs.some((r) => r.operation === 'admin:ListUsers'));
      assert.ok(hook.attempts() >= 4);
      assert.ok(hook.posts.every((p) => p.auth === 'Bearer tok-123' && p.type === 'application/x-ndjson'));
      assert.match(server.logs(), /audit delivery failed: retrying/);
      assert.ok(!server.logs().includes('tok-123'), 'the webhook token is never logged');
    });

    it('a webhook that never answers delays no S3 answer; the bounded queue drops the oldest and says so', async () => {
      const hook = await webhook(() => 'hang');
      const server = await startServer({ args: [...base, '--audit-webhook', hook.url, '--audit-webhook-timeout', '3600', '--audit-queue', '100'] });
      const bucket = newBucketName('slow');
      const c = testClient(server.url);
      const N = 300;
      try {
        await c.send(new CreateBucketCommand({ Bucket: bucket }));
        for (let i = 0; i < N; i++) await c.send(new HeadBucketCommand({ Bucket: bucket }));
        // Every answer came while the webhook held the first delivery unanswered: nothing waited for it.
        await until(() => hook.hung.length === 1, 'the first POST');
        assert.equal(hook.attempts(), 1);
        assert.equal(hook.hung[0]!.headersSent, false);
        await until(() => server.logs().includes('audit queue full: dropping the oldest records'), 'the drop line');
      } finally {
        c.destroy();
        await server.stop();
        hook.close();
      }
      // Stopping gives up on the undelivered records after its bound, and says how many.
      assert.equal((await server.exited).code, 0);
      assert.match(server.logs(), /records still undelivered at shutdown are lost/);
    });

    it('an audit file that cannot be written stops the start, naming it (no server that does not audit)', async () => {
      const blocker = join(tmp, `not-a-directory-${workers}`);
      writeFileSync(blocker, '');
      await assert.rejects(startServer({ args: [...base, '--audit-file', join(blocker, 'audit.log')] }), /cannot write the audit file .*not-a-directory/);
    });
  });
}
