// Hand-rolled request signing for the raw tests: what no SDK will produce (a SigV4 request dated by
// a `Date` header in any form, presigned URLs with out-of-range X-Amz-Expires, SigV2 dated before
// 1970). Written from the AWS documentation, independently of the server's verifier, and kept
// minimal: paths are passed already encoded, query parameters sorted here.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import { ACCESS_KEY, REGION, SECRET_KEY } from './server.js';

export const UNSIGNED = 'UNSIGNED-PAYLOAD';
const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The SigV4 signing key for a day (YYYYMMDD). */
function signingKey(day: string): Buffer {
  let k: Buffer | string = `AWS4${SECRET_KEY}`;
  for (const part of [day, REGION, 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  return k as Buffer;
}

/** 'YYYYMMDDTHHMMSSZ' of an instant. */
export function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

function sortedQuery(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function signature(day: string, when: string, canonical: string): string {
  const sts = ['AWS4-HMAC-SHA256', when, `${day}/${REGION}/s3/aws4_request`, sha256hex(canonical)].join('\n');
  return createHmac('sha256', signingKey(day)).update(sts).digest('hex');
}

/**
 * A presigned target (path?query) with X-Amz-Expires as given (any text), signed over the whole
 * query (extra parameters included), host only, UNSIGNED-PAYLOAD.
 */
export function presignedTarget(o: { method: string; host: string; path: string; expires: string; at?: number; extra?: Record<string, string> }): string {
  const when = amzDate(o.at ?? Date.now());
  const day = when.slice(0, 8);
  const query: Record<string, string> = {
    ...(o.extra ?? {}),
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${ACCESS_KEY}/${day}/${REGION}/s3/aws4_request`,
    'X-Amz-Date': when,
    'X-Amz-Expires': o.expires,
    'X-Amz-SignedHeaders': 'host',
  };
  const canonicalQuery = sortedQuery(query);
  const canonical = [o.method, o.path, canonicalQuery, `host:${o.host}`, '', 'host', UNSIGNED].join('\n');
  return `${o.path}?${canonicalQuery}&X-Amz-Signature=${signature(day, when, canonical)}`;
}

/**
 * Headers of a SigV4 header-signed request dated by `Date: <dateText>` (no x-amz-date): the string
 * to sign carries `instant` in ISO basic form, the canonical headers the Date text as sent.
 */
export function signWithDateHeader(o: {
  method: string;
  host: string;
  path: string;
  dateText: string;
  instant: number;
  body?: Buffer;
}): Record<string, string> {
  const when = amzDate(o.instant);
  const day = when.slice(0, 8);
  const payload = sha256hex(o.body ?? Buffer.alloc(0));
  const canonicalDate = o.dateText.trim().replace(/\s+/g, ' ');
  const canonical = [
    o.method,
    o.path,
    '',
    `date:${canonicalDate}`,
    `host:${o.host}`,
    `x-amz-content-sha256:${payload}`,
    '',
    'date;host;x-amz-content-sha256',
    payload,
  ].join('\n');
  return {
    date: o.dateText,
    'x-amz-content-sha256': payload,
    authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${day}/${REGION}/s3/aws4_request, SignedHeaders=date;host;x-amz-content-sha256, Signature=${signature(day, when, canonical)}`,
  };
}

/** Headers of a SigV2 header-signed request (`Authorization: AWS AK:sig`) dated by Date or x-amz-date. */
export function signV2(o: { method: string; path: string; date?: string; amzDate?: string }): Record<string, string> {
  const amz = o.amzDate !== undefined ? `x-amz-date:${o.amzDate}\n` : '';
  const sts = `${o.method}\n\n\n${o.amzDate !== undefined ? '' : (o.date ?? '')}\n${amz}${o.path}`;
  const sig = createHmac('sha1', SECRET_KEY).update(sts).digest('base64');
  const headers: Record<string, string> = { authorization: `AWS ${ACCESS_KEY}:${sig}` };
  if (o.date !== undefined) headers.date = o.date;
  if (o.amzDate !== undefined) headers['x-amz-date'] = o.amzDate;
  return headers;
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with exactly these headers (node:http sets no Date of its own), body optional. */
export function send(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The text of the first `<name>` element. */
export const xmlText = (xml: string, name: string): string | undefined => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];
