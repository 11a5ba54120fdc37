// Slow and stalled clients against a real Strata process with short timeouts (--idle-timeout 2,
// --header-timeout 3): a body that stops half-way is cut off and its temp file removed, slowloris
// headers get 400 RequestTimeout and the connection closed, a reader that stops reading is cut off,
// and 50 stalled connections do not keep a normal client from working.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';
import { assertS3Error, buildRequest, parseResponse, rawExchange, signRequest, waitFor } from './raw-http.js';

const IDLE_S = 2;
const HEADER_S = 3;
const BUCKET = 'slow-clients';

/** A raw connection whose lifetime and received bytes we watch. */
interface Watched {
  sock: net.Socket;
  closed: Promise<number>; // ms from open to close
  received: () => Buffer;
}

function open(port: number): Watched {
  const sock = net.connect({ host: '127.0.0.1', port });
  const started = Date.now();
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  sock.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(Date.now() - started)));
  return { sock, closed, received: () => Buffer.concat(chunks) };
}

/** Rejects if `p` does not settle within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

describe(`slow and stalled clients (--idle-timeout ${IDLE_S}, --header-timeout ${HEADER_S})`, { timeout: 90_000 }, () => {
  let server: RunningServer;
  const tmpFiles = () => readdir(join(server.dataDir, 'tmp'));

  async function signedPutHead(key: string, length: number): Promise<Buffer> {
    const s = await signRequest({ method: 'PUT', port: server.port, path: `/${BUCKET}/${key}`, payloadHash: 'UNSIGNED-PAYLOAD' });
    return buildRequest({ method: 'PUT', target: s.target, headers: [...s.headers, ['content-length', String(length)]], contentLength: false });
  }

  async function exists(key: string): Promise<boolean> {
    const s = await signRequest({ method: 'HEAD', port: server.port, path: `/${BUCKET}/${key}` });
    const res = await rawExchange(server.port, buildRequest({ method: 'HEAD', target: s.target, headers: s.headers }), { head: true });
    return res.status === 200;
  }

  before(async () => {
    server = await startServer({ args: ['--idle-timeout', String(IDLE_S), '--header-timeout', String(HEADER_S)] });
    const s = await signRequest({ method: 'PUT', port: server.port, path: `/${BUCKET}` });
    assert.equal((await rawExchange(server.port, buildRequest({ method: 'PUT', target: s.target, headers: s.headers }))).status, 200);
  });

  after(async () => {
    await server?.stop();
  });

  it('PutObject › a body that stops half-way gets 400 RequestTimeout after the idle timeout, then the connection closes; its temp file is removed, no object', async () => {
    const c = open(server.port);
    c.sock.write(Buffer.concat([await signedPutHead('stalled', 1024 * 1024), Buffer.alloc(300 * 1024, 7)]));
    // The upload is under way: its temp file exists.
    await waitFor(async () => (await tmpFiles()).length === 1, 15_000, 'the temp file of the upload');
    const ms = await within(c.closed, (IDLE_S + 15) * 1000, 'the stalled upload connection to be closed');
    assert.ok(ms >= IDLE_S * 1000 - 200, `closed after ${ms} ms, before the idle timeout`);
    // Answered like S3 does (SDKs retry RequestTimeout), not just cut.
    const res = parseResponse(c.received(), false);
    const err = assertS3Error(res, 'stalled upload');
    assert.equal(res.status, 400);
    assert.equal(err.code, 'RequestTimeout');
    await waitFor(async () => (await tmpFiles()).length === 0, 15_000, 'the temp file to be removed');
    assert.equal(await exists('stalled'), false);
    assert.doesNotMatch(server.logs(), /"level":50/);
  });

  it('PutObject › a small body (stored inline: no temp file) that stops half-way gets 400 RequestTimeout too, no object', async () => {
    const c = open(server.port);
    c.sock.write(Buffer.concat([await signedPutHead('stalled-small', 64 * 1024), Buffer.alloc(10 * 1024, 7)]));
    const ms = await within(c.closed, (IDLE_S + 15) * 1000, 'the stalled small upload connection to be closed');
    assert.ok(ms >= IDLE_S * 1000 - 200, `closed after ${ms} ms, before the idle timeout`);
    const res = parseResponse(c.received(), false);
    const err = assertS3Error(res, 'stalled small upload');
    assert.equal(res.status, 400);
    assert.equal(err.code, 'RequestTimeout');
    assert.deepEqual(await tmpFiles(), []);
    assert.equal(await exists('stalled-small'), false);
    assert.doesNotMatch(server.logs(), /"level":50/);
  });

  it('slowloris › headers trickling in byte by byte get 400 RequestTimeout after the header timeout, then the connection closes', async () => {
    const c = open(server.port);
    const head = (await signedPutHead('slowloris', 10)).toString('latin1');
    // One byte every 200 ms: the socket is never idle, only the header timeout can end this.
    let i = 0;
    const timer = setInterval(() => {
      if (i < head.length - 4 && !c.sock.destroyed) c.sock.write(head[i++]!);
    }, 200);
    try {
      const ms = await within(c.closed, (HEADER_S + 15) * 1000, 'the slowloris connection to be closed');
      assert.ok(ms >= HEADER_S * 1000 - 200, `closed after ${ms} ms`);
    } finally {
      clearInterval(timer);
    }
    const res = parseResponse(c.received(), false);
    const err = assertS3Error(res, 'slowloris');
    assert.equal(res.status, 400);
    assert.equal(err.code, 'RequestTimeout');
    assert.equal(await exists('slowloris'), false);
  });

  it('GetObject › a reader that stops reading is cut off after the idle timeout; the server keeps serving', async () => {
    const size = 48 * 1024 * 1024; // more than loopback socket buffers hold
    const body = Buffer.alloc(size, 3);
    const put = await signRequest({ method: 'PUT', port: server.port, path: `/${BUCKET}/big`, body, payloadHash: 'UNSIGNED-PAYLOAD' });
    assert.equal(
      (await rawExchange(server.port, buildRequest({ method: 'PUT', target: put.target, headers: put.headers, body }), { timeoutMs: 30_000 })).status,
      200,
    );
    const get = await signRequest({ method: 'GET', port: server.port, path: `/${BUCKET}/big` });
    const c = open(server.port);
    c.sock.write(buildRequest({ method: 'GET', target: get.target, headers: get.headers }));
    // Stop reading once the body streams (a loaded machine may take seconds to start it: a fixed
    // wait from the request would let a late start run past the client's pause): the socket
    // buffers fill up and the server's writes stall.
    let streamed = 0;
    const started = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        streamed += chunk.length;
        if (streamed < 1024 * 1024) return;
        c.sock.pause(); // in the handler: at loopback speed a later pause could come after the whole body
        c.sock.off('data', onData);
        resolve();
      };
      c.sock.on('data', onData);
    });
    await within(started, 30_000, 'the GET body to start streaming');
    await new Promise((r) => setTimeout(r, (IDLE_S + 2.5) * 1000));
    // A paused socket notices no close; read again: what the buffers held, then the end, long
    // before the whole object.
    c.sock.resume();
    await within(c.closed, 15_000, 'the stalled reader to have been cut off');
    assert.ok(c.received().length < size, `the reader got all ${size} bytes: it was not cut off`);
    // The server ended that GET itself (idle timeout), as an aborted request.
    const getLine = () =>
      server
        .logs()
        .split('\n')
        .find((l) => /"op":"GetObject"/.test(l) && /"key":"big"/.test(l));
    await waitFor(() => getLine() !== undefined, 10_000, 'the GET to be logged');
    const reqId = /"reqId":"(\w+)"/.exec(getLine()!)![1];
    assert.ok(
      server
        .logs()
        .split('\n')
        .some((l) => l.includes(reqId!) && l.includes('request aborted by the client')),
      'the GET was not aborted',
    );
    const s3 = testClient(server.url);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big', Range: 'bytes=0-9' }));
    assert.equal((await got.Body!.transformToByteArray()).length, 10);
    s3.destroy();
  });

  it('50 stalled connections (slowloris headers and stalled bodies) do not keep a normal client from working; all are then closed and cleaned up', async () => {
    const stalled: Watched[] = [];
    for (let i = 0; i < 25; i++) {
      const c = open(server.port);
      c.sock.write(`PUT /${BUCKET}/loris-${i} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-partial: `);
      stalled.push(c);
    }
    for (let i = 0; i < 25; i++) {
      const c = open(server.port);
      // More than the 128 KiB kept in memory for inline objects: each upload has a temp file.
      c.sock.write(Buffer.concat([await signedPutHead(`half-${i}`, 400_000), Buffer.alloc(150_000, 1)]));
      stalled.push(c);
    }
    await waitFor(async () => (await tmpFiles()).length === 25, 30_000, 'the 25 half-written uploads to be in progress');

    // Meanwhile a normal client works: all its requests are answered while every stalled
    // connection is still open (no time bound here: how fast belongs in the benchmark).
    const s3 = testClient(server.url);
    for (let i = 0; i < 5; i++) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `normal-${i}`, Body: `normal ${i}` }));
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `normal-${i}` }));
      assert.equal(await got.Body!.transformToString(), `normal ${i}`);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'normal-' }));
    assert.equal(listed.KeyCount, 5);
    assert.ok(
      stalled.every((c) => !c.sock.destroyed),
      'the stalled connections were still open during the normal requests',
    );
    s3.destroy();

    // Then every stalled connection is closed by the server, its partial data removed.
    await within(Promise.all(stalled.map((c) => c.closed)), (HEADER_S + 20) * 1000, 'all stalled connections to be closed');
    await waitFor(async () => (await tmpFiles()).length === 0, 15_000, 'every temp file to be removed');
    for (let i = 0; i < 25; i++) assert.equal(await exists(`half-${i}`), false);
    assert.equal(await exists('loris-0'), false);
    assert.doesNotMatch(server.logs(), /"level":50|internal error/);
  });
});
