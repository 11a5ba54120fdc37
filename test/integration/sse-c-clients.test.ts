// SSE-C PutObject / GetObject / HeadObject with the other real clients, over HTTPS (--certs, no
// --sse-c-over-http: SSE-C works as on AWS): boto3 newest and Debian's (python/sse_c.py, the test CA
// through AWS_CA_BUNDLE), the AWS CLI (`s3api put-object/get-object/head-object --sse-customer-*`,
// `s3 cp --sse-c AES256 --sse-c-key fileb://…` both ways, a wrong key refused), aws-sdk-js, and
// rclone's --s3-sse-customer-* flags (rclone itself refuses to send SSE keys over plain HTTP).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  BOTO3_PYTHONS,
  RCLONE,
  awsCli,
  awsCliEnv,
  describeRun,
  isolatedClientEnv,
  newBucketName,
  run,
  runPythonCheck,
  writeSelfSignedCert,
} from '../helpers/clients.js';
import { errorOf, sseCustomer } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

/** A 32-byte key that is also printable: the CLI's and rclone's plain key arguments take it as is. */
const RAW_KEY = 'strata-sse-c-test-key-32-bytes!!';
const KEY_BYTES = Buffer.from(RAW_KEY, 'latin1');
const KEY_MD5 = createHash('md5').update(KEY_BYTES).digest('base64');
const SSE = sseCustomer(KEY_BYTES);
const PKG = 64 * 1024;

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 29 + seed + (i >> 11)) & 0xff;
  return b;
}

