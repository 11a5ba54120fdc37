// Versioning through real clients against a real Strata process: boto3 newest (.venv) and Debian's
// (python/versioning.py: versions, delete markers, reads and copies by VersionId, the paginator, and
// both bucket-emptying paths over more than 1000 versions), the AWS CLI's s3api (put-bucket-versioning,
// list-object-versions, get-object/delete-object --version-id) and rclone (backend versioning,
// --s3-versions listing with version suffixes, reading an old version through it).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { AWS_CLI, RCLONE, awsCli, describeRun, newBucketName, run, type RunResult, awsCliEnv, BOTO3_PYTHONS, runPythonCheck } from '../helpers/clients.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

describe('versioning with real clients', () => {
  let server: RunningServer;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let cleanupEnv: () => Promise<void>;
  const { s3api } = awsCli(() => ({ url: server.url, env, cwd: work, logs: server.logs, timeoutMs: 120_000 }));

  before(async () => {
    server = await startServer();
    const isolated = await awsCliEnv();
    env = isolated.env;
    work = isolated.dir;
    cleanupEnv = isolated.cleanup;
  });

  after(async () => {
    await server?.stop();
    await cleanupEnv?.();
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › versioning.py: versions, delete markers, VersionId reads and copies, paginator, emptying 1600 and 1200 versions in batches → all pass`, {
      timeout: 600_000,
    }, async (t: TestContext) => {
      const r = await runPythonCheck(python, 'versioning.py', server, { bucket: newBucketName('verpy'), timeoutMs: 580_000 });
      t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
      // Every check printed ok (a script that stopped early would exit 0 without them).
      assert.equal((r.stdout.match(/^ok {3}/gm) ?? []).length, 6, r.stdout);
    });
  }

  it('aws s3api › put-bucket-versioning, list-object-versions, get-object and delete-object --version-id → versions as S3 keeps them', async (t: TestContext) => {
    t.diagnostic((await run(AWS_CLI, ['--version'], { env })).stdout.trim());
    const bucket = newBucketName('vercli');
    await s3api(['create-bucket', '--bucket', bucket]);
    await s3api(['put-bucket-versioning', '--bucket', bucket, '--versioning-configuration', 'Status=Enabled']);
    assert.equal((await s3api(['get-bucket-versioning', '--bucket', bucket]))['Status'], 'Enabled');
    await writeFile(join(work, 'one.txt'), 'one');
    await writeFile(join(work, 'two.txt'), 'two');
    const v1 = (await s3api(['put-object', '--bucket', bucket, '--key', 'k', '--body', 'one.txt']))['VersionId'];
    const v2 = (await s3api(['put-object', '--bucket', bucket, '--key', 'k', '--body', 'two.txt']))['VersionId'];
    assert.notEqual(v1, v2);
    const got = await s3api(['get-object', '--bucket', bucket, '--key', 'k', '--version-id', v1, 'out.txt']);
    assert.equal(got['VersionId'], v1);
    assert.equal(await readFile(join(work, 'out.txt'), 'utf8'), 'one');
    const marker = await s3api(['delete-object', '--bucket', bucket, '--key', 'k']);
    assert.equal(marker['DeleteMarker'], true);
    const listed = await s3api(['list-object-versions', '--bucket', bucket]);
    assert.deepEqual(
      listed['Versions'].map((v: Record<string, unknown>) => [v['VersionId'], v['IsLatest']]),
      [
        [v2, false],
        [v1, false],
      ],
    );
    assert.deepEqual(
      listed['DeleteMarkers'].map((m: Record<string, unknown>) => [m['VersionId'], m['IsLatest']]),
      [[marker['VersionId'], true]],
    );
    const removed = await s3api(['delete-object', '--bucket', bucket, '--key', 'k', '--version-id', v1]);
    assert.equal(removed['VersionId'], v1);
    // The CLI pages list-object-versions itself (--page-size 1: one request per entry).
    const paged = await s3api(['list-object-versions', '--bucket', bucket, '--page-size', '1']);
    assert.deepEqual(
      [...paged['Versions'], ...paged['DeleteMarkers']].map((v: Record<string, unknown>) => v['VersionId']),
      [v2, marker['VersionId']],
    );
  });

  describe('rclone', () => {
    let renv: NodeJS.ProcessEnv;
    const bucket = newBucketName('verrclone');

    async function rclone(args: string[], input?: string): Promise<RunResult> {
      const r = await run(RCLONE, args, { env: renv, timeoutMs: 120_000, cwd: work, input });
      assert.equal(r.code, 0, `${describeRun(`rclone ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
      return r;
    }
    const lines = (r: RunResult) => r.stdout.split('\n').filter((l) => l !== '');

    before(async () => {
      const conf = join(work, 'rclone.conf');
      await writeFile(conf, '');
      renv = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('RCLONE_')));
      Object.assign(renv, {
        RCLONE_CONFIG: conf,
        RCLONE_CONFIG_STRATA_TYPE: 's3',
        RCLONE_CONFIG_STRATA_PROVIDER: 'Other',
        RCLONE_CONFIG_STRATA_ACCESS_KEY_ID: ACCESS_KEY,
        RCLONE_CONFIG_STRATA_SECRET_ACCESS_KEY: SECRET_KEY,
        RCLONE_CONFIG_STRATA_ENDPOINT: server.url,
        RCLONE_CONFIG_STRATA_REGION: REGION,
      });
    });

    it('rclone › backend versioning gets and sets the state; --s3-versions lists old versions with suffixes and reads them', async (t: TestContext) => {
      t.diagnostic((await rclone(['version'])).stdout.split('\n')[0] ?? '');
      await rclone(['mkdir', `strata:${bucket}`]);
      assert.equal((await rclone(['backend', 'versioning', `strata:${bucket}`])).stdout.trim(), 'Unversioned');
      assert.equal((await rclone(['backend', 'versioning', `strata:${bucket}`, 'Enabled'])).stdout.trim(), 'Enabled');
      assert.equal((await rclone(['backend', 'versioning', `strata:${bucket}`])).stdout.trim(), 'Enabled');
      await rclone(['rcat', `strata:${bucket}/notes.txt`], 'first text');
      await rclone(['rcat', `strata:${bucket}/notes.txt`], 'second text');
      await rclone(['rcat', `strata:${bucket}/notes.txt`], 'third text');
      assert.deepEqual(lines(await rclone(['lsf', `strata:${bucket}`])), ['notes.txt'], 'without the flag: the latest only');
      const listed = lines(await rclone(['lsf', '--s3-versions', `strata:${bucket}`])).sort();
      assert.equal(listed.length, 3, listed.join('\n'));
      assert.ok(listed.includes('notes.txt'), listed.join('\n'));
      const old = listed.filter((n) => n !== 'notes.txt');
      for (const n of old) assert.match(n, /^notes-v\d{4}-\d{2}-\d{2}-\d{6}-\d{3}\.txt$/);
      const bodies = await Promise.all(old.map(async (n) => (await rclone(['cat', '--s3-versions', `strata:${bucket}/${n}`])).stdout));
      assert.deepEqual(bodies.sort(), ['first text', 'second text']);
      assert.equal((await rclone(['cat', `strata:${bucket}/notes.txt`])).stdout, 'third text');
      assert.equal((await rclone(['backend', 'versioning', `strata:${bucket}`, 'Suspended'])).stdout.trim(), 'Suspended');
    });
  });
});
