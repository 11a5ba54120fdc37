// The founding boto3 tutorial (shared/seed/python-sdk.tr.md) §3–§8 executed as written by
// test/integration/python/tutorial_full.py: presigned GET (urllib) and PUT (curl), the §5.2
// multipart loop through and into its `except` branch, errors, the §7 pool, §8's main(). Run with
// the newest boto3 over http and over https (self-signed cert: uploads take the aws-chunked
// STREAMING-UNSIGNED-PAYLOAD-TRAILER path) and with Debian's boto3 1.26 over http.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  CURL,
  DEBIAN_PYTHON,
  PYTHON_TEST_DIR,
  VENV_PYTHON,
  describeRun,
  isolatedClientEnv,
  newBucketName,
  run,
  writeSelfSignedCert,
} from '../helpers/clients.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

interface Summary {
  boto3: string;
  botocore: string;
  /** operation → x-amz-content-sha256 value ('<sha256 hex>' for signed payloads) → request count */
  payload_modes: Record<string, Record<string, number>>;
}

describe('seed tutorial §3–§8 (tutorial_full.py)', () => {
  let http: RunningServer;
  let https: RunningServer;
  let certDir: string;

  before(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'strata-tutorial-certs-'));
    await writeSelfSignedCert(certDir);
    [http, https] = await Promise.all([startServer(), startServer({ args: ['--certs', certDir], tls: true })]);
  });

  after(async () => {
    await Promise.all([http?.stop(), https?.stop()]);
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  /** Runs tutorial_full.py, asserts it passed, returns its JSON summary (last stdout line). */
  async function tutorial(t: TestContext, python: string, server: RunningServer, ca?: string): Promise<Summary> {
    const { env, cleanup } = await isolatedClientEnv({
      S3_ENDPOINT: server.url,
      S3_BUCKET: newBucketName('tutorial-full'),
      CURL,
      ...(ca ? { S3_CA: ca } : {}),
    });
    try {
      const r = await run(python, [join(PYTHON_TEST_DIR, 'tutorial_full.py')], { env, timeoutMs: 200_000 });
      t.diagnostic(r.stdout.split('\n')[0] ?? '');
      assert.equal(r.code, 0, `${describeRun(`${python} tutorial_full.py`, r)}\n--- server log (tail) ---\n${server.logs().slice(-4000)}`);
      assert.match(r.stdout, /^OK: full tutorial passed$/m);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Summary;
      t.diagnostic(`payload modes: ${JSON.stringify(summary.payload_modes)}`);
      return summary;
    } finally {
      await cleanup();
    }
  }

  /** Upload requests per payload mode, over PutObject and UploadPart. */
  function modes(s: Summary): Map<string, number> {
    const out = new Map<string, number>();
    for (const op of ['PutObject', 'UploadPart']) {
      assert.ok(s.payload_modes[op], `no ${op} requests recorded: ${JSON.stringify(s.payload_modes)}`);
      for (const [mode, n] of Object.entries(s.payload_modes[op]!)) out.set(mode, (out.get(mode) ?? 0) + n);
    }
    return out;
  }

  it('tutorial §3–§8 › newest boto3 over http → every step works as written; uploads send a signed SHA-256 payload', { timeout: 240_000 }, async (t) => {
    const s = await tutorial(t, VENV_PYTHON, http);
    assert.deepEqual([...modes(s).keys()], ['<sha256 hex>'], JSON.stringify(s.payload_modes));
  });

  it('tutorial §3–§8 › newest boto3 over https (self-signed cert, verify=) → every step works; every upload was aws-chunked with a trailing checksum', {
    timeout: 240_000,
  }, async (t) => {
    const s = await tutorial(t, VENV_PYTHON, https, join(certDir, 'public.crt'));
    assert.deepEqual([...modes(s).keys()], [TRAILER], JSON.stringify(s.payload_modes));
    // §4.2 upload_file + §7's 60 put_object + §8's upload_file; §5.2: 1 + 3 parts.
    assert.equal(s.payload_modes.PutObject![TRAILER], 62);
    assert.equal(s.payload_modes.UploadPart![TRAILER], 5);
  });

  it('tutorial §3–§8 › Debian boto3 1.26 over http → every step works as written', { timeout: 240_000 }, async (t) => {
    const s = await tutorial(t, DEBIAN_PYTHON, http);
    assert.match(s.boto3, /^1\.26\./);
    assert.deepEqual([...modes(s).keys()], ['<sha256 hex>'], JSON.stringify(s.payload_modes));
  });
});