describe('SSE-C over HTTPS without --sse-c-over-http: boto3, the AWS CLI, aws-sdk-js, rclone', { timeout: 600_000 }, () => {
  let certDir: string;
  let work: string;
  let server: RunningServer;
  let s3: S3Client;
  let cliEnv: NodeJS.ProcessEnv;
  let cleanupCli: () => Promise<void>;
  const bucket = newBucketName('ssec-tls');
  const body = pattern(3 * PKG + 333, 5);
  const { aws, s3api } = awsCli(() => ({ url: server.url, env: cliEnv, cwd: work, logs: server.logs, timeoutMs: 120_000 }));

  before(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'strata-ssec-certs-'));
    work = await mkdtemp(join(tmpdir(), 'strata-ssec-cli-'));
    await writeSelfSignedCert(certDir);
    server = await startServer({ args: ['--certs', certDir], tls: true });
    s3 = new S3Client({
      endpoint: server.url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: await readFile(join(certDir, 'public.crt')) }) }),
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const made = await awsCliEnv();
    cliEnv = { ...made.env, AWS_CA_BUNDLE: join(certDir, 'public.crt') };
    cleanupCli = made.cleanup;
    await writeFile(join(work, 'key.bin'), KEY_BYTES);
    await writeFile(join(work, 'other.bin'), Buffer.alloc(32, 9));
    await writeFile(join(work, 'up.bin'), body);
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
    await cleanupCli?.();
    if (certDir) await rm(certDir, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('aws-sdk-js › PUT and GET with SSE-C over https → the bytes back (no flag needed)', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'js', Body: body, ...SSE }));
    assert.equal(put.SSECustomerKeyMD5, KEY_MD5);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'js', ...SSE }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    assert.equal((await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'js' })))).name, 'InvalidRequest');
  });

  for (const { label, python } of BOTO3_PYTHONS) {
    it(`${label} › python/sse_c.py over https (test CA): put/get/head, ranges, ETags, wrong and missing keys, header errors, transfer manager`, async (t) => {
      const r = await runPythonCheck(python, 'sse_c.py', server, {
        bucket: newBucketName('ssec-py'),
        env: { AWS_CA_BUNDLE: join(certDir, 'public.crt') },
        timeoutMs: 240_000,
      });
      t.diagnostic(r.stdout.split('\n')[0] ?? '');
    });
  }

  it('AWS CLI › s3api put-object / head-object / get-object --sse-customer-algorithm AES256 --sse-customer-key → the bytes; a wrong key → 403', async () => {
    const sse = ['--sse-customer-algorithm', 'AES256', '--sse-customer-key', RAW_KEY];
    const put = await s3api(['put-object', '--bucket', bucket, '--key', 'cli/api', '--body', 'up.bin', ...sse]);
    assert.equal(put.SSECustomerAlgorithm, 'AES256');
    assert.equal(put.SSECustomerKeyMD5, KEY_MD5);
    const head = await s3api(['head-object', '--bucket', bucket, '--key', 'cli/api', ...sse]);
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.ETag, put.ETag);
    const got = await s3api(['get-object', '--bucket', bucket, '--key', 'cli/api', ...sse, '--range', `bytes=${PKG - 5}-${2 * PKG + 5}`, 'range.bin']);
    assert.equal(got.ContentRange, `bytes ${PKG - 5}-${2 * PKG + 5}/${body.length}`);
    assert.ok((await readFile(join(work, 'range.bin'))).equals(body.subarray(PKG - 5, 2 * PKG + 6)));
    await s3api(['get-object', '--bucket', bucket, '--key', 'cli/api', ...sse, 'whole.bin']);
    assert.ok((await readFile(join(work, 'whole.bin'))).equals(body));
    const wrong = await aws(
      ['s3api', 'get-object', '--bucket', bucket, '--key', 'cli/api', '--sse-customer-algorithm', 'AES256', '--sse-customer-key', 'x'.repeat(32), 'w.bin'],
      {
        expectFailure: true,
      },
    );
    assert.match(wrong.stderr, /403|AccessDenied|Forbidden/);
  });

  it('AWS CLI › s3 cp --sse-c AES256 --sse-c-key fileb://key.bin up and down → byte-identical; down with another key fails', async () => {
    await aws(['s3', 'cp', 'up.bin', `s3://${bucket}/cli/cp.bin`, '--sse-c', 'AES256', '--sse-c-key', 'fileb://key.bin']);
    await aws(['s3', 'cp', `s3://${bucket}/cli/cp.bin`, 'down.bin', '--sse-c', 'AES256', '--sse-c-key', 'fileb://key.bin']);
    assert.ok((await readFile(join(work, 'down.bin'))).equals(body));
    // The object was written with SSE-C by the CLI: aws-sdk-js reads it with the same key.
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cli/cp.bin', ...SSE }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    await aws(['s3', 'cp', `s3://${bucket}/cli/cp.bin`, 'other.out', '--sse-c', 'AES256', '--sse-c-key', 'fileb://other.bin'], { expectFailure: true });
  });

  it('rclone › copyto up and down with --s3-sse-customer-* (its --ca-cert) → byte-identical (large and small); a download without the key fails; aws-sdk-js reads it', async () => {
    const isolated = await isolatedClientEnv();
    try {
      await writeFile(join(work, 'rclone.conf'), '');
      const env = Object.fromEntries(Object.entries(isolated.env).filter(([k]) => !k.startsWith('RCLONE_')));
      Object.assign(env, {
        RCLONE_CONFIG: join(work, 'rclone.conf'),
        RCLONE_CONFIG_STRATA_TYPE: 's3',
        RCLONE_CONFIG_STRATA_PROVIDER: 'Minio',
        RCLONE_CONFIG_STRATA_ACCESS_KEY_ID: ACCESS_KEY,
        RCLONE_CONFIG_STRATA_SECRET_ACCESS_KEY: SECRET_KEY,
        RCLONE_CONFIG_STRATA_ENDPOINT: server.url,
        RCLONE_CONFIG_STRATA_REGION: REGION,
      });
      const rclone = async (args: string[]) => {
        const r = await run(RCLONE, [...args, '--ca-cert', join(certDir, 'public.crt'), '--retries', '1'], { env, cwd: work, timeoutMs: 120_000 });
        assert.equal(r.code, 0, `${describeRun(`rclone ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
      };
      const sse = ['--s3-sse-customer-algorithm', 'AES256', '--s3-sse-customer-key', RAW_KEY];
      const big = pattern(4 * PKG + 9, 7);
      const small = pattern(900, 8);
      await writeFile(join(work, 'big.bin'), big);
      await writeFile(join(work, 'small.bin'), small);
      for (const [name, bytes] of [
        ['big.bin', big],
        ['small.bin', small],
      ] as Array<[string, Buffer]>) {
        await rclone(['copyto', join(work, name), `strata:${bucket}/r/${name}`, ...sse]);
        await rclone(['copyto', `strata:${bucket}/r/${name}`, join(work, `${name}.down`), ...sse]);
        assert.ok((await readFile(join(work, `${name}.down`))).equals(bytes), name);
      }
      // Without the key the server answers HEAD with 400 InvalidRequest; rclone then takes the path
      // for a directory and copies nothing (whatever its exit code): never a byte of the object.
      const from = server.logs().length;
      await run(RCLONE, ['copyto', `strata:${bucket}/r/big.bin`, join(work, 'nokey.down'), '--ca-cert', join(certDir, 'public.crt'), '--retries', '1'], {
        env,
        cwd: work,
        timeoutMs: 120_000,
      });
      await assert.rejects(readFile(join(work, 'nokey.down')), { code: 'ENOENT' });
      const lines = await server.accessLog(from);
      assert.ok(lines.some((l) => l.op === 'HeadObject' && l.status === 400));
      assert.ok(!lines.some((l) => l.op === 'GetObject' && l.status === 200), 'no GET answered');
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'r/small.bin', ...SSE }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(small));
    } finally {
      await isolated.cleanup();
    }
  });
});
