// Raw HTTP/1.1 over a plain socket for the hardening tests: requests node:http's client would refuse
// to send (NUL in the target, lying Content-Length, stalled bodies), a strict response parser, SigV4
// signing with the AWS SDK's signer, and the checks every S3 response must pass.
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { testSigner } from '../helpers/s3.js';

export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
export const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export interface RawResponse {
  status: number;
  /** Lowercased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The body bytes exactly as received after the header block (de-chunked if chunked). */
  body: Buffer;
  /** True when the server closed the connection (always, since requests ask for Connection: close). */
  closed: boolean;
  /** Bytes after the first complete response (a second response, or garbage). */
  trailing: Buffer;
}

export interface RawOptions {
  /** Give up (reject) after this long without the server closing the connection. */
  timeoutMs?: number;
  /** The request is a HEAD: the response has no body whatever its Content-Length says. */
  head?: boolean;
}

/** Percent-encodes a key for a path: every byte but unreserved characters and '/'. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeRfc3986).join('/');
}

export function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** name=value&... with RFC 3986 encoding (what the SDK signer canonicalises to). */
export function queryString(query: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${encodeRfc3986(k)}=${encodeRfc3986(one)}`);
  }
  return parts.join('&');
}

export interface BuildOptions {
  method: string;
  /** The request target exactly as it goes on the wire (already encoded). */
  target: string;
  headers?: Array<[string, string]>;
  body?: Buffer | string;
  /** Add Content-Length for the body (default true when there is a body). */
  contentLength?: boolean;
  host?: string;
}

/** Serialises a request; adds Host and Connection: close unless given. */
export function buildRequest(o: BuildOptions): Buffer {
  const headers = [...(o.headers ?? [])];
  const has = (n: string) => headers.some(([h]) => h.toLowerCase() === n);
  if (!has('host')) headers.unshift(['host', o.host ?? 'localhost']);
  if (!has('connection')) headers.push(['connection', 'close']);
  const body = o.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body, 'utf8');
  if ((o.contentLength ?? o.body !== undefined) && !has('content-length') && !has('transfer-encoding')) {
    headers.push(['content-length', String(body.length)]);
  }
  const head = `${o.method} ${o.target} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export interface SignOptions {
  method: string;
  port: number;
  /** Encoded path (as it goes on the wire and into the canonical request). */
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** x-amz-content-sha256 to claim (default: the body's SHA-256). */
  payloadHash?: string;
  signingDate?: Date;
  /** Another signer (other credentials or region); default the test signer (default credentials). */
  signer?: SignatureV4;
}

/** Headers (with Authorization) of a SigV4 header-signed request, and its target. */
export async function signRequest(o: SignOptions): Promise<{ target: string; headers: Array<[string, string]> }> {
  const body = o.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body, 'utf8');
  const host = `127.0.0.1:${o.port}`;
  const headers: Record<string, string> = {
    host,
    'x-amz-content-sha256': o.payloadHash ?? sha256hex(body),
    ...(o.headers ?? {}),
  };
  const signed = await (o.signer ?? testSigner).sign(
    { method: o.method, protocol: 'http:', hostname: '127.0.0.1', port: o.port, path: o.path, query: o.query ?? {}, headers, body },
    { signingDate: o.signingDate },
  );
  const qs = queryString(o.query ?? {});
  return { target: qs ? `${o.path}?${qs}` : o.path, headers: Object.entries(signed.headers as Record<string, string>) };
}

/** A presigned target (path + X-Amz-* query) for the method and path, as the SDK's S3 presigner makes it (UNSIGNED-PAYLOAD, hoisted into the query). */
export async function presignTarget(o: {
  method: string;
  port: number;
  path: string;
  query?: Record<string, string>;
  expiresIn?: number;
  signingDate?: Date;
  headers?: Record<string, string>;
  signer?: SignatureV4;
}): Promise<string> {
  const req = await (o.signer ?? testSigner).presign(
    {
      method: o.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: o.port,
      path: o.path,
      query: o.query ?? {},
      headers: { host: `127.0.0.1:${o.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...(o.headers ?? {}) },
    },
    { expiresIn: o.expiresIn ?? 300, signingDate: o.signingDate },
  );
  return `${o.path}?${queryString(req.query as Record<string, string>)}`;
}

/** Sends raw bytes and reads until the server closes the connection; parses one response. */
export function rawExchange(port: number, request: Buffer | string, opts: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new Error(`no complete answer within ${opts.timeoutMs ?? 15_000} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`),
      );
    }, opts.timeoutMs ?? 15_000);
    sock.on('data', (c: Buffer) => chunks.push(c));
    // A server may answer early and reset while we are still writing: what arrived still counts.
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks), opts.head ?? false));
      } catch (err) {
        reject(err);
      }
    });
    sock.write(request);
  });
}

/** Parses the first non-1xx response of `raw`. Throws if it is not a well-formed HTTP/1.1 response. */
export function parseResponse(raw: Buffer, head: boolean): RawResponse {
  let off = 0;
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', off);
    if (end < 0) throw new Error(`incomplete response head: ${JSON.stringify(raw.subarray(off, off + 300).toString('latin1'))}`);
    const lines = raw.subarray(off, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*$/.exec(lines[0] ?? '');
    if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) throw new Error(`bad header line: ${JSON.stringify(line)}`);
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    off = end + 4;
    if (status >= 100 && status < 200) continue; // 100 Continue: the real answer follows
    const rest = raw.subarray(off);
    if (head || status === 204 || status === 304) {
      return { status, headers, body: Buffer.alloc(0), closed: true, trailing: rest };
    }
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const { body, used } = dechunk(rest);
      return { status, headers, body, closed: true, trailing: rest.subarray(used) };
    }
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      return { status, headers, body: rest.subarray(0, n), closed: true, trailing: rest.subarray(n) };
    }
    return { status, headers, body: rest, closed: true, trailing: Buffer.alloc(0) };
  }
}

function dechunk(buf: Buffer): { body: Buffer; used: number } {
  const out: Buffer[] = [];
  let off = 0;
  for (;;) {
    const nl = buf.indexOf('\r\n', off);
    if (nl < 0) throw new Error('truncated chunked body');
    const size = parseInt(buf.subarray(off, nl).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size)) throw new Error('bad chunk size');
    off = nl + 2;
    if (size === 0) {
      const end = buf.indexOf('\r\n', off);
      return { body: Buffer.concat(out), used: end < 0 ? buf.length : end + 2 };
    }
    out.push(buf.subarray(off, off + size));
    off += size + 2;
  }
}

const xmlParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, processEntities: true });

/** A parsed S3 XML body: root element name and its content. Throws if not well-formed. */
export function parseXmlBody(body: Buffer): { root: string; content: Record<string, unknown> } {
  const text = body.toString('utf8');
  if (!text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')) throw new Error(`no XML declaration: ${JSON.stringify(text.slice(0, 200))}`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`not well-formed XML (${JSON.stringify(valid.err)}): ${JSON.stringify(text.slice(0, 300))}`);
  const doc = xmlParser.parse(text) as Record<string, unknown>;
  const roots = Object.keys(doc).filter((k) => k !== '?xml');
  if (roots.length !== 1) throw new Error(`expected one root element, got ${roots.join(', ')}`);
  const content = doc[roots[0]!];
  return { root: roots[0]!, content: typeof content === 'object' && content !== null ? (content as Record<string, unknown>) : {} };
}

export interface S3ErrorBody {
  code: string;
  message: string;
  requestId: string;
  fields: Record<string, unknown>;
}

/**
 * Checks an error response the way a client reads it and returns its fields: XML Error root with
 * Code, Message and RequestId (= x-amz-request-id), Content-Length equal to the bytes received.
 * HEAD and 304 answers carry no body.
 */
export function assertS3Error(res: RawResponse, what: string, head = false): S3ErrorBody {
  const dump = `${what} → ${res.status} ${JSON.stringify(res.headers)} ${JSON.stringify(res.body.toString('utf8').slice(0, 600))}`;
  if (!res.headers['x-amz-request-id']) throw new Error(`x-amz-request-id missing: ${dump}`);
  if (head || res.status === 304) {
    if (res.body.length !== 0) throw new Error(`error to HEAD/304 has a body: ${dump}`);
    return { code: '', message: '', requestId: res.headers['x-amz-request-id'], fields: {} };
  }
  if (res.headers['content-length'] === undefined) throw new Error(`no Content-Length: ${dump}`);
  if (Number(res.headers['content-length']) !== res.body.length)
    throw new Error(`Content-Length ${res.headers['content-length']} but ${res.body.length} bytes: ${dump}`);
  if (!/xml/.test(res.headers['content-type'] ?? '')) throw new Error(`error Content-Type is not XML: ${dump}`);
  const { root, content } = parseXmlBody(res.body);
  if (root !== 'Error') throw new Error(`error root is ${root}: ${dump}`);
  const code = content['Code'];
  const message = content['Message'];
  const requestId = content['RequestId'];
  if (typeof code !== 'string' || code === '' || typeof message !== 'string' || typeof requestId !== 'string') {
    throw new Error(`Error without Code/Message/RequestId: ${dump}`);
  }
  if (requestId !== res.headers['x-amz-request-id']) throw new Error(`RequestId differs from x-amz-request-id: ${dump}`);
  return { code, message, requestId, fields: content };
}

/** Text that would leak internals: stack frames, absolute paths of the repository or data, error class names. */
export function leakIn(text: string, paths: readonly string[]): string | undefined {
  for (const p of paths) if (p && text.includes(p)) return `path ${p}`;
  const m =
    /\bat [^\s<]+ \(?[^\s<)]*:\d+:\d+\)?|node:internal|\/(?:work|home|root|usr|tmp|var)\/[\w./-]+|(?:Type|Range|Reference|Syntax)Error\b|SqliteError|ENOSPC|ENOENT|EACCES/.exec(
      text,
    );
  return m ? m[0] : undefined;
}

/** Waits until `check` returns true (polling), or throws after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/**
 * Sends only `prefix` (the head and at most part of the body; the rest is never sent, the socket
 * is not ended) and resolves with the server's complete answer. Rejects if none comes within
 * `timeoutMs`: the server was waiting for the rest of the body. An answer proves the server decided
 * without reading the whole body.
 */
export function answerBeforeBody(port: number, prefix: Buffer, opts: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (err: Error | undefined, res?: RawResponse) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `no answer within ${opts.timeoutMs ?? 15_000} ms while the rest of the body was held back; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`,
          ),
        ),
      opts.timeoutMs ?? 15_000,
    );
    /** The answer, once its head and (by Content-Length) its whole body have arrived. */
    const complete = (closed: boolean): RawResponse | undefined => {
      const raw = Buffer.concat(chunks);
      let res: RawResponse;
      try {
        res = parseResponse(raw, opts.head ?? false);
      } catch {
        return undefined;
      }
      const declared = res.headers['content-length'];
      if (!closed && declared !== undefined && res.body.length < Number(declared)) return undefined;
      return res;
    };
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      const res = complete(false);
      if (res) finish(undefined, res);
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      const res = complete(true);
      finish(
        res ? undefined : new Error(`connection closed without a complete answer: ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`),
        res,
      );
    });
    sock.write(prefix);
  });
}
