// Expect: 100-continue against a real server: a refused upload (bad signature, missing bucket,
// If-None-Match: * on an existing key, If-Match on a missing key, UploadPart to a missing upload) is
// answered without 100 Continue and its body is never sent; an accepted one gets 100, then 200.
// Raw sockets (the body is withheld until 100 arrives), curl (which waits for 100) and boto3 (which
// sends Expect: 100-continue on PutObject) see the same.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CURL, DEBIAN_PYTHON, VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';
import { assertS3Error, parseResponse, sha256hex, signRequest, type RawResponse } from '../hardening/raw-http.js';

const wrongSigner = new SignatureV4({
  credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: `${SECRET_KEY}-wrong` },
  region: REGION,
  service: 's3',
  sha256: Sha256,
  uriEscapePath: false,
});

interface ContinueExchange {
  /** The server sent `100 Continue` before its final answer. */
  got100: boolean;
  /** The body was sent (only ever after a 100). */
  bodySent: boolean;
  response: RawResponse;
  /** The server closed the connection by itself (the request asked for keep-alive). */
  serverClosed: boolean;
}

/**
 * Sends the request head with `Expect: 100-continue` and `Connection: keep-alive`, and the body only
 * if the first thing the server answers is `100 Continue`, as a conforming client does. Waits for a
 * complete final answer; after a refusal, also for the server to close the connection. Bounded by
 * `timeoutMs` (generous): a server that neither answers nor sends 100 fails the test.
 */
