// The one place that turns an S3Response into bytes on the wire: XML serialisation, lengths,
// streams, HEAD without a body, and the protection of keep-alive connections after early answers.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { S3Response } from '../s3/context.js';
import type { S3Error } from '../s3/errors.js';
import { buildXml } from '../s3/xml.js';
import { giveBack } from '../store/data/block-pool.js';

/** A request body larger than this that is still unread when we answer makes us close the connection. */
const MAX_DRAIN = 1024 * 1024;

/**
 * What the pipeline hands to every answer of one request: the headers all its answers carry
 * (request ids, Server, Date, CORS) as a flat `name, value, name, value...` list with lowercase
 * names, and where sendResponse notes the Content-Length it announced (for the access log).
 */
export interface Outgoing {
  readonly base: readonly string[];
  contentLength?: number | string;
}

/**
 * Writes `r` as the answer to `req`. The status line and every header go out in one
 * `writeHead(status, list)` (no `setHeader` per header): the handler's headers (names lowercase)
 * win over `out.base`, Content-Length is computed here for Buffer and XML bodies and always goes
 * last. Every header is validated before anything is written, so a bad value (stored metadata
 * with a control character) throws with the response untouched and the error answer starts clean.
 */
export async function sendResponse(req: IncomingMessage, res: ServerResponse, r: S3Response, out: Outgoing = { base: [] }): Promise<void> {
  const status = r.status;
  const headers = r.headers;
  const list: Array<string | number> = [];
  const base = out.base;
  for (let i = 0; i < base.length; i += 2) {
    if (headers === undefined || headers[base[i]!] === undefined) list.push(base[i]!, base[i + 1]!);
  }
  let contentLength: number | string | undefined;
  let hasContentType = false;
  if (headers !== undefined) {
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value === undefined) continue;
      if (!HTTP_TOKEN.test(name)) throw headerError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`);
      if (name === 'content-length') {
        contentLength = value;
        continue;
      }
      if (name === 'content-type') hasContentType = true;
      list.push(name, typeof value === 'string' ? headerBytes(name, value) : value);
    }
  }
  protectConnection(req, res);
  const body = r.body;

  if (body === undefined || status === 204 || status === 304) {
    if (contentLength === undefined && status !== 204 && status !== 304) contentLength = 0;
    writeHead(res, status, list, contentLength, out);
    res.end();
    return;
  }
  if (body instanceof Readable) {
    if (req.method === 'HEAD') {
      body.destroy();
      writeHead(res, status, list, contentLength, out);
      res.end();
      return;
    }
    // The headers go out with the first bytes. Wait for those first: a source that fails at once
    // (a data file gone or unreadable) then still gets a proper S3 error instead of a cut connection.
    const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first = await it.next();
    writeHead(res, status, list, contentLength, out);
    await pump(res, body, it, first, contentLength);
    return;
  }
  let bytes: Buffer;
  if (Buffer.isBuffer(body)) {
    bytes = body;
  } else {
    bytes = Buffer.from(buildXml(body), 'utf8');
    if (!hasContentType) list.push('content-type', 'application/xml');
  }
  writeHead(res, status, list, bytes.length, out);
  // Headers and body leave in one write.
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

function writeHead(res: ServerResponse, status: number, list: Array<string | number>, contentLength: number | string | undefined, out: Outgoing): void {
  // Content-Length last: Node re-encodes a Content-Disposition that follows a known length
  // (latin1 → UTF-8 → latin1), which would mangle the UTF-8 bytes headerBytes() prepared.
  if (contentLength !== undefined) list.push('content-length', contentLength);
  out.contentLength = contentLength;
  // The reason phrase explicitly: writeHead keeps an earlier one, and an error answer may follow
  // a success answer that failed in here.
  res.writeHead(status, STATUS_CODES[status] ?? 'unknown', list);
}

/**
 * Streams the rest of a body after its first chunk, with backpressure. Not stream.pipeline(): that
 * builds an AbortController per call and aborts it when done (a DOMException with a stack trace
 * per GET). A body that is complete in its first chunk (small objects) is written together with
 * the headers by res.end(). If the client goes away, the source fails or it yields other than
 * Content-Length bytes, the response (its socket) and the source are destroyed and the error is
 * rethrown: once the headers are out, a cut connection is the only honest signal left (never a
 * clean short body on a kept-alive connection); the source holds a data file and a read pin until
 * it closes.
 */
async function pump(
  res: ServerResponse,
  body: Readable,
  it: AsyncIterator<Buffer>,
  first: IteratorResult<Buffer>,
  contentLength: number | string | undefined,
): Promise<void> {
  try {
    let next = first;
    if (!next.done && contentLength !== undefined && next.value.length === Number(contentLength)) {
      if (res.destroyed) throw prematureClose();
      // (A pooled block goes back once the response is finished: its bytes were handed to the socket.)
      const chunk = next.value;
      res.end(chunk, () => giveBack(chunk));
      // Drive the source to its end, so it releases the file and the read pin now.
      if (!(await it.next()).done) throw new Error('the object source yielded more bytes than its length');
      return;
    }
    const expected = contentLength === undefined ? undefined : Number(contentLength);
    let sent = 0;
    while (!next.done) {
      if (res.destroyed) throw prematureClose();
      sent += next.value.length;
      if (expected !== undefined && sent > expected) throw new Error(`the object source yielded more than its ${expected} bytes`);
      // A block buffer of the data store goes back to its pool once written (block-pool.ts).
      const chunk = next.value;
      if (!res.write(chunk, (err) => err || giveBack(chunk))) await drained(res);
      next = await it.next();
    }
    if (res.destroyed) throw prematureClose();
    // A source that ends early must not make a clean short body (Node would end the response and
    // keep the connection, the client would wait for the rest or read the next answer as it).
    if (expected !== undefined && sent !== expected) throw new Error(`the object source ended after ${sent} of its ${expected} bytes`);
    res.end();
  } catch (err) {
    res.destroy();
    body.destroy();
    throw err;
  }
}

/** Resolves when the response can take more data, or when it closed (the caller checks which). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

function headerError(code: string, message: string): Error {
  return Object.assign(new TypeError(message), { code });
}

/** Node's rules (checkIsHttpToken, checkInvalidHeaderChar), checked before anything is written. */
const HTTP_TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const NOT_PLAIN = /[^\t\x20-\x7e]/;
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const BEYOND_LATIN1 = /[^\x00-\xff]/;

/**
 * A header value as Node writes it: one byte per character (latin1). Text beyond U+00FF (a
 * response-content-disposition with a file name in any script) goes out as its UTF-8 bytes, as S3
 * sends it, instead of making Node throw. Control characters are refused (as Node would).
 */
function headerBytes(name: string, value: string): string {
  if (!NOT_PLAIN.test(value)) return value;
  const bytes = BEYOND_LATIN1.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
  if (INVALID_HEADER_CHAR.test(bytes)) throw headerError('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
  return bytes;
}

/**
 * An answer sent before the request body was read (an early error) must not leave the body's bytes
 * to be parsed as the next request. Node drains small leftovers itself; for larger or unknown
 * ones we close the connection after the response — with a lingering close (see below).
 */
function protectConnection(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.readableEnded) return;
  // A client that sent Expect: 100-continue and got no 100 may never send the body (curl and
  // botocore do not): reading on would take its next request for this one's body. Close instead.
  if (expectsContinue(req)) {
    res.setHeader('connection', 'close');
    lingerOnClose(req.socket);
    return;
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared <= MAX_DRAIN && req.headers['transfer-encoding'] === undefined) return;
  res.setHeader('connection', 'close');
  lingerOnClose(req.socket);
}

function expectsContinue(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  return expect !== undefined && expect.trim().toLowerCase() === '100-continue';
}

/** How long a connection closed after an early answer keeps reading (and discarding) the body. */
const LINGER_MS = 10_000;
const LINGERING = Symbol('strata.lingering');

/**
 * Lingering close. After a `Connection: close` response Node calls `socket.destroySoon()`, which
 * destroys the socket as soon as the response is flushed, with the client still sending its body:
 * the unread bytes make the kernel answer with a reset, and a client that only reads the response
 * after sending the whole body never sees it. Python's urllib3 forgives that over plain TCP
 * (EPIPE/ECONNRESET) but not over TLS (`SSLEOFError`: boto3 reports "SSL validation failed" and
 * retries instead of, say, NoSuchUpload). So we half-close instead (FIN / TLS close_notify after
 * the response) and keep reading: the HTTP parser discards the rest of the body (Node dumps an
 * unconsumed request), the client reads the answer and closes, and only a client still sending
 * after LINGER_MS is cut off.
 */
function lingerOnClose(socket: Socket): void {
  const s = socket as Socket & { destroySoon?: () => void; [LINGERING]?: true };
  if (typeof s.destroySoon !== 'function' || s[LINGERING]) return;
  s[LINGERING] = true;
  s.destroySoon = function lingeringDestroySoon(this: Socket): void {
    if (this.destroyed) return;
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}

/**
 * The complete bytes of an S3 error answer for a request Node's HTTP parser refused before the
 * pipeline saw it (server 'clientError': headers too large, a malformed request line or
 * Content-Length, the header timeout). Same shape as every other error: XML body, request ids,
 * exact Content-Length; always `Connection: close`, since the stream can no longer be trusted.
 */
export function rawErrorResponse(err: S3Error, ids: { reqId: string; hostId: string }): string {
  const xml = buildXml({
    root: 'Error',
    namespace: false,
    content: { Code: err.code, Message: err.message, ...err.fields, RequestId: ids.reqId, HostId: ids.hostId },
  });
  const body = Buffer.from(xml, 'utf8');
  const reason = STATUS_CODES[err.status] ?? 'Error';
  return (
    `HTTP/1.1 ${err.status} ${reason}\r\n` +
    'Content-Type: application/xml\r\n' +
    `Content-Length: ${body.length}\r\n` +
    `x-amz-request-id: ${ids.reqId}\r\n` +
    `x-amz-id-2: ${ids.hostId}\r\n` +
    `Date: ${new Date().toUTCString()}\r\n` +
    'Server: Strata\r\n' +
    'Connection: close\r\n\r\n' +
    xml
  );
}
