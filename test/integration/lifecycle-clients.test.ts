// Lifecycle with boto3 (newest and Debian's: lifecycle.py) and the AWS CLI (s3api
// put/get/delete-bucket-lifecycle-configuration from JSON) against a server with a 2-second lifecycle day.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { awsCli, newBucketName, awsCliEnv, BOTO3_PYTHONS, runPythonCheck } from '../helpers/clients.js';
import { startServer, type RunningServer } from '../helpers/server.js';

describe('lifecycle with boto3 and the AWS CLI (short day)', { timeout: 300_000 }, () => {
  let server: RunningServer;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let cleanupEnv: () => Promise<void>;
  const { aws, s3api } = awsCli(() => ({ url: server.url, env, cwd: work, logs: server.logs, timeoutMs: 120_000 }));

  before(async () => {
    server = await startServer({ args: ['--lifecycle-day-seconds', '2'] });
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
    it(`${label} › lifecycle.py: round trip, validation errors, x-amz-expiration, expiry, delete → S3 behaviour`, async (t: TestContext) => {
      const r = await runPythonCheck(python, 'lifecycle.py', server, { bucket: newBucketName('lifecycle-py'), timeoutMs: 240_000 });
      t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
    });
  }

  it('aws s3api › put-bucket-lifecycle-configuration (JSON file) → get answers the rules; an invalid one fails; delete → NoSuchLifecycleConfiguration', async () => {
    const bucket = newBucketName('lifecycle-cli');
    await aws(['s3api', 'create-bucket', '--bucket', bucket]);
    const config = {
      Rules: [
        { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
        { ID: 'tagged', Status: 'Enabled', Filter: { Tag: { Key: 'class', Value: 'tmp' } }, Expiration: { Days: 1 } },
        { ID: 'markers', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { ExpiredObjectDeleteMarker: true } },
      ],
    };
    await writeFile(join(work, 'lifecycle.json'), JSON.stringify(config));
    await aws(['s3api', 'put-bucket-lifecycle-configuration', '--bucket', bucket, '--lifecycle-configuration', 'file://lifecycle.json']);
    const got = await s3api(['get-bucket-lifecycle-configuration', '--bucket', bucket]);
    assert.deepEqual(got.Rules, config.Rules);
    await writeFile(join(work, 'bad.json'), JSON.stringify({ Rules: [{ ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }] }));
    const bad = await aws(['s3api', 'put-bucket-lifecycle-configuration', '--bucket', bucket, '--lifecycle-configuration', 'file://bad.json'], {
      expectFailure: true,
    });
    assert.match(bad.stderr, /InvalidArgument.*'Days' for Expiration action must be a positive integer/);
    await aws(['s3api', 'delete-bucket-lifecycle', '--bucket', bucket]);
    const gone = await aws(['s3api', 'get-bucket-lifecycle-configuration', '--bucket', bucket], { expectFailure: true });
    assert.match(gone.stderr, /NoSuchLifecycleConfiguration/);
  });
});
