// Object lock with the other real clients (issue 11): boto3 newest and Debian's run
// python/object_lock.py (bucket with lock, default retention on put_object and a multipart
// upload_fileobj, lock headers, a POST form's lock fields, retention rules, delete refusals); the
// AWS CLI's s3api runs the main flow (create-bucket --object-lock-enabled-for-bucket,
// put/get-object-lock-configuration, put-object with lock options, retention, legal hold).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { awsCli, newBucketName, awsCliEnv, BOTO3_PYTHONS, runPythonCheck } from '../helpers/clients.js';
import { startServer, type RunningServer } from '../helpers/server.js';

describe('Object lock with boto3 and the AWS CLI', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let cleanupEnv: () => Promise<void>;
  const { aws, s3api } = awsCli(() => ({ url: server.url, env, cwd: work, logs: server.logs, timeoutMs: 120_000 }));

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
    it(`${label} › object_lock.py: lock bucket, default retention (put and multipart), headers, POST form, retention rules, delete refusals`, async (t: TestContext) => {
      const r = await runPythonCheck(python, 'object_lock.py', server, { bucket: newBucketName('lockpy'), timeoutMs: 180_000 });
      t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
    });
  }

  it('aws s3api › create-bucket --object-lock-enabled-for-bucket, lock configuration, put-object with lock options, retention, legal hold', async () => {
    const bucket = newBucketName('lockcli');
    await s3api(['create-bucket', '--bucket', bucket, '--object-lock-enabled-for-bucket']);
    assert.deepEqual(await s3api(['get-bucket-versioning', '--bucket', bucket]), { Status: 'Enabled' });
    const conf = { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 3 } } };
    await s3api(['put-object-lock-configuration', '--bucket', bucket, '--object-lock-configuration', JSON.stringify(conf)]);
    assert.deepEqual((await s3api(['get-object-lock-configuration', '--bucket', bucket])).ObjectLockConfiguration, conf);

    await writeFile(join(work, 'lock.txt'), 'locked by the cli\n');
    await s3api(['put-object', '--bucket', bucket, '--key', 'default.txt', '--body', join(work, 'lock.txt')]);
    const d = await s3api(['head-object', '--bucket', bucket, '--key', 'default.txt']);
    assert.equal(d.ObjectLockMode, 'GOVERNANCE', 'the default retention applies');

    const until = new Date(Math.floor((Date.now() + 7_200_000) / 1000) * 1000).toISOString();
    await s3api([
      'put-object',
      ...['--bucket', bucket, '--key', 'explicit.txt', '--body', join(work, 'lock.txt')],
      ...['--object-lock-mode', 'COMPLIANCE', '--object-lock-retain-until-date', until, '--object-lock-legal-hold-status', 'ON'],
    ]);
    const h = await s3api(['head-object', '--bucket', bucket, '--key', 'explicit.txt']);
    assert.deepEqual([h.ObjectLockMode, new Date(h.ObjectLockRetainUntilDate).toISOString(), h.ObjectLockLegalHoldStatus], ['COMPLIANCE', until, 'ON']);
    const ret = await s3api(['get-object-retention', '--bucket', bucket, '--key', 'explicit.txt']);
    assert.deepEqual([ret.Retention.Mode, new Date(ret.Retention.RetainUntilDate).toISOString()], ['COMPLIANCE', until]);

    await s3api(['put-object-legal-hold', '--bucket', bucket, '--key', 'explicit.txt', '--legal-hold', 'Status=OFF']);
    assert.deepEqual((await s3api(['get-object-legal-hold', '--bucket', bucket, '--key', 'explicit.txt'])).LegalHold, { Status: 'OFF' });

    const shorter = new Date(Date.now() + 3_600_000).toISOString();
    const refused = await aws(
      ['s3api', 'put-object-retention', '--bucket', bucket, '--key', 'explicit.txt', '--retention', `Mode=COMPLIANCE,RetainUntilDate=${shorter}`],
      { expectFailure: true },
    );
    assert.match(refused.stderr, /AccessDenied/);
  });
});
