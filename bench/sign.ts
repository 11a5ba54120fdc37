// SigV4 for the benchmark's clients: presigned URLs (what wrk and the hot loops replay) and
// Authorization headers with UNSIGNED-PAYLOAD (control requests: multipart, listing). The signing
// key derivation and the RFC 3986 encoding are the server's own (src/s3/auth/sigv4.ts), so the
// bench cannot drift from what Strata verifies.
import { createHash, createHmac } from 'node:crypto';
import { deriveSigningKey, uriEncode } from '../src/s3/auth/sigv4.js';

export interface S3Credentials {
  accessKey: string;
  secretKey: string;
  region: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED = 'UNSIGNED-PAYLOAD';

function amzDateOf(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** '/bucket/key' with the key encoded once (slashes kept), as S3 canonicalises it. */
export function objectPath(bucket: string, key?: string): string {
  return key === undefined || key === '' ? `/${bucket}` : `/${bucket}/${uriEncode(key, false)}`;
}

function canonicalQueryOf(params: ReadonlyArray<readonly [string, string]>): string {
  return params
    .map(([n, v]) => [uriEncode(n, true), uriEncode(v, true)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
}

function signature(creds: S3Credentials, amzDate: string, canonicalRequest: string): { sig: string; scope: string } {
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${creds.region}/s3/aws4_request`;
  const hashed = createHash('sha256').update(canonicalRequest, 'utf8').digest('hex');
  const key = deriveSigningKey(creds.secretKey, date, creds.region, 's3');
  const sig = createHmac('sha256', key).update(`${ALGORITHM}\n${amzDate}\n${scope}\n${hashed}`, 'utf8').digest('hex');
  return { sig, scope };
}

/**
 * Extra headers a request sends and signs (S3 wants every x-amz-* header signed: the SSE headers),
 * lowercase names: their canonical lines and names, sorted, around `host` (and `more` signed ones).
 */
function canonicalHeaders(
  host: string,
  extra: Readonly<Record<string, string>>,
  more: ReadonlyArray<readonly [string, string]> = [],
): { block: string; names: string } {
  const all: Array<readonly [string, string]> = [['host', host], ...more, ...Object.entries(extra).map(([n, v]) => [n.toLowerCase(), v.trim()] as const)];
  all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { block: all.map(([n, v]) => `${n}:${v}\n`).join(''), names: all.map(([n]) => n).join(';') };
}

/**
 * A presigned request target (path and query) for `method` on `path` (already encoded, e.g. from
 * objectPath), signing `host` (and `headers`, which the request must then send as given) and
 * UNSIGNED-PAYLOAD, valid for `expiresS` seconds.
 */
export function presign(
  creds: S3Credentials,
  host: string,
  method: string,
  path: string,
  query: ReadonlyArray<readonly [string, string]> = [],
  expiresS = 6 * 3600,
  nowMs = Date.now(),
  headers: Readonly<Record<string, string>> = {},
): string {
  const amzDate = amzDateOf(nowMs);
  const date = amzDate.slice(0, 8);
  const signed = canonicalHeaders(host, headers);
  const params: Array<readonly [string, string]> = [
    ...query,
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${creds.accessKey}/${date}/${creds.region}/s3/aws4_request`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(expiresS)],
    ['X-Amz-SignedHeaders', signed.names],
  ];
  const cq = canonicalQueryOf(params);
  const { sig } = signature(creds, amzDate, `${method}\n${path}\n${cq}\n${signed.block}\n${signed.names}\n${UNSIGNED}`);
  return `${path}?${cq}&X-Amz-Signature=${sig}`;
}

/**
 * Headers for a request signed in the Authorization header (host, x-amz-content-sha256 =
 * UNSIGNED-PAYLOAD or the payload's hash, x-amz-date), and the request target with its canonical query.
 */
export function signHeaders(
  creds: S3Credentials,
  host: string,
  method: string,
  path: string,
  query: ReadonlyArray<readonly [string, string]> = [],
  nowMs = Date.now(),
  /** Sign this body's SHA-256 instead of UNSIGNED-PAYLOAD (the admin API requires it). */
  payload?: Buffer,
  /** More headers to send and sign (lowercase names), returned with the others. */
  extra: Readonly<Record<string, string>> = {},
): { target: string; headers: Record<string, string> } {
  const amzDate = amzDateOf(nowMs);
  const cq = canonicalQueryOf(query);
  const hash = payload === undefined ? UNSIGNED : createHash('sha256').update(payload).digest('hex');
  const { block, names: signed } = canonicalHeaders(host, extra, [
    ['x-amz-content-sha256', hash],
    ['x-amz-date', amzDate],
  ]);
  const canonical = `${method}\n${path}\n${cq}\n${block}\n${signed}\n${hash}`;
  const { sig, scope } = signature(creds, amzDate, canonical);
  return {
    target: cq === '' ? path : `${path}?${cq}`,
    headers: {
      ...extra,
      'x-amz-content-sha256': hash,
      'x-amz-date': amzDate,
      authorization: `${ALGORITHM} Credential=${creds.accessKey}/${scope}, SignedHeaders=${signed}, Signature=${sig}`,
    },
  };
}
