// What a person and a supervisor see of the process: the human start line on stderr (URL to use,
// data directory, default-credentials warning), SIGTERM that closes unused connections at once and
// lets an in-flight upload finish, and the access lines (S3 error code, client address, user agent,
// body bytes received, also for aws-chunked uploads without Content-Length).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { signRequest, waitFor } from '../hardening/raw-http.js';
import { newBucketName, writeSelfSignedCert } from '../helpers/clients.js';

import { errorOf, loopbackLookup, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, MAIN_JS, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

/** main.ts's SHUTDOWN_GRACE_MS: how long in-flight requests may run after SIGTERM. */
const SHUTDOWN_GRACE_MS = 10_000;

const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** A socket to the server, with a promise that settles when the server closes it. */
function openSocket(port: number): Promise<{ socket: net.Socket; closed: Promise<void>; received: () => string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
    });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({ socket, closed, received: () => data }));
    socket.once('error', reject);
  });
}

/** Resolves true if `p` settles within `ms`, false otherwise. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(t);
        resolve(true);
      },
      () => {
        clearTimeout(t);
        resolve(true);
      },
    );
  });
}

describe('Start line', () => {
  it('start › default credentials → stderr: "http://127.0.0.1:<port>", the absolute data directory, the warning; stdout has only JSON', async () => {
    const server = await startServer();
    try {
      // Written right after the `listening` JSON line (on stdout), so it may arrive a moment later.
      await waitFor(() => server.stderr().includes('WARNING'), 15_000, `the start line on stderr (got ${JSON.stringify(server.stderr())})`);
      const err = server.stderr();
      assert.ok(err.includes(`Strata is serving S3 at http://127.0.0.1:${server.port} — data in ${server.dataDir}\n`), err);
      assert.match(err, /WARNING: default credentials in use \(access key rustfsadmin/);
      for (const line of server
        .logs()
        .split('\n')
        .filter((l) => l.includes('Strata is serving')))
        assert.ok(!line.startsWith('{'), line);
    } finally {
      await server.stop();
    }
  });

  it('start › own credentials, --address 0.0.0.0:0, relative --data → URL with 127.0.0.1, data directory absolute, no warning', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'strata-start-'));
    const child = spawn(
      process.execPath,
      [MAIN_JS, '--address', '0.0.0.0:0', '--data', 'rel-data', '--access-key', 'startkey1', '--secret-key', 'startsecret1', '--console-address', 'off'],
      {
        cwd: parent,
        env: { ...process.env, STRATA_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(() => stderr.includes('\n'), 15_000, `the start line (stdout so far: ${stdout})`);
      const port = (JSON.parse(stdout.split('\n').find((l) => l.includes('"listening"'))!) as { port: number }).port;
      assert.equal(stderr, `Strata is serving S3 at http://127.0.0.1:${port} — data in ${join(parent, 'rel-data')}\n`);
    } finally {
      child.kill('SIGTERM');
      await exited;
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe('SIGTERM', () => {
  it('SIGTERM › a socket that never sent a request and an idle keep-alive one close at once, an upload in flight completes, exit 0 before the grace period ends', async () => {
    const server = await startServer();
    try {
      const bucket = newBucketName('sigterm');
      const s3 = testClient(server.url, { keepAlive: false });
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      s3.destroy();

      const silent = await openSocket(server.port);
      const idle = await openSocket(server.port);
      idle.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'); // anonymous: 403, the connection stays open
      await waitFor(() => idle.received().includes('</Error>'), 15_000, 'the answer on the keep-alive connection');

      // An upload larger than --inline-max, half sent: its temporary file shows the server is in it.
      const body = randomBytes(1024 * 1024);
      const signed = await signRequest({
        method: 'PUT',
        port: server.port,
        path: `/${bucket}/slow.bin`,
        payloadHash: 'UNSIGNED-PAYLOAD',
        headers: { 'content-length': String(body.length) },
      });
      const upload = await openSocket(server.port);
      upload.socket.write(`PUT ${signed.target} HTTP/1.1\r\n${signed.headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`);
      upload.socket.write(body.subarray(0, body.length / 2));
      await waitFor(async () => (await readdir(join(server.dataDir, 'tmp')).catch(() => [])).length > 0, 15_000, "the upload's temporary file");

      const signalled = Date.now();
      process.kill(server.pid, 'SIGTERM');
      assert.ok(
        await within(Promise.all([silent.closed, idle.closed]), SHUTDOWN_GRACE_MS / 2),
        'the unused and the idle connection are closed well before the grace period ends',
      );
      assert.ok(!(await within(server.exited, 0)), 'the process waits for the upload in flight');

      upload.socket.write(body.subarray(body.length / 2));
      assert.ok(await within(upload.closed, SHUTDOWN_GRACE_MS), 'the upload connection closes after its answer');
      assert.match(upload.received(), /^HTTP\/1\.1 200 /);
      assert.ok(
        upload
          .received()
          .toLowerCase()
          .includes(`etag: "${md5hex(body)}"`),
        upload.received(),
      );
      const { code, signal } = await server.exited;
      const took = Date.now() - signalled;
      assert.deepEqual({ code, signal }, { code: 0, signal: null });
      assert.ok(took < SHUTDOWN_GRACE_MS, `exited ${took} ms after SIGTERM: it waited for the grace period (${SHUTDOWN_GRACE_MS} ms)`);
      assert.match(server.logs(), /"msg":"stopped"/);
    } finally {
      await server.stop();
    }
  });
});

describe('HTTPS', () => {
  it('start and SIGTERM over TLS › start line says https://; a TCP connection without handshake and an idle TLS one close at once; exit 0 before the grace period ends', async () => {
    const certDir = await mkdtemp(join(tmpdir(), 'strata-certs-'));
    try {
      await writeSelfSignedCert(certDir);
      const server = await startServer({ args: ['--certs', certDir], tls: true });
      try {
        await waitFor(() => server.stderr().includes('Strata is serving'), 15_000, 'the start line');
        assert.ok(server.stderr().includes(`Strata is serving S3 at https://127.0.0.1:${server.port} — `), server.stderr());

        const plain = await openSocket(server.port); // TCP only: no TLS handshake ever
        const secure = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false });
        secure.on('error', () => undefined);
        let answer = '';
        secure.on('data', (c: Buffer) => {
          answer += c.toString('latin1');
        });
        const secureClosed = new Promise<void>((res) => secure.once('close', () => res()));
        await new Promise<void>((res) => secure.once('secureConnect', () => res()));
        secure.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        await waitFor(() => answer.includes('</Error>'), 15_000, 'the answer over TLS');

        const signalled = Date.now();
        process.kill(server.pid, 'SIGTERM');
        assert.ok(await within(Promise.all([plain.closed, secureClosed]), SHUTDOWN_GRACE_MS / 2), 'both connections closed well before the grace period ends');
        const { code } = await server.exited;
        assert.equal(code, 0);
        assert.ok(Date.now() - signalled < SHUTDOWN_GRACE_MS, `exited ${Date.now() - signalled} ms after SIGTERM`);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(certDir, { recursive: true, force: true });
    }
  });
});

describe('Access lines', () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('access');

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('access line › a failed request → s3Code, remoteAddress, userAgent; a success → no s3Code', async () => {
    const client = new S3Client({
      endpoint: server.url,
      region: REGION,
      forcePathStyle: true,
      maxAttempts: 1,
      customUserAgent: 'strata-access-test/1.0',
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: false, lookup: loopbackLookup }) }),
    });
    try {
      const from = server.logs().length;
      const e = await errorOf(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing-key' })));
      assert.equal(e.name, 'NoSuchKey');
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'present', Body: 'x' }));
      const lines = await server.accessLog(from);
      const failed = lines.find((l) => l.op === 'GetObject');
      assert.ok(failed, JSON.stringify(lines));
      assert.equal(failed.status, 404);
      assert.equal(failed.s3Code, 'NoSuchKey');
      assert.equal(failed.remoteAddress, '127.0.0.1');
      assert.match(String(failed.userAgent), /strata-access-test\/1\.0/);
      assert.equal(failed.bytesIn, 0);
      const ok = lines.find((l) => l.op === 'PutObject');
      assert.ok(ok && ok.status === 200 && ok.s3Code === undefined, JSON.stringify(ok));
    } finally {
      client.destroy();
    }
  });

  it('access line › aws-chunked body inside Transfer-Encoding: chunked, no Content-Length → bytesIn is the number of body bytes sent', async () => {
    const payload = randomBytes(200_000);
    // aws-chunked (unsigned, no trailer), in three chunks.
    const sizes = [65_536, 100_000, payload.length - 165_536];
    const parts: Buffer[] = [];
    let off = 0;
    for (const n of sizes) {
      parts.push(Buffer.from(`${n.toString(16)}\r\n`), payload.subarray(off, off + n), Buffer.from('\r\n'));
      off += n;
    }
    parts.push(Buffer.from('0\r\n\r\n'));
    const wire = Buffer.concat(parts);
    const key = 'chunked.bin';
    const signed = await signRequest({
      method: 'PUT',
      port: server.port,
      path: `/${bucket}/${key}`,
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(payload.length), 'transfer-encoding': 'chunked' },
    });
    const from = server.logs().length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: server.host,
          port: server.port,
          method: 'PUT',
          path: signed.target,
          headers: Object.fromEntries(signed.headers.filter(([n]) => n !== 'host')),
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      Readable.from([wire.subarray(0, 1000), wire.subarray(1000, 70_000), wire.subarray(70_000)]).pipe(req);
    });
    assert.equal(status, 200, server.logs().slice(-2000));
    const line = (await server.accessLog(from)).find((l) => l.op === 'PutObject');
    assert.ok(line, server.logs().slice(from));
    assert.equal(line.bytesIn, wire.length, 'the aws-chunked body as sent, framing included');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(payload));
  });

  it('access line › aws-sdk-js PutObject of a stream without ContentLength (aws-chunked with a trailer) → bytesIn a number above the object size', async () => {
    const payload = randomBytes(300_000);
    const dir = await mkdtemp(join(tmpdir(), 'strata-access-'));
    const file = join(dir, 'body.bin');
    await writeFile(file, payload);
    const from = server.logs().length;
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk-stream.bin', Body: createReadStream(file) }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const line = (await server.accessLog(from)).find((l) => l.op === 'PutObject');
    assert.ok(line, server.logs().slice(from));
    assert.equal(typeof line.bytesIn, 'number');
    assert.ok(line.bytesIn! > payload.length && line.bytesIn! < payload.length + 4096, `bytesIn ${String(line.bytesIn)}`);
  });
});
