// Gateways (docs/cluster.md): three Strata processes — A and B single processes, C a `--workers 2`
// cluster — on one throw-away PostgreSQL (--meta) and one data directory, serving one namespace.
// Real clients: aws-sdk-js, both boto3 (cluster_gateways.py), the AWS CLI, curl. What must hold:
// read/list/HEAD-after-write across gateways; `If-None-Match: *` raced over the gateways has exactly
// one winner; `If-Match` with a stale ETag is refused on another gateway; a multipart upload begun,
// continued and completed on different gateways; an overwrite never cuts a GET streaming elsewhere;
// a user disabled through one gateway is refused on the others within a second; the cluster status
// lists every gateway; PostgreSQL stopped → 503 SlowDown on every gateway without a hang, readiness
// fails; PostgreSQL back → the same gateways serve again, no restart.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { adminCall, createUser } from '../helpers/admin.js';
import { AWS_CLI, BOTO3_PYTHONS, CURL, awsCliEnv, run, runPythonCheck } from '../helpers/clients.js';
import { type PostgresCluster, startPostgres } from '../helpers/postgres.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, MAIN_JS, REPO_ROOT, type RunningServer, SECRET_KEY, startServer } from '../helpers/server.js';

const root = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const MiB = 1024 * 1024;

/** Polls `cond` every 50 ms for at most `limitMs` (a bound, never an assertion on time). */
async function until(cond: () => boolean | Promise<boolean>, what: string, limitMs: number): Promise<void> {
  for (const end = Date.now() + limitMs; Date.now() < end; ) {
    if (await cond()) return;
    await sleep(50);
  }
  assert.fail(`not within ${limitMs} ms: ${what}`);
}

