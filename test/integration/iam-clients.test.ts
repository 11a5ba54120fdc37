// Real clients as users (issue 12's client coverage): rclone and s3cmd as a read-only user (copy
// down works, an upload is refused with the 403 they report) and as a home-folder user limited to
// home/${aws:username}/ (its prefix lists, the bucket root and another user's home do not); both
// boto3s with a key whose inline policy narrows its user's readwrite to one bucket; the AWS CLI's
// `s3 cp` / `s3 ls` as the home user; a deleted key → InvalidAccessKeyId for every client; a group
// membership change seen by rclone on its next command. Root, a second user and an anonymous caller
// beside them.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Keys, type TestUser, adminCall, createUser } from '../helpers/admin.js';
import {
  AWS_CLI,
  BOTO3_PYTHONS,
  RCLONE,
  S3CMD,
  describeRun,
  isolatedClientEnv,
  newBucketName,
  run,
  runPythonCheck,
  type RunResult,
  writeS3cmdConfig,
} from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const ROOT: Keys = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

describe('IAM users with real clients (rclone, s3cmd, boto3, AWS CLI)', { timeout: 600_000 }, () => {
  let server: RunningServer;
  let root: S3Client;
  let work: string;
  let baseEnv: NodeJS.ProcessEnv;
  let cleanupEnv: () => Promise<void>;
  let viewer: TestUser;
  let homey: TestUser;
  let member: TestUser;
  const bucket = newBucketName('iamc');
  const other = newBucketName('iamc-other');
  const admin = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: object) => {
    const r = await adminCall(server.url, ROOT, method, path, body);
    assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  /** rclone with a remote `strata` signed by `keys` (RCLONE_CONFIG_STRATA_*), one try per command. */
  const rclone = (keys: Keys, args: string[]): Promise<RunResult> =>
    run(RCLONE, ['--retries', '1', '--low-level-retries', '1', ...args], {
      cwd: work,
      timeoutMs: 60_000,
      env: {
        ...baseEnv,
        RCLONE_CONFIG: join(work, 'rclone.conf'),
        RCLONE_CONFIG_STRATA_TYPE: 's3',
        RCLONE_CONFIG_STRATA_PROVIDER: 'Other',
        RCLONE_CONFIG_STRATA_ACCESS_KEY_ID: keys.accessKey,
        RCLONE_CONFIG_STRATA_SECRET_ACCESS_KEY: keys.secretKey,
        RCLONE_CONFIG_STRATA_ENDPOINT: server.url,
        RCLONE_CONFIG_STRATA_REGION: REGION,
        // A user who may not CreateBucket: rclone's documented setting (else its bucket check is refused).
        RCLONE_CONFIG_STRATA_NO_CHECK_BUCKET: 'true',
      },
    });

  /** s3cmd with a config file of `keys` (SigV4, path style). */
  const s3cmd = async (keys: Keys, args: string[]): Promise<RunResult> => {
    const cfg = join(work, `s3cmd-${keys.accessKey}.cfg`);
    await writeS3cmdConfig(cfg, server, keys);
    return run(S3CMD, ['-c', cfg, ...args], { env: baseEnv, cwd: work, timeoutMs: 60_000 });
  };

  /** The AWS CLI signed by `keys`. */
  const aws = (keys: Keys, args: string[]): Promise<RunResult> =>
    run(AWS_CLI, [...args, '--endpoint-url', server.url], {
      cwd: work,
      timeoutMs: 60_000,
      env: { ...baseEnv, AWS_ACCESS_KEY_ID: keys.accessKey, AWS_SECRET_ACCESS_KEY: keys.secretKey, AWS_DEFAULT_REGION: REGION, AWS_PAGER: '' },
    });

  const ok = (what: string, r: RunResult) => assert.equal(r.code, 0, `${describeRun(what, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
  const fails = (what: string, r: RunResult, code: RegExp) => {
    assert.notEqual(r.code, 0, describeRun(`${what} (expected to fail)`, r));
    assert.match(`${r.stdout}\n${r.stderr}`, code, describeRun(what, r));
  };
  /** rclone lsf's lines, sorted. */
  const lines = (r: RunResult) =>
    r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .sort();

  before(async () => {
    server = await startServer({ users: [{ name: 'viewer' }, { name: 'homey' }, { name: 'member' }] });
    [viewer, homey, member] = server.users as [TestUser, TestUser, TestUser];
    const isolated = await isolatedClientEnv();
    work = isolated.dir;
    cleanupEnv = isolated.cleanup;
    baseEnv = Object.fromEntries(Object.entries(isolated.env).filter(([k]) => !k.startsWith('RCLONE_')));
    await writeFile(join(work, 'rclone.conf'), '');
    await writeFile(join(work, 'local.txt'), 'local bytes\n');
    root = testClient(server.url);
    for (const b of [bucket, other]) await root.send(new CreateBucketCommand({ Bucket: b }));
    for (const key of ['docs/a.txt', 'docs/b.txt', 'home/homey/mine.txt', 'home/other/theirs.txt']) {
      await root.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${key}\n` }));
    }
    await root.send(new PutObjectCommand({ Bucket: other, Key: 'seed.txt', Body: 'seed' }));
    // A read-only user as people mean it: read and list one bucket, nothing else.
    await admin('POST', 'policies', {
      name: 'bucket-reader',
      document: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: `arn:aws:s3:::${bucket}` },
          { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` },
        ],
      },
    });
    await admin('POST', 'policies/bucket-reader/attach', { user: 'viewer' });
    // AWS's home-folder example: list only home/<name>/, read, write and delete only there.
    await admin('POST', 'policies', {
      name: 'home-folder',
      document: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: `arn:aws:s3:::${bucket}` },
          {
            Effect: 'Allow',
            Action: 's3:ListBucket',
            Resource: `arn:aws:s3:::${bucket}`,
            Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } },
          },
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `arn:aws:s3:::${bucket}/home/\${aws:username}/*` },
        ],
      },
    });
    await admin('POST', 'policies/home-folder/attach', { user: 'homey' });
    await admin('POST', 'groups', { name: 'readers' });
    await admin('POST', 'policies/bucket-reader/attach', { group: 'readers' });
  });

  after(async () => {
    root?.destroy();
    await server?.stop();
    await cleanupEnv?.();
  });

  it('rclone as the read-only user › copy down works; an upload → non-zero exit reporting 403 AccessDenied, nothing written', async () => {
    ok('rclone copy (down)', await rclone(viewer, ['copy', `strata:${bucket}/docs`, join(work, 'rclone-down')]));
    assert.equal(await readFile(join(work, 'rclone-down', 'a.txt'), 'utf8'), 'docs/a.txt\n');
    assert.equal(await readFile(join(work, 'rclone-down', 'b.txt'), 'utf8'), 'docs/b.txt\n');
    const from = server.logs().length;
    fails('rclone copyto (up)', await rclone(viewer, ['copyto', join(work, 'local.txt'), `strata:${bucket}/docs/up.txt`]), /AccessDenied|403/);
    const refused = (await server.accessLog(from)).filter((l) => l.status === 403).map((l) => [l.op, l.denied?.action]);
    assert.deepEqual(refused, [['PutObject', 's3:PutObject']], 'refused at the upload itself');
    assert.equal((await errorOf(root.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/up.txt' })))).name, 'NotFound');
  });

  it('s3cmd as the read-only user › get works; put → non-zero exit reporting 403 (AccessDenied)', async () => {
    ok('s3cmd get', await s3cmd(viewer, ['get', '--force', `s3://${bucket}/docs/a.txt`, join(work, 's3cmd-a.txt')]));
    assert.equal(await readFile(join(work, 's3cmd-a.txt'), 'utf8'), 'docs/a.txt\n');
    const put = await s3cmd(viewer, ['put', join(work, 'local.txt'), `s3://${bucket}/docs/s3cmd-up.txt`]);
    fails('s3cmd put', put, /403/);
    assert.match(put.stderr, /AccessDenied/);
    assert.equal((await errorOf(root.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/s3cmd-up.txt' })))).name, 'NotFound');
  });

  it('rclone as the home user › lists and writes home/homey/; the bucket root and home/other/ → AccessDenied', async () => {
    // As on AWS, a HEAD of a missing key is 403 (not 404) for a caller whose s3:ListBucket holds only
    // under an s3:prefix condition (a HEAD carries no prefix); rclone's check of the destination
    // before the upload (a HEAD) would fail on it, so it is turned off (--no-check-dest), as a user
    // of such a policy on AWS has to.
    fails(
      'rclone copyto (home, with the destination check)',
      await rclone(homey, ['copyto', join(work, 'local.txt'), `strata:${bucket}/home/homey/rclone.txt`]),
      /403/,
    );
    ok('rclone copyto (home)', await rclone(homey, ['copyto', '--no-check-dest', join(work, 'local.txt'), `strata:${bucket}/home/homey/rclone.txt`]));
    const mine = await rclone(homey, ['lsf', `strata:${bucket}/home/homey`]);
    ok('rclone lsf home/homey', mine);
    assert.deepEqual(lines(mine), ['mine.txt', 'rclone.txt']);
    fails('rclone lsf (bucket root)', await rclone(homey, ['lsf', `strata:${bucket}`]), /AccessDenied|403/);
    fails('rclone lsf home/other', await rclone(homey, ['lsf', `strata:${bucket}/home/other`]), /AccessDenied|403/);
    fails('rclone cat home/other', await rclone(homey, ['cat', `strata:${bucket}/home/other/theirs.txt`]), /AccessDenied|403/);
  });

  it('s3cmd as the home user › ls home/homey/ works; ls of the bucket root and of home/other/ → 403', async () => {
    const mine = await s3cmd(homey, ['ls', `s3://${bucket}/home/homey/`]);
    ok('s3cmd ls home/homey/', mine);
    assert.match(mine.stdout, /home\/homey\/mine\.txt/);
    assert.doesNotMatch(mine.stdout, /home\/other/);
    fails('s3cmd ls (root)', await s3cmd(homey, ['ls', `s3://${bucket}/`]), /403|AccessDenied/);
    fails('s3cmd ls home/other/', await s3cmd(homey, ['ls', `s3://${bucket}/home/other/`]), /403|AccessDenied/);
    ok('s3cmd put (home)', await s3cmd(homey, ['put', join(work, 'local.txt'), `s3://${bucket}/home/homey/s3cmd.txt`]));
    fails('s3cmd put home/other', await s3cmd(homey, ['put', join(work, 'local.txt'), `s3://${bucket}/home/other/s3cmd.txt`]), /403|AccessDenied/);
  });

  it('AWS CLI as the home user › s3 cp up and down and s3 ls under home/homey/; s3 ls of the root and cp into home/other/ → AccessDenied', async () => {
    ok('aws s3 cp (up)', await aws(homey, ['s3', 'cp', join(work, 'local.txt'), `s3://${bucket}/home/homey/cli.txt`]));
    ok('aws s3 cp (down)', await aws(homey, ['s3', 'cp', `s3://${bucket}/home/homey/cli.txt`, join(work, 'cli-down.txt')]));
    assert.equal(await readFile(join(work, 'cli-down.txt'), 'utf8'), 'local bytes\n');
    const ls = await aws(homey, ['s3', 'ls', `s3://${bucket}/home/homey/`]);
    ok('aws s3 ls home/homey/', ls);
    assert.match(ls.stdout, /cli\.txt/);
    assert.match(ls.stdout, /mine\.txt/);
    fails('aws s3 ls (root)', await aws(homey, ['s3', 'ls', `s3://${bucket}/`]), /AccessDenied/);
    fails('aws s3 cp home/other', await aws(homey, ['s3', 'cp', join(work, 'local.txt'), `s3://${bucket}/home/other/cli.txt`]), /AccessDenied/);
    // A user without a policy (the group test adds one later) and an anonymous caller cannot read it.
    const stranger = testClient(server.url, { credentials: { accessKeyId: member.accessKey, secretAccessKey: member.secretKey } });
    try {
      assert.equal((await errorOf(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'home/homey/cli.txt' })))).name, 'AccessDenied');
    } finally {
      stranger.destroy();
    }
    assert.equal((await fetch(`${server.url}/${bucket}/home/homey/cli.txt`)).status, 403);
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › a key whose inline policy narrows readwrite to one bucket: that bucket works, another → AccessDenied`, async (t) => {
      const name = `scoped-${label.includes('venv') ? 'new' : 'deb'}`;
      const user = await createUser(server.url, ROOT, name, ['readwrite']);
      const narrowing = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }],
      };
      const key = await admin('POST', `users/${name}/keys`, { policy: narrowing });
      const r = await runPythonCheck(python, 'iam_clients.py', server, {
        bucket,
        accessKey: String(key.accessKey),
        secretKey: String(key.secretKey),
        env: { MODE: 'narrowed', OTHER_BUCKET: other },
      });
      t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
      assert.match(r.stdout, /^ok {3}own bucket: put, get, list, delete$/m);
      assert.match(r.stdout, /^ok {3}other bucket: put, get, list, delete refused AccessDenied$/m);
      // The user's own (unnarrowed) key still reaches the other bucket: only the key was narrowed.
      const own = testClient(server.url, { credentials: { accessKeyId: user.accessKey, secretAccessKey: user.secretKey } });
      try {
        assert.equal(await (await own.send(new GetObjectCommand({ Bucket: other, Key: 'seed.txt' }))).Body!.transformToString(), 'seed');
      } finally {
        own.destroy();
      }
    });
  }

  it('a deleted key › rclone, s3cmd, the AWS CLI and both boto3s each report InvalidAccessKeyId', async () => {
    const gone = await createUser(server.url, ROOT, 'gone', ['bucket-reader']);
    ok('rclone lsf (before the delete)', await rclone(gone, ['lsf', `strata:${bucket}/docs`]));
    await admin('DELETE', `keys/${gone.accessKey}`);
    fails('rclone lsf', await rclone(gone, ['lsf', `strata:${bucket}/docs`]), /InvalidAccessKeyId/);
    fails('s3cmd ls', await s3cmd(gone, ['ls', `s3://${bucket}/docs/`]), /InvalidAccessKeyId/);
    fails('aws s3 ls', await aws(gone, ['s3', 'ls', `s3://${bucket}/docs/`]), /InvalidAccessKeyId/);
    for (const { python } of BOTO3_PYTHONS) {
      const r = await runPythonCheck(python, 'iam_clients.py', server, {
        bucket,
        accessKey: gone.accessKey,
        secretKey: gone.secretKey,
        env: { MODE: 'deleted' },
      });
      assert.match(r.stdout, /^ok {3}deleted key refused InvalidAccessKeyId$/m);
    }
  });

  it('rclone › joining a group with a read policy lets the next command list and copy; leaving it refuses the next one', async () => {
    const list = () => rclone(member, ['lsf', `strata:${bucket}/docs`]);
    fails('rclone lsf (no group)', await list(), /AccessDenied|403/);
    await admin('POST', 'groups/readers/members', { users: ['member'] });
    const joined = await list();
    ok('rclone lsf (in the group)', joined);
    assert.deepEqual(lines(joined), ['a.txt', 'b.txt']);
    await mkdir(join(work, 'member-down'), { recursive: true });
    ok('rclone copy (in the group)', await rclone(member, ['copy', `strata:${bucket}/docs`, join(work, 'member-down')]));
    assert.equal(await readFile(join(work, 'member-down', 'b.txt'), 'utf8'), 'docs/b.txt\n');
    await admin('POST', 'groups/readers/members/remove', { users: ['member'] });
    fails('rclone lsf (left the group)', await list(), /AccessDenied|403/);
  });
});
