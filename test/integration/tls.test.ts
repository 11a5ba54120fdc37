// HTTPS: a self-signed certificate for 127.0.0.1/localhost made with openssl at test time, the
// server started with --certs DIR (public.crt + private.key), and real clients over TLS:
// aws-sdk-js v3 (https.Agent with the CA) and the newest boto3 (verify=<cert>). Over https boto3
// sends uploads as aws-chunked with a trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER), a
// path plain-http tests never reach.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run, writeSelfSignedCert } from '../helpers/clients.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const JS_BODY = 'written by aws-sdk-js over https';

/** boto3 over https; argv[1] picks the check. Prints the versions first; raises on any mismatch. */
const BOTO3_PROGRAM = String.raw`
import hashlib, os, sys
import boto3, botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

print(f'boto3 {boto3.__version__} botocore {botocore.__version__}', flush=True)
mode = sys.argv[1]
bucket = os.environ['S3_BUCKET']
work = os.environ['WORK_DIR']
s3 = boto3.client(
    's3', endpoint_url=os.environ['S3_ENDPOINT'], region_name='us-east-1',
    aws_access_key_id=os.environ['S3_ACCESS_KEY'], aws_secret_access_key=os.environ['S3_SECRET_KEY'],
    verify=os.environ['S3_CA'],
    config=Config(signature_version='s3v4', s3={'addressing_style': 'path'},
                  retries={'max_attempts': 1, 'mode': 'standard'}),
)

def check(cond, message):
    if not cond:
        raise AssertionError(message)

# The payload mode of every upload request, to prove the trailer path was the one exercised.
payload_modes = []
def note_payload_mode(request, **kwargs):
    mode = request.headers.get('x-amz-content-sha256')
    payload_modes.append(mode.decode() if isinstance(mode, bytes) else mode)
s3.meta.events.register('before-send.s3.PutObject', note_payload_mode)
s3.meta.events.register('before-send.s3.UploadPart', note_payload_mode)

def uploads_were_trailer_chunked():
    check(payload_modes and all(m == 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' for m in payload_modes),
          f'expected aws-chunked trailer uploads over https, saw x-amz-content-sha256 {payload_modes}')

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()

def no_content_encoding(key):
    head = s3.head_object(Bucket=bucket, Key=key)
    check('ContentEncoding' not in head, f'{key}: aws-chunked leaked into Content-Encoding: {head.get("ContentEncoding")!r}')
    return head

if mode == 'read':
    # Written by aws-sdk-js over https before: reading and listing need no aws-chunked support.
    body = s3.get_object(Bucket=bucket, Key='from-js.txt')['Body'].read()
    check(body == b'written by aws-sdk-js over https', f'get_object: {body!r}')
    keys = [o['Key'] for o in s3.list_objects_v2(Bucket=bucket).get('Contents', [])]
    check('from-js.txt' in keys, f'list_objects_v2: {keys}')
    check(no_content_encoding('from-js.txt')['ContentLength'] == 32, 'head_object length')
elif mode == 'put':
    data = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key='py/bytes.bin', Body=data)
    uploads_were_trailer_chunked()
    got = s3.get_object(Bucket=bucket, Key='py/bytes.bin')['Body'].read()
    check(got == data, f'get_object returned {len(got)} bytes, not the {len(data)} put')
    check(no_content_encoding('py/bytes.bin')['ContentLength'] == len(data), 'head_object length')
elif mode in ('upload-single', 'upload-multipart'):
    src = os.path.join(work, 'big.bin')
    with open(src, 'wb') as f:
        f.write(os.urandom(20 * 1024 * 1024))
    # Default TransferConfig: 20 MiB > 8 MiB threshold → multipart. Raised threshold → one PutObject.
    cfg = TransferConfig(multipart_threshold=64 * 1024 * 1024) if mode == 'upload-single' else TransferConfig()
    key = 'py/' + mode + '.bin'
    s3.upload_file(src, bucket, key, Config=cfg)
    uploads_were_trailer_chunked()
    dst = os.path.join(work, 'back.bin')
    s3.download_file(bucket, key, dst)
    check(sha256_file(dst) == sha256_file(src), 'download_file is not byte-equal to the uploaded file')
    check(no_content_encoding(key)['ContentLength'] == 20 * 1024 * 1024, 'head_object length')
else:
    raise SystemExit('unknown mode ' + mode)
print('ok', flush=True)
`;