describe('gateways: three processes on one PostgreSQL and one data directory', () => {
  let pg: PostgresCluster;
  let shared: string;
  let url: string;
  const gw: RunningServer[] = [];
  const clients: S3Client[] = [];
  const s3 = (i: number) => clients[i]!;
  const bucket = 'cluster';

  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    shared = await mkdtemp(join(tmpdir(), 'strata-cluster-'));
    const args = (workers: number) => ['--meta', url, '--workers', String(workers), '--free-grace', '5'];
    // A first (it migrates the schema and creates the second user), then B and C together.
    gw.push(await startServer({ dataDir: shared, args: args(1), users: [{ name: 'second', policies: ['readwrite'] }] }));
    gw.push(...(await Promise.all([startServer({ dataDir: shared, args: args(1) }), startServer({ dataDir: shared, args: args(2) })])));
    for (const g of gw) clients.push(testClient(g.url));
    await s3(0).send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(gw.map((g) => g.stop()));
    await pg?.dispose();
    if (shared) await rm(shared, { recursive: true, force: true });
  });

  it('the data directory holds no meta.db, and records its database (namespace.json)', () => {
    assert.ok(!existsSync(join(shared, 'meta.db')));
    assert.match(JSON.parse(readFileSync(join(shared, 'namespace.json'), 'utf8')).namespace, /^[0-9a-f-]{36}$/);
  });

  it('aws-sdk-js: a write on one gateway is read, listed and HEADed on every other at once', async () => {
    for (let w = 0; w < 3; w++) {
      const key = `sdk/w${w}`;
      const body = randomBytes(3000 + w);
      const put = await s3(w).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      for (let r = 0; r < 3; r++) {
        if (r === w) continue;
        const got = await s3(r).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        assert.equal(md5(await got.Body!.transformToByteArray()), md5(body));
        assert.equal((await s3(r).send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag, put.ETag);
        const listed = await s3(r).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'sdk/' }));
        assert.ok(listed.Contents?.some((o) => o.Key === key && o.ETag === put.ETag));
      }
    }
  });

  it('If-None-Match: * raced 50 times over the three gateways: exactly one 200, the rest 412', async () => {
    const key = 'race/once';
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const c = testClient(gw[i % 3]!.url, { keepAlive: false });
        try {
          await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `writer ${i}`, IfNoneMatch: '*' }));
          return { status: 200, i };
        } catch (err) {
          return { status: (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0, i };
        } finally {
          c.destroy();
        }
      }),
    );
    const winners = answers.filter((a) => a.status === 200);
    assert.equal(winners.length, 1, JSON.stringify(answers));
    assert.equal(answers.filter((a) => a.status === 412).length, 49, JSON.stringify(answers));
    for (let r = 0; r < 3; r++) {
      const got = await s3(r).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(await got.Body!.transformToString(), `writer ${winners[0]!.i}`);
    }
  });

  it('If-Match with an ETag another gateway replaced is refused (412); the current one is accepted', async () => {
    const key = 'cond/if-match';
    const v1 = await s3(0).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v1' }));
    const v2 = await s3(1).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v2' }));
    const stale = await errorOf(s3(2).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v3', IfMatch: v1.ETag })));
    assert.equal(stale.name, 'PreconditionFailed');
    assert.equal(stale.$metadata.httpStatusCode, 412);
    await s3(2).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v3', IfMatch: v2.ETag }));
    assert.equal(await (await s3(0).send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString(), 'v3');
  });

  it('multipart: created on A, parts on B and C, completed on A, read whole on B', async () => {
    const key = 'mp/three-gateways';
    const p1 = randomBytes(5 * MiB);
    const p2 = randomBytes(777);
    const { UploadId } = await s3(0).send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const e1 = await s3(1).send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: p1 }));
    const e2 = await s3(2).send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: p2 }));
    await s3(0).send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    const got = await s3(1).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(md5(await got.Body!.transformToByteArray()), md5(Buffer.concat([p1, p2])));
  });

  it('an overwrite on A while a large GET streams from B: the GET gets the old bytes whole, later GETs the new', async () => {
    const key = 'stream/big';
    const old = randomBytes(24 * MiB);
    const fresh = randomBytes(24 * MiB);
    await s3(0).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: old }));
    const got = await s3(1).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const stream = got.Body as AsyncIterable<Uint8Array>;
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    assert.ok(!first.done);
    const chunks: Uint8Array[] = [first.value];
    // The overwrite is acknowledged (its free recorded) while the GET is paused mid-stream; we wait
    // past the free grace (5 s) so the old piece would be gone if the GET's pin were not honoured.
    await s3(0).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fresh }));
    await sleep(6000);
    for (let r = await it.next(); !r.done; r = await it.next()) chunks.push(r.value);
    assert.equal(md5(Buffer.concat(chunks)), md5(old));
    for (let r = 0; r < 3; r++) {
      const now = await s3(r).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(md5(await now.Body!.transformToByteArray()), md5(fresh));
    }
  });

  it('both boto3: writes on each gateway read on the others; conditional writes, multipart across gateways; the second user and anonymous', async () => {
    const user = gw[0]!.users[0]!;
    for (const { python } of BOTO3_PYTHONS) {
      await runPythonCheck(python, 'cluster_gateways.py', gw[0]!, {
        bucket,
        env: { S3_ENDPOINT_B: gw[1]!.url, S3_ENDPOINT_C: gw[2]!.url, S3_USER_KEY: user.accessKey, S3_USER_SECRET: user.secretKey },
      });
    }
  });

  it('the AWS CLI uploads through C; curl reads through A (anonymous refused until a policy set through B allows it)', async () => {
    const { env, dir, cleanup } = await awsCliEnv();
    try {
      const file = join(dir, 'upload.bin');
      const body = randomBytes(100_000);
      const { writeFile } = await import('node:fs/promises');
      await writeFile(file, body);
      const cp = await run(AWS_CLI, ['s3', 'cp', file, `s3://${bucket}/cli/upload.bin`, '--endpoint-url', gw[2]!.url], { env, cwd: dir, timeoutMs: 60_000 });
      assert.equal(cp.code, 0, cp.stderr);
      const ls = await run(AWS_CLI, ['s3', 'ls', `s3://${bucket}/cli/`, '--endpoint-url', gw[1]!.url], { env, cwd: dir, timeoutMs: 60_000 });
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /100000 upload\.bin/);
      const anon = () => run(CURL, ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${gw[0]!.url}/${bucket}/cli/upload.bin`], { timeoutMs: 30_000 });
      assert.equal((await anon()).stdout, '403');
      const policy = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/cli/*` }],
      };
      const put = await run(AWS_CLI, ['s3api', 'put-bucket-policy', '--bucket', bucket, '--policy', JSON.stringify(policy), '--endpoint-url', gw[1]!.url], {
        env,
        cwd: dir,
        timeoutMs: 60_000,
      });
      assert.equal(put.code, 0, put.stderr);
      const out = join(dir, 'curl.bin');
      const r = await run(CURL, ['-s', '-o', out, '-w', '%{http_code}', `${gw[0]!.url}/${bucket}/cli/upload.bin`], { timeoutMs: 30_000 });
      assert.equal(r.stdout, '200');
      assert.equal(md5(readFileSync(out)), md5(body));
      // The policy allows GetObject only: an anonymous PUT is still refused, on any gateway.
      const anonPut = await run(CURL, ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '--data-binary', 'x', `${gw[2]!.url}/${bucket}/cli/anon`], {
        timeoutMs: 30_000,
      });
      assert.equal(anonPut.stdout, '403');
      const del = await run(AWS_CLI, ['s3api', 'delete-bucket-policy', '--bucket', bucket, '--endpoint-url', gw[2]!.url], { env, cwd: dir, timeoutMs: 60_000 });
      assert.equal(del.code, 0, del.stderr);
      assert.equal((await anon()).stdout, '403');
    } finally {
      await cleanup();
    }
  });

  it('IAM: a user created through A works on B and C; disabled through A, it is refused on B and C within a second', async () => {
    const creds = await createUser(gw[0]!.url, root, 'temp', ['readwrite']);
    const as = (i: number) =>
      testClient(gw[i]!.url, {
        credentials: { accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey },
        keepAlive: false,
      });
    /** The HTTP status of a HEAD by the user through gateway i (a fresh connection). */
    const statusOf = async (i: number): Promise<number> => {
      const c = as(i);
      try {
        await c.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond/if-match' }));
        return 200;
      } catch (err) {
        return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
      } finally {
        c.destroy();
      }
    };
    // A new user reaches the other gateways at once (the writer's snapshot) or within the second (theirs).
    for (const i of [1, 2]) await until(async () => (await statusOf(i)) === 200, `the new user served by gateway ${i}`, 3000);
    const off = await adminCall(gw[0]!.url, root, 'POST', 'users/temp/disable');
    assert.equal(off.status, 200, JSON.stringify(off.body));
    for (const i of [1, 2]) await until(async () => (await statusOf(i)) === 403, `the disabled user refused by gateway ${i}`, 3000);
    // The second user (policy readwrite) may not call the admin API on any gateway; anonymous neither.
    const second = gw[0]!.users[0]!;
    assert.equal((await adminCall(gw[1]!.url, second, 'GET', 'cluster/status')).status, 403);
    assert.equal((await adminCall(gw[2]!.url, undefined, 'GET', 'cluster/status')).status, 403);
  });

  it('cluster status (admin API and strata admin cluster status): every gateway process, the job leader, PostgreSQL, etcd not configured', async () => {
    const pids = gw.flatMap((g) => g.workerPids());
    assert.equal(pids.length, 4); // A, B, and C's two workers
    let body: Record<string, unknown> = {};
    await until(
      async () => {
        const r = await adminCall(gw[1]!.url, root, 'GET', 'cluster/status');
        assert.equal(r.status, 200, JSON.stringify(r.body));
        body = r.body;
        const leader = (body.leader as { id: string | null }).id;
        return (body.gateways as unknown[]).length === 4 && leader !== null;
      },
      'four gateways registered and a job leader',
      10_000,
    );
    const gateways = body.gateways as Array<{ id: string; pid: number; address: string; live: boolean; leader: boolean }>;
    assert.deepEqual(gateways.map((g) => g.pid).sort(), [...pids].sort());
    assert.ok(gateways.every((g) => g.live));
    assert.equal(gateways.filter((g) => g.leader).length, 1);
    for (const g of gateways)
      assert.ok(
        gw.some((s) => s.url === g.address),
        g.address,
      );
    assert.equal((body.leader as { by: string }).by, 'postgres-lease');
    const p = body.postgres as { reachable: boolean; serverVersion: string; migrationLevel: string; roundTripMs: number };
    assert.equal(p.reachable, true);
    assert.match(p.serverVersion, /^\d+\.\d+/);
    assert.match(p.migrationLevel, /^\d{4}-/);
    assert.deepEqual(body.etcd, { configured: false, status: 'not configured' });
    const cli = await run(process.execPath, [MAIN_JS, 'admin', '--endpoint', gw[2]!.url, 'cluster', 'status'], {
      env: { ...process.env, STRATA_ACCESS_KEY: ACCESS_KEY, STRATA_SECRET_KEY: SECRET_KEY },
      cwd: REPO_ROOT,
      timeoutMs: 30_000,
    });
    assert.equal(cli.code, 0, cli.stderr);
    for (const pid of pids) assert.match(cli.stdout, new RegExp(`\\s${pid}\\s`));
    assert.match(cli.stdout, /PostgreSQL: reachable/);
    assert.match(cli.stdout, /etcd: not configured/);
    assert.match(cli.stdout, /Job leader \(postgres-lease\): \S+ at http/);
  });

  it('PostgreSQL stopped: every gateway answers 503 SlowDown without hanging and is not ready; back: the same gateways serve again', async () => {
    await s3(0).send(new PutObjectCommand({ Bucket: bucket, Key: 'outage/before', Body: 'kept' }));
    await pg.stop();
    try {
      for (let i = 0; i < 3; i++) {
        // A fresh connection each time: a hang would show as the SDK's own socket timeout, not a pass.
        const c = testClient(gw[i]!.url, { keepAlive: false });
        try {
          const get = await errorOf(c.send(new GetObjectCommand({ Bucket: bucket, Key: 'outage/before' })));
          assert.equal(get.$metadata.httpStatusCode, 503);
          assert.equal(get.name, 'SlowDown');
          const put = await errorOf(c.send(new PutObjectCommand({ Bucket: bucket, Key: 'outage/during', Body: 'no' })));
          assert.equal(put.$metadata.httpStatusCode, 503);
        } finally {
          c.destroy();
        }
        const ready = await fetch(`${gw[i]!.url}/health/ready`);
        assert.equal(ready.status, 503);
        assert.match(await ready.text(), /metadata store does not answer/);
        assert.equal((await fetch(`${gw[i]!.url}/health/live`)).status, 200);
      }
      const status = await adminCall(gw[0]!.url, root, 'GET', 'cluster/status');
      // The admin call itself authenticates the root key without the database; the status says PostgreSQL is down.
      assert.equal(status.status, 200, JSON.stringify(status.body));
      assert.equal((status.body.postgres as { reachable: boolean }).reachable, false);
    } finally {
      await pg.start();
    }
    for (let i = 0; i < 3; i++) {
      const c = testClient(gw[i]!.url, { keepAlive: false });
      try {
        await until(
          async () => {
            try {
              const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'outage/before' }));
              return (await got.Body!.transformToString()) === 'kept';
            } catch {
              return false;
            }
          },
          `gateway ${i} serving again`,
          20_000,
        );
        await c.send(new PutObjectCommand({ Bucket: bucket, Key: `outage/after-${i}`, Body: String(i) }));
      } finally {
        c.destroy();
      }
      await until(async () => (await fetch(`${gw[i]!.url}/health/ready`)).status === 200, `gateway ${i} ready again`, 5000);
    }
    for (const g of gw) assert.equal(g.exited !== undefined, true);
    assert.equal(gw.flatMap((g) => g.workerPids()).length, 4);
  });
});
