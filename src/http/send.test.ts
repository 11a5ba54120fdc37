// sendResponse on a real node:http server, read back as raw bytes: one writeHead with the header
// list, header-value rules (UTF-8 bytes beyond latin1, control characters refused before anything
// is written), lengths, HEAD, and streamed bodies (one chunk, several, failing, client gone).
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { S3Response } from '../s3/context.js';
import { sendResponse, type Outgoing } from './send.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

let server: http.Server;
let port: number;
let handler: Handler = async () => undefined;

before(async () => {
  server = http.createServer((req, res) => {
    handler(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Raw {
  statusLine: string;
  /** Header lines as latin1 text (one char per byte). */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** Sends one request with Connection: close and returns the raw answer. */
async function exchange(method: string, h: Handler): Promise<Raw> {
  handler = h;
  const sock = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  sock.write(`${method} /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  await new Promise<void>((resolve, reject) => {
    sock.on('close', () => resolve());
    sock.on('error', reject);
  });
  const all = Buffer.concat(chunks);
  const end = all.indexOf('\r\n\r\n');
  const lines = all.subarray(0, end).toString('latin1').split('\r\n');
  const headers = lines.slice(1).map((l) => {
    const colon = l.indexOf(':');
    return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()] as [string, string];
  });
  return { statusLine: lines[0]!, headers, body: all.subarray(end + 4) };
}

function values(raw: Raw, name: string): string[] {
  return raw.headers.filter(([n]) => n === name).map(([, v]) => v);
}

const BASE = ['x-amz-request-id', 'REQ1', 'x-amz-id-2', 'HOST2', 'server', 'Strata', 'date', 'Tue, 25 Nov 2026 03:15:00 GMT'];

function send(r: S3Response, out: Outgoing = { base: BASE }): Handler {
  return (req, res) => sendResponse(req, res, r, out);
}

describe('sendResponse', () => {
  it('Buffer body: base and handler headers once each, exact Content-Length, body in the same answer', async () => {
    const body = Buffer.from('hello world');
    const out: Outgoing = { base: BASE };
    const raw = await exchange(
      'GET',
      send({ status: 200, headers: { etag: '"abc"', 'content-type': 'text/plain', date: 'Mon, 01 Jan 2024 00:00:00 GMT' }, body }, out),
    );
    assert.equal(raw.statusLine, 'HTTP/1.1 200 OK');
    assert.deepEqual(values(raw, 'x-amz-request-id'), ['REQ1']);
    assert.deepEqual(values(raw, 'server'), ['Strata']);
    // The handler's header wins over the base one of the same name.
    assert.deepEqual(values(raw, 'date'), ['Mon, 01 Jan 2024 00:00:00 GMT']);
    assert.deepEqual(values(raw, 'content-length'), ['11']);
    assert.deepEqual(values(raw, 'etag'), ['"abc"']);
    assert.equal(raw.body.toString(), 'hello world');
    assert.equal(out.contentLength, 11);
  });

  it('a header value beyond latin1 goes out as its UTF-8 bytes, on GET with a Buffer body, on HEAD and on a stream alike', async () => {
    const disposition = 'attachment; filename="日本語 ü.txt"';
    const utf8 = Buffer.from(disposition, 'utf8').toString('latin1');
    const latin1 = 'attachment; filename="ü.txt"';
    for (const method of ['GET', 'HEAD']) {
      const raw = await exchange(
        method,
        send({ status: 200, headers: { 'content-disposition': disposition, 'content-language': latin1 }, body: Buffer.from('x') }),
      );
      assert.deepEqual(values(raw, 'content-disposition'), [utf8], method);
      // Latin-1 text stays one byte per character.
      assert.deepEqual(values(raw, 'content-language'), [latin1], method);
      assert.equal(raw.body.toString(), method === 'HEAD' ? '' : 'x');
    }
    const streamed = await exchange(
      'GET',
      send({ status: 200, headers: { 'content-disposition': disposition, 'content-length': 1 }, body: Readable.from([Buffer.from('x')]) }),
    );
    assert.deepEqual(values(streamed, 'content-disposition'), [utf8]);
  });

  it('XML bodies get application/xml unless the handler set a type; no body → Content-Length 0; 204 → none', async () => {
    const xml = await exchange('GET', send({ status: 200, body: { root: 'R', content: { A: '1' } } }));
    assert.deepEqual(values(xml, 'content-type'), ['application/xml']);
    assert.equal(Number(values(xml, 'content-length')[0]), xml.body.length);
    assert.match(xml.body.toString(), /<R[ >]/);
    const typed = await exchange('GET', send({ status: 200, headers: { 'content-type': 'text/xml' }, body: { root: 'R', content: {} } }));
    assert.deepEqual(values(typed, 'content-type'), ['text/xml']);
    const empty = await exchange('PUT', send({ status: 200, headers: { etag: '"e"' } }));
    assert.deepEqual(values(empty, 'content-length'), ['0']);
    const noContent = await exchange('DELETE', send({ status: 204 }));
    assert.equal(noContent.statusLine, 'HTTP/1.1 204 No Content');
    assert.deepEqual(values(noContent, 'content-length'), []);
    assert.deepEqual(values(noContent, 'transfer-encoding'), []);
  });

  it('a control character in a header value or a bad header name → throws with nothing written; the error answer that follows is clean', async () => {
    for (const headers of [{ 'x-amz-meta-a': 'line\r\nbreak', etag: '"e"' }, { etag: '"e"', 'x-amz-meta-a b': 'v' }, { 'x-amz-meta-z': 'bell\x07' }]) {
      let thrown: unknown;
      let sentBefore: boolean | undefined;
      const raw = await exchange('GET', async (req, res) => {
        try {
          await sendResponse(req, res, { status: 204, headers }, { base: BASE });
        } catch (err) {
          thrown = err;
          sentBefore = res.headersSent;
          await sendResponse(req, res, { status: 500, body: Buffer.from('oops') }, { base: BASE });
        }
      });
      assert.ok(thrown instanceof TypeError, String(thrown));
      assert.equal(sentBefore, false);
      assert.equal(raw.statusLine, 'HTTP/1.1 500 Internal Server Error');
      assert.deepEqual(values(raw, 'etag'), []);
      assert.deepEqual(values(raw, 'x-amz-request-id'), ['REQ1']);
      assert.equal(raw.body.toString(), 'oops');
    }
  });

  it('streams: one chunk holding the whole body, several chunks, and a HEAD that never reads the source', async () => {
    const one = await exchange('GET', send({ status: 200, headers: { 'content-length': 4096 }, body: Readable.from([Buffer.alloc(4096, 1)]) }));
    assert.equal(one.body.length, 4096);
    assert.deepEqual(values(one, 'content-length'), ['4096']);
    const parts = [Buffer.alloc(70_000, 2), Buffer.alloc(70_000, 3), Buffer.alloc(5, 4)];
    const many = await exchange('GET', send({ status: 200, headers: { 'content-length': 140_005 }, body: Readable.from(parts) }));
    assert.ok(many.body.equals(Buffer.concat(parts)));
    let read = false;
    const source = new Readable({
      read() {
        read = true;
        this.push(null);
      },
    });
    const head = await exchange('HEAD', send({ status: 200, headers: { 'content-length': 10 }, body: source }));
    assert.deepEqual(values(head, 'content-length'), ['10']);
    assert.equal(head.body.length, 0);
    assert.equal(read, false);
    assert.equal(source.destroyed, true);
  });

  it('a source that fails before its first byte → rejects with nothing written (an S3 error can still be sent)', async () => {
    let headersSent: boolean | undefined;
    let message = '';
    const source = new Readable({
      read() {
        this.destroy(new Error('data file gone'));
      },
    });
    const raw = await exchange('GET', async (req, res) => {
      try {
        await sendResponse(req, res, { status: 200, headers: { 'content-length': 10, etag: '"e"' }, body: source }, { base: BASE });
      } catch (err) {
        message = (err as Error).message;
        headersSent = res.headersSent;
        await sendResponse(req, res, { status: 404, body: Buffer.from('gone') }, { base: BASE });
      }
    });
    assert.equal(message, 'data file gone');
    assert.equal(headersSent, false);
    assert.equal(raw.statusLine, 'HTTP/1.1 404 Not Found');
    assert.deepEqual(values(raw, 'etag'), []);
  });

  it('a client that goes away mid-stream → rejects, the source is destroyed', async () => {
    let produced = 0;
    const source = new Readable({
      read() {
        produced++;
        if (produced < 100_000) this.push(Buffer.alloc(16 * 1024, 5));
        else this.push(null);
      },
    });
    let outcome: unknown = 'pending';
    const finished = new Promise<void>((resolve) => {
      handler = async (req, res) => {
        try {
          await sendResponse(req, res, { status: 200, headers: { 'content-length': 100_000 * 16 * 1024 }, body: source });
          outcome = 'resolved';
        } catch (err) {
          outcome = err;
        }
        resolve();
      };
    });
    const sock = net.connect(port, '127.0.0.1');
    let got = 0;
    sock.on('data', (c: Buffer) => {
      got += c.length;
      if (got > 256 * 1024) sock.destroy();
    });
    sock.on('error', () => undefined);
    sock.write('GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await finished;
    assert.ok(outcome instanceof Error, `expected a rejection, got ${String(outcome)}`);
    assert.equal(source.destroyed, true);
    assert.ok(produced < 100_000, 'the whole source was read for a client that left');
  });

  /** A keep-alive GET answered by `body`: resolves with what the client received once the server closed the socket (bounded). */
  async function keptAlive(body: Readable, length: number): Promise<{ received: Buffer; outcome: unknown; closedBy: string }> {
    let outcome: unknown = 'pending';
    handler = async (req, res) => {
      try {
        await sendResponse(req, res, { status: 200, headers: { 'content-length': length }, body }, { base: BASE });
        outcome = 'resolved';
      } catch (err) {
        outcome = err;
      }
    };
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => undefined);
    sock.write('GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n'); // keep-alive: only the server can close it
    const closedBy = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => (sock.destroy(), resolve('client timeout (the server left the connection open)')), 10_000);
      sock.on('close', () => (clearTimeout(timer), resolve('server')));
    });
    return { received: Buffer.concat(chunks), outcome, closedBy };
  }

  it('a source that ends short of Content-Length after the headers → the connection is cut, never a clean short body', async () => {
    const r = await keptAlive(Readable.from([Buffer.alloc(70_000, 1), Buffer.alloc(1000, 2)]), 100_000);
    assert.equal(r.closedBy, 'server');
    assert.match(r.received.toString('latin1'), /^HTTP\/1.1 200 OK\r\n/);
    assert.ok(r.outcome instanceof Error && /ended after 71000 of its 100000 bytes/.test(r.outcome.message), String(r.outcome));
  });

  it('a source that yields more than Content-Length, or fails mid-stream → the connection is cut', async () => {
    const long = await keptAlive(Readable.from([Buffer.alloc(70_000, 1), Buffer.alloc(70_000, 2)]), 100_000);
    assert.equal(long.closedBy, 'server');
    assert.ok(long.outcome instanceof Error && /more than its 100000 bytes/.test(long.outcome.message), String(long.outcome));
    let n = 0;
    const failing = new Readable({
      read() {
        if (n++ < 2) this.push(Buffer.alloc(70_000, 3));
        else this.destroy(new Error('block 2 does not match its checksum'));
      },
    });
    const cut = await keptAlive(failing, 300_000);
    assert.equal(cut.closedBy, 'server');
    assert.ok(cut.outcome instanceof Error && /checksum/.test(cut.outcome.message), String(cut.outcome));
    const head = cut.received.indexOf('\r\n\r\n');
    assert.ok(cut.received.length - head - 4 < 300_000, 'a short body, cut');
  });
});
