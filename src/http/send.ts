// The one place that turns an S3Response into bytes on the wire: XML serialisation, lengths,
// streams, HEAD without a body, and the protection of keep-alive connections after early answers.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Response } from '../s3/context.js';
import type { S3Error } from '../s3/errors.js';
import { buildXml } from '../s3/xml.js';

/** A request body larger than this that is still unread when we answer makes us close the connection. */
const MAX_DRAIN = 1024 * 1024;

export async function sendResponse(req: IncomingMessage, res: ServerResponse, r: S3Response): Promise<void> {
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    if (value !== undefined) res.setHeader(name, typeof value === 'string' ? headerBytes(value) : value);
  }
  res.statusCode = r.status;
  protectConnection(req, res);
  const isHead = req.method === 'HEAD';
  const body = r.body;

  if (body === undefined || r.status === 204 || r.status === 304) {
    if (!res.hasHeader('content-length') && r.status !== 204 && r.status !== 304) res.setHeader('content-length', 0);
    res.end();
    return;
  }
  if (body instanceof Readable) {
    if (isHead) {
      body.destroy();
      res.end();
      return;
    }
    // The headers go out with the first bytes. Wait for those first: a source that fails at once
    // (a data file gone or unreadable) then still gets a proper S3 error instead of a cut connection.
    const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first = await it.next();
    async function* all(): AsyncGenerator<Buffer> {
      if (first.done) return;
      yield first.value;
      for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
    }
    try {
      await pipeline(all(), res);
    } catch (err) {
      // The client went away or the store failed mid-stream: headers are gone, the only honest
      // signal left is to cut the connection so the client sees a short body. The source is
      // destroyed too: it holds a data file open and a read pin until it closes.
      res.destroy();
      body.destroy();
      throw err;
    }
    return;
  }
  let bytes: Buffer;
  if (Buffer.isBuffer(body)) {
    bytes = body;
  } else {
    bytes = Buffer.from(buildXml(body), 'utf8');
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/xml');
  }
  res.setHeader('content-length', bytes.length);
  res.end(isHead ? undefined : bytes);
}

/**
 * A header value as Node writes it: one byte per character (latin1). Text beyond U+00FF (a
 * response-content-disposition with a file name in any script) goes out as its UTF-8 bytes, as S3
 * sends it, instead of making setHeader throw.
 */
function headerBytes(value: string): string {
  return /[^\x00-\xff]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/**
 * An answer sent before the request body was read (an early error) must not leave the body's bytes
 * to be parsed as the next request. Node drains small leftovers itself; for larger or unknown
 * ones we close the connection after the response — with a lingering close (see below).
 */
function protectConnection(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.readableEnded) return;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared <= MAX_DRAIN && req.headers['transfer-encoding'] === undefined) return;
  res.setHeader('connection', 'close');
  lingerOnClose(req.socket);
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
