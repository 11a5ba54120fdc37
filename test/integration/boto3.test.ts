// Real-client tests with boto3 beyond the seed tutorial (which tutorial-full.test.ts runs, §3–§8):
// core.py: buckets, objects, ranges, conditionals, copy, listings, odd keys, each with the newest boto3 (.venv) and Debian's 1.26.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { DEBIAN_PYTHON, PYTHON_TEST_DIR, VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { ACCESS_KEY, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const PYTHONS = [
  { label: 'boto3 newest (.venv)', python: VENV_PYTHON },
  { label: 'boto3 Debian 1.26 (/usr/bin/python3)', python: DEBIAN_PYTHON },
];

const PROGRAMS = [{ file: 'core.py', name: 'buckets, objects, ranges, conditionals, copy, listings, odd keys → S3 behaviour' }];

describe('boto3', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server?.stop();
  });

  for (const { label, python } of PYTHONS) {
    for (const program of PROGRAMS) {
      it(`${label} › ${program.file}: ${program.name}`, { timeout: 300_000 }, async (t: TestContext) => {
        const bucket = newBucketName(program.file.replace('.py', ''));
        const { env, cleanup } = await isolatedClientEnv({
          S3_ENDPOINT: server.url,
          S3_ACCESS_KEY: ACCESS_KEY,
          S3_SECRET_KEY: SECRET_KEY,
          S3_BUCKET: bucket,
        });
        try {
          const r = await run(python, [join(PYTHON_TEST_DIR, program.file)], { env, timeoutMs: 280_000 });
          // The program's first line names the boto3/botocore versions it ran with.
          t.diagnostic(`${label}: ${r.stdout.split('\n')[0] ?? ''}`);
          assert.equal(r.code, 0, `${describeRun(`${python} ${program.file}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-4000)}`);
        } finally {
          await cleanup();
        }
      });
    }
  }
});