describe('TLS (--certs)', () => {
  let certDir: string;
  let ca: Buffer;
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('tls');

  before(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'strata-certs-'));
    await writeSelfSignedCert(certDir);
    ca = await readFile(join(certDir, 'public.crt'));
    server = await startServer({ args: ['--certs', certDir], tls: true });
    s3 = new S3Client({
      endpoint: server.url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca, keepAlive: true }) }),
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // What the boto3 read check expects (the aws-sdk-js test writes the same again, asserting each step).
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'from-js.txt', Body: JS_BODY }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  it('startup › --certs DIR → https url and a listening log line with "tls":true and the port', () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const line = server
      .logs()
      .split('\n')
      .find((l) => l.includes('"msg":"listening"'));
    assert.ok(line, server.logs());
    const rec = JSON.parse(line) as { tls?: unknown; port?: unknown };
    assert.equal(rec.tls, true);
    assert.equal(rec.port, server.port);
  });

  it('aws-sdk-js › PutObject, GetObject, ListObjectsV2 over https → the bytes back, listed', async () => {
    const body = JS_BODY;
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'from-js.txt', Body: body }));
    assert.equal(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'from-js.txt' }));
    assert.equal(await got.Body!.transformToString(), body);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.ok(
      list.Contents?.some((o) => o.Key === 'from-js.txt' && o.Size === body.length),
      JSON.stringify(list.Contents),
    );
  });

  it('plain http to the TLS port → no S3 answer (the handshake fails), the server keeps serving', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get({ host: server.host, port: server.port, path: '/', agent: false, timeout: 5000 }, (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      });
      req.on('error', (e) => resolve(`error ${e.message}`));
      req.on('timeout', () => req.destroy(new Error('timeout')));
    });
    assert.match(outcome, /^error|^status 400/);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.equal(list.$metadata.httpStatusCode, 200);
  });

  /** Runs the boto3 program in `mode`; returns the operations of the access-log lines it caused. */
  async function boto3(t: TestContext, mode: string): Promise<string[]> {
    const from = server.logs().length;
    const work = await mkdtemp(join(tmpdir(), 'strata-tls-py-'));
    const { env, cleanup } = await isolatedClientEnv({
      S3_ENDPOINT: server.url,
      S3_ACCESS_KEY: ACCESS_KEY,
      S3_SECRET_KEY: SECRET_KEY,
      S3_BUCKET: bucket,
      S3_CA: join(certDir, 'public.crt'),
      WORK_DIR: work,
    });
    try {
      const r = await run(VENV_PYTHON, ['-c', BOTO3_PROGRAM, mode], { env, timeoutMs: 240_000 });
      t.diagnostic(r.stdout.split('\n')[0] ?? '');
      assert.equal(r.code, 0, `${describeRun(`boto3 ${mode}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
      assert.match(r.stdout, /^ok$/m);
      return (await server.accessLog(from)).map((l) => l.op);
    } finally {
      await cleanup();
      await rm(work, { recursive: true, force: true });
    }
  }

  it('boto3 newest › get_object, list_objects_v2, head_object over https (verify=cert) → the object written by aws-sdk-js', { timeout: 120_000 }, async (t) => {
    await boto3(t, 'read');
  });

  it('boto3 newest › put_object of bytes over https (aws-chunked, trailing checksum) → get_object byte-equal, no Content-Encoding', {
    timeout: 120_000,
  }, async (t) => {
    await boto3(t, 'put');
  });

  it('boto3 newest › upload_file 20 MiB as one PutObject over https (aws-chunked trailer) → download_file byte-equal, no Content-Encoding', {
    timeout: 250_000,
  }, async (t) => {
    const ops = await boto3(t, 'upload-single');
    assert.equal(ops.filter((op) => op === 'PutObject').length, 1, ops.join(' '));
    assert.ok(!ops.includes('UploadPart'), ops.join(' '));
  });

  it('boto3 newest › upload_file 20 MiB with the default TransferConfig (multipart, aws-chunked parts) → download_file byte-equal, no Content-Encoding', {
    timeout: 250_000,
  }, async (t) => {
    const ops = await boto3(t, 'upload-multipart');
    // 20 MiB in boto3's default 8 MiB chunks: three UploadParts between create and complete.
    const mp = ops.filter((op) => /Multipart|UploadPart|PutObject/.test(op));
    assert.deepEqual(mp, ['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload'], ops.join(' '));
  });
});