function expectContinue(port: number, target: string, headers: Array<[string, string]>, body: Buffer, timeoutMs = 30_000): Promise<ContinueExchange> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let got100 = false;
    let bodySent = false;
    let final: RawResponse | undefined;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete exchange within ${timeoutMs} ms: ${JSON.stringify(buf.toString('latin1').slice(0, 400))}`));
    }, timeoutMs);
    const finish = (serverClosed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      if (final) resolve({ got100, bodySent, response: final, serverClosed });
      else reject(new Error(`connection closed without a final answer: ${JSON.stringify(buf.toString('latin1').slice(0, 400))}`));
    };
    sock.on('error', () => undefined);
    sock.on('close', () => finish(true));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!got100 && !final && buf.subarray(0, 12).toString('latin1') === 'HTTP/1.1 100') {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        got100 = true;
        buf = buf.subarray(end + 4);
        bodySent = true;
        sock.write(body);
      }
      if (final) return;
      try {
        const head = buf.indexOf('\r\n\r\n');
        if (head < 0) return;
        const parsed = parseResponse(buf, false);
        if (Number(parsed.headers['content-length'] ?? 0) > parsed.body.length) return; // body still arriving
        final = parsed;
        // A success on a kept-alive connection stays open: done. A refusal must be closed by the server.
        if (parsed.status < 300) finish(false);
      } catch {
        // incomplete: wait for more
      }
    });
    const head = [
      `PUT ${target} HTTP/1.1`,
      ...headers.map(([n, v]) => `${n}: ${v}`),
      'expect: 100-continue',
      'connection: keep-alive',
      `content-length: ${body.length}`,
    ];
    sock.write(`${head.join('\r\n')}\r\n\r\n`);
  });
}

describe('Expect: 100-continue', () => {
  let server: RunningServer;
  const bucket = newBucketName('expect');
  const body = randomBytes(256 * 1024);

  before(async () => {
    server = await startServer();
    const make = await signRequest({ method: 'PUT', port: server.port, path: `/${bucket}` });
    const r = await fetch(`${server.url}/${bucket}`, { method: 'PUT', headers: Object.fromEntries(make.headers.filter(([n]) => n !== 'host')) });
    assert.equal(r.status, 200, await r.text());
    const existing = await signRequest({ method: 'PUT', port: server.port, path: `/${bucket}/existing`, body: 'old' });
    const p = await fetch(`${server.url}/${bucket}/existing`, {
      method: 'PUT',
      body: 'old',
      headers: Object.fromEntries(existing.headers.filter(([n]) => n !== 'host')),
    });
    assert.equal(p.status, 200, await p.text());
  });

  after(async () => {
    await server?.stop();
  });

  /** Signs a PUT of `body` (SHA-256 claimed, not yet sent) and runs the exchange. */
  async function put(path: string, opts: { headers?: Record<string, string>; query?: Record<string, string>; signer?: SignatureV4 } = {}) {
    const signed = await signRequest({ method: 'PUT', port: server.port, path, body, headers: opts.headers, query: opts.query, signer: opts.signer });
    return expectContinue(server.port, signed.target, signed.headers, body);
  }

  const refusals: Array<[string, () => Promise<ContinueExchange>, number, string]> = [
    ['bad signature', () => put(`/${bucket}/k1`, { signer: wrongSigner }), 403, 'SignatureDoesNotMatch'],
    ['missing bucket', () => put(`/${bucket}-missing/k1`), 404, 'NoSuchBucket'],
    ['If-None-Match: * on an existing key', () => put(`/${bucket}/existing`, { headers: { 'if-none-match': '*' } }), 412, 'PreconditionFailed'],
    ['If-Match on a missing key', () => put(`/${bucket}/absent`, { headers: { 'if-match': '"0123456789abcdef0123456789abcdef"' } }), 404, 'NoSuchKey'],
    [
      'If-Match with another ETag',
      () => put(`/${bucket}/existing`, { headers: { 'if-match': '"0123456789abcdef0123456789abcdef"' } }),
      412,
      'PreconditionFailed',
    ],
    ['UploadPart to a missing upload', () => put(`/${bucket}/k1`, { query: { partNumber: '1', uploadId: 'no-such-upload' } }), 404, 'NoSuchUpload'],
  ];
  for (const [condition, exchange, status, code] of refusals) {
    it(`PutObject › Expect: 100-continue, ${condition} → ${status} ${code} without 100 Continue, body never sent, connection closed`, async () => {
      const x = await exchange();
      assert.equal(x.got100, false, 'the server sent 100 Continue for a refused upload');
      assert.equal(x.bodySent, false);
      assert.equal(x.response.status, status);
      assert.equal(assertS3Error(x.response, condition).code, code);
      assert.equal(x.response.headers['connection'], 'close');
      assert.equal(x.serverClosed, true, 'the server must close a connection whose announced body it will not read');
    });
  }

  it('PutObject › Expect: 100-continue, everything in order → 100 Continue, then 200 and the object is stored', async () => {
    const x = await put(`/${bucket}/good`);
    assert.equal(x.got100, true);
    assert.equal(x.response.status, 200, x.response.body.toString());
    assert.equal(x.response.headers['etag'], `"${createHash('md5').update(body).digest('hex')}"`);
    const get = await signRequest({ method: 'GET', port: server.port, path: `/${bucket}/good` });
    const r = await fetch(`${server.url}/${bucket}/good`, { headers: Object.fromEntries(get.headers.filter(([n]) => n !== 'host')) });
    assert.equal(r.status, 200);
    assert.equal(sha256hex(Buffer.from(await r.arrayBuffer())), sha256hex(body));
    // If-None-Match: * on a key that does not exist yet is no refusal: 100, then 200.
    const fresh = await put(`/${bucket}/fresh`, { headers: { 'if-none-match': '*' } });
    assert.equal(fresh.got100, true);
    assert.equal(fresh.response.status, 200);
  });

  it('PutObject › curl -H "Expect: 100-continue" (waits for 100): refused → the error and no 100 line; accepted → 100 then 200', async () => {
    const { env, dir, cleanup } = await isolatedClientEnv();
    try {
      const file = join(dir, 'upload.bin');
      await writeFile(file, body);
      const curl = async (url: string, dump: string) => {
        const args = [
          '-sS',
          '-D',
          dump,
          '-o',
          join(dir, 'out'),
          '-T',
          file,
          '-H',
          'Expect: 100-continue',
          '--expect100-timeout',
          '60',
          '--aws-sigv4',
          `aws:amz:${REGION}:s3`,
          '--user',
          `${ACCESS_KEY}:${SECRET_KEY}`,
          '-H',
          `x-amz-content-sha256: ${sha256hex(body)}`,
          url,
        ];
        const r = await run(CURL, args, { env, timeoutMs: 120_000 });
        assert.equal(r.code, 0, describeRun('curl', r));
        return { dump: await readFile(dump, 'latin1'), out: await readFile(join(dir, 'out'), 'utf8') };
      };
      const refused = await curl(`${server.url}/${bucket}-missing/k`, join(dir, 'h1'));
      assert.doesNotMatch(refused.dump, /^HTTP\/1\.1 100/m);
      assert.match(refused.dump, /^HTTP\/1\.1 404 /m);
      assert.match(refused.out, /<Code>NoSuchBucket<\/Code>/);
      const accepted = await curl(`${server.url}/${bucket}/curl.bin`, join(dir, 'h2'));
      assert.match(accepted.dump, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    } finally {
      await cleanup();
    }
  });

  /**
   * A TCP relay to the server that counts the bytes clients send through it: proof that a refused
   * upload's body never left the client.
   */
  async function countingRelay(): Promise<{ url: string; sent: () => number; close: () => Promise<void> }> {
    let sent = 0;
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: server.port });
      sockets.add(client).add(upstream);
      client.on('data', (c: Buffer) => {
        sent += c.length;
      });
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as net.AddressInfo).port;
    return {
      url: `http://127.0.0.1:${port}`,
      sent: () => sent,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          relay.close(() => resolve());
        }),
    };
  }

  const PY = String.raw`
import os, sys, boto3, botocore
from botocore.config import Config
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id=os.environ['S3_ACCESS_KEY'],
                  aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1',
                  config=Config(retries={'max_attempts': 1}, read_timeout=60, connect_timeout=10))
body = os.urandom(3 * 1024 * 1024)
try:
    s3.put_object(Bucket=os.environ['S3_BUCKET'] + '-missing', Key='k', Body=body)
    print('UNEXPECTED SUCCESS'); sys.exit(1)
except botocore.exceptions.ClientError as e:
    code = e.response['Error']['Code']
    if code != 'NoSuchBucket':
        print('WRONG CODE', code); sys.exit(1)
print('refused')
if os.environ.get('ONLY_REFUSED') == '1':
    sys.exit(0)
# The same client (and connection pool) goes on working.
r = s3.put_object(Bucket=os.environ['S3_BUCKET'], Key='boto3.bin', Body=body)
got = s3.get_object(Bucket=os.environ['S3_BUCKET'], Key='boto3.bin')['Body'].read()
if got != body:
    print('BODY DIFFERS'); sys.exit(1)
print('ok', botocore.__version__)
`;

  for (const [label, python] of [
    ['boto3 newest (.venv)', VENV_PYTHON],
    ['boto3 Debian 1.26 (/usr/bin/python3)', DEBIAN_PYTHON],
  ] as const) {
    it(`PutObject › ${label}: put_object of 3 MiB to a missing bucket (Expect: 100-continue) → NoSuchBucket, the body never sent, no hang; the next put_object works`, {
      timeout: 180_000,
    }, async () => {
      const relay = await countingRelay();
      const base = { S3_ACCESS_KEY: ACCESS_KEY, S3_SECRET_KEY: SECRET_KEY, S3_BUCKET: bucket };
      const refusedEnv = await isolatedClientEnv({ ...base, S3_ENDPOINT: relay.url, ONLY_REFUSED: '1' });
      const fullEnv = await isolatedClientEnv({ ...base, S3_ENDPOINT: server.url });
      try {
        const refused = await run(python, ['-c', PY], { env: refusedEnv.env, timeoutMs: 150_000 });
        assert.equal(refused.code, 0, `${describeRun(label, refused)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
        assert.match(refused.stdout, /^refused$/m);
        assert.ok(relay.sent() < 64 * 1024, `the client sent ${relay.sent()} bytes: the 3 MiB body went out although the upload was refused`);
        const full = await run(python, ['-c', PY], { env: fullEnv.env, timeoutMs: 150_000 });
        assert.equal(full.code, 0, `${describeRun(label, full)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
        assert.match(full.stdout, /^ok /m);
      } finally {
        await relay.close();
        await refusedEnv.cleanup();
        await fullEnv.cleanup();
      }
    });
  }
});
