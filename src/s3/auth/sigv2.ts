// AWS Signature Version 2 (HMAC-SHA1) verification as Amazon S3 does it: `Authorization: AWS AK:sig`
// header auth (s3cmd `signature_v2`, old tools) and `?AWSAccessKeyId=&Expires=&Signature=` query auth
// (boto3's default presigned URLs in us-east-1). Reference: the "Signing and authenticating REST
// requests" page of the S3 user guide (RESTAuthentication).
//
// SigV2 signs neither the body nor the Host: the request's AuthResult says 'UNSIGNED-PAYLOAD' (Content-MD5
// is still verified by the body layer when sent) and carries no signing key (empty signingKey,
// signature, scope and amzDate), so signed aws-chunked streaming payloads, which need the SigV4 seed
// signature, are SigV4-only: the body layer refuses them for lack of a key.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error } from '../errors.js';
import type { QueryParam } from './canonical.js';
import { percentDecode, percentDecodeToBytes, toByteString, uriEncodeBytes } from './canonical.js';
import type { AuthResult, CredentialLookup, SignedRequest } from './sigv4.js';
import { parseRequestDate } from './http-date.js';

export interface SigV2Options {
  /** Server clock in ms (default Date.now()). */
  now?: number;
  /**
   * The bucket named by the Host header for virtual-hosted-style requests (undefined for path style):
   * the canonical resource then starts with `/bucket`, because SigV2 does not sign the Host.
   */
  hostBucket?: string;
}

const MAX_SKEW_MS = 15 * 60 * 1000;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/**
 * Query parameters that belong to the canonical resource. The union of AWS's documented list, the
 * list botocore signs (HmacV1Auth.QSAOfInterest) and every sub-resource the router dispatches on:
 * an unsigned parameter must never be able to change the operation a signature was made for
 * (a presigned GET /b/k must not also work as GET /b/k?retention). A client that does not sign one
 * of the extra names fails closed with SignatureDoesNotMatch.
 */
export const SIGV2_SUBRESOURCES: ReadonlySet<string> = new Set([
  // AWS documentation
  'acl',
  'cors',
  'delete',
  'lifecycle',
  'location',
  'logging',
  'notification',
  'partNumber',
  'policy',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
  'attributes',
  // botocore
  'accelerate',
  'analytics',
  'defaultObjectAcl',
  'inventory',
  'metrics',
  'object-lock',
  'replication',
  'select',
  'select-type',
  'storageClass',
  // the rest of the router's sub-resources
  'encryption',
  'intelligent-tiering',
  'legal-hold',
  'metadataTable',
  'ownershipControls',
  'policyStatus',
  'publicAccessBlock',
  'renameObject',
  'retention',
]);

// ---------------------------------------------------------------------------------------------
// Detection

function headerValues(headers: Record<string, string[] | undefined>, name: string): string[] | undefined {
  const v = headers[name];
  return v !== undefined && v.length > 0 ? v : undefined;
}

/** True when the Authorization header carries SigV2 (`AWS AK:signature`). */
export function hasSigV2Header(headers: Record<string, string[] | undefined>): boolean {
  const auth = headerValues(headers, 'authorization');
  return auth !== undefined && auth[0]!.startsWith('AWS ');
}

/** Raw query split into decoded names, raw values and whether an '=' was present. */
function queryPieces(rawQuery: string): Array<{ name: string; raw: string; hasValue: boolean }> {
  const out: Array<{ name: string; raw: string; hasValue: boolean }> = [];
  if (rawQuery === '') return out;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    out.push(
      eq < 0 ? { name: percentDecode(piece), raw: '', hasValue: false } : { name: percentDecode(piece.slice(0, eq)), raw: piece.slice(eq + 1), hasValue: true },
    );
  }
  return out;
}

/** True when the query (raw, or parsed by parseQueryParams) carries SigV2 presigning parameters (AWSAccessKeyId or Signature). */
export function hasSigV2Query(query: string | readonly QueryParam[]): boolean {
  const params: ReadonlyArray<{ name: string }> = typeof query === 'string' ? queryPieces(query) : query;
  return params.some((p) => p.name === 'AWSAccessKeyId' || p.name === 'Signature');
}

// ---------------------------------------------------------------------------------------------
// String to sign

/** base64(HMAC-SHA1(secret, stringToSign)); the string is a byte string (see canonical.ts), hashed as latin1. */
export function signV2(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(toByteString(stringToSign), 'latin1').digest('base64');
}

/**
 * CanonicalizedAmzHeaders: every x-amz-* header, lowercased name, sorted, `name:value\n`, each
 * occurrence trimmed and occurrences joined with ','.
 */
export function canonicalAmzHeaders(headers: Record<string, string[] | undefined>): string {
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter((n) => n.startsWith('x-amz-') && headerValues(headers, n) !== undefined)
    .sort();
  let out = '';
  for (const name of new Set(names)) {
    const values = headerValues(headers, name)!;
    out += `${name}:${values.map((v) => toByteString(v).replace(/^[ \t]+|[ \t]+$/g, '')).join(',')}\n`;
  }
  return out;
}

/**
 * CanonicalizedResource: `[/hostBucket]` + the path (as given: the raw path as received, or a
 * re-encoded form of it) + the sub-resources present, sorted by name, as `?a&b=v` with values
 * percent-decoded (as byte strings). A parameter sent without '=' is signed without '='.
 */
export function canonicalResourceV2(path: string, rawQuery: string, hostBucket?: string): string {
  let resource = (hostBucket !== undefined ? `/${hostBucket}` : '') + (path === '' ? '/' : path);
  const subs = queryPieces(rawQuery).filter((p) => SIGV2_SUBRESOURCES.has(p.name));
  if (subs.length > 0) {
    // Stable sort by name: repeated names keep their order, as botocore signs them.
    subs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    resource += '?' + subs.map((p) => (p.hasValue ? `${p.name}=${percentDecodeToBytes(p.raw).toString('latin1')}` : p.name)).join('&');
  }
  return toByteString(resource);
}

export interface StringToSignV2Parts {
  method: string;
  contentMd5: string;
  contentType: string;
  /** The Date header ('' when x-amz-date is sent), or Expires for query auth. */
  date: string;
  /** canonicalAmzHeaders() output (each line ends with '\n'). */
  amzHeaders: string;
  resource: string;
}

export function stringToSignV2(p: StringToSignV2Parts): string {
  return `${toByteString(p.method)}\n${toByteString(p.contentMd5)}\n${toByteString(p.contentType)}\n${toByteString(p.date)}\n${p.amzHeaders}${p.resource}`;
}

// ---------------------------------------------------------------------------------------------
// Verification

function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function signatureMismatch(accessKey: string): S3Error {
  // Never the StringToSign or anything secret: this goes to the client.
  return new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: accessKey });
}

/**
 * Checks the signature over the path as received; if that fails, over equivalent spellings of the
 * same resource: the path decoded and re-encoded the RFC 3986 way (s3cmd signs its own quoting of
 * the key), and for a path-style bucket request `/bucket` also `/bucket/` (botocore signs the bucket
 * resource with its slash but sends the URL without it). Every candidate names the same bucket and
 * decoded key, so none can make a signature valid for another resource.
 */
function verifySignature(
  req: SignedRequest,
  parts: Omit<StringToSignV2Parts, 'resource'>,
  secret: string,
  provided: string,
  accessKey: string,
  hostBucket: string | undefined,
): void {
  const raw = req.rawPath === '' ? '/' : req.rawPath;
  const candidates = new Set([raw, uriEncodeBytes(percentDecodeToBytes(raw), false)]);
  if (hostBucket === undefined && /^\/[^/]+$/.test(raw)) for (const c of [...candidates]) candidates.add(`${c}/`);
  for (const path of candidates) {
    const resource = canonicalResourceV2(path, req.rawQuery, hostBucket);
    if (constantTimeEqual(signV2(secret, stringToSignV2({ ...parts, resource })), provided)) return;
  }
  throw signatureMismatch(accessKey);
}

function result(accessKey: string, presigned: boolean): AuthResult {
  return {
    accessKey,
    payloadHash: UNSIGNED_PAYLOAD,
    // SigV4-only fields (aws-chunked verification): harmless empty values.
    signingKey: Buffer.alloc(0),
    signature: '',
    scope: '',
    amzDate: '',
    presigned,
  };
}

/**
 * A request date in any form SigV2 clients send: the HTTP forms and ISO basic (http-date.ts: RFC 1123
 * with 'GMT' or '+0000' as s3cmd sends it, RFC 850, asctime...), else whatever Date.parse accepts
 * (ISO 8601 extended). Only the skew check uses the value; the signature covers the header text as sent.
 */
export function parseV2Date(s: string): number | undefined {
  const parsed = parseRequestDate(s);
  if (parsed !== undefined) return parsed;
  const t = Date.parse(s.trim());
  return Number.isNaN(t) ? undefined : t;
}

function toIso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `AWS AK:signature` (the access key may not contain ':'; the signature is base64). */
function parseAuthorization(value: string): { accessKey: string; signature: string } {
  const m = /^AWS ([^:\s]+):(\S+)$/.exec(value.trim());
  if (!m) {
    throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', {
      ArgumentName: 'Authorization',
    });
  }
  return { accessKey: m[1]!, signature: m[2]! };
}

/** The single value of a header joined like S3 does for the three fixed lines. */
function fixedLine(headers: Record<string, string[] | undefined>, name: string): string {
  return headerValues(headers, name)?.join(',') ?? '';
}

/** Verifies `Authorization: AWS AK:signature`. Throws S3Error; returns who signed. */
export function verifySigV2Header(req: SignedRequest, lookup: CredentialLookup, opts: SigV2Options = {}): AuthResult {
  const now = opts.now ?? Date.now();
  const auth = headerValues(req.headers, 'authorization');
  if (auth === undefined || auth.length !== 1) {
    throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', {
      ArgumentName: 'Authorization',
    });
  }
  const { accessKey, signature } = parseAuthorization(auth[0]!);

  // x-amz-date wins over Date (clients that cannot set Date send it); the Date line is then empty
  // and x-amz-date is signed among the x-amz-* headers.
  const xAmzDate = headerValues(req.headers, 'x-amz-date');
  const date = headerValues(req.headers, 'date');
  const requestTime = (xAmzDate ?? date)?.join(',');
  const requestMs = requestTime === undefined ? undefined : parseV2Date(requestTime);
  // A date before 1970 is no valid request date (S3: AccessDenied, not RequestTimeTooSkewed).
  if (requestTime === undefined || requestMs === undefined || requestMs < 0) {
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  const creds = lookup(accessKey);
  if (creds === undefined) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKey });

  if (Math.abs(now - requestMs) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      RequestTime: requestTime,
      ServerTime: toIso(now),
      MaxAllowedSkewMilliseconds: MAX_SKEW_MS,
    });
  }

  verifySignature(
    req,
    {
      method: req.method.toUpperCase(),
      contentMd5: fixedLine(req.headers, 'content-md5'),
      contentType: fixedLine(req.headers, 'content-type'),
      date: xAmzDate !== undefined ? '' : fixedLine(req.headers, 'date'),
      amzHeaders: canonicalAmzHeaders(req.headers),
    },
    creds.secretKey,
    signature,
    accessKey,
    opts.hostBucket,
  );
  return result(accessKey, false);
}

const QUERY_REQUIRED = 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters';

/**
 * Verifies a SigV2 presigned URL. The Date line of the string to sign is the Expires value (epoch
 * seconds); the URL is valid until then, with no 7-day cap (unlike SigV4).
 */
export function verifySigV2Query(req: SignedRequest, lookup: CredentialLookup, opts: SigV2Options = {}): AuthResult {
  const now = opts.now ?? Date.now();
  const params = new Map<string, string[]>();
  for (const p of queryPieces(req.rawQuery)) {
    if (p.name !== 'AWSAccessKeyId' && p.name !== 'Expires' && p.name !== 'Signature') continue;
    const list = params.get(p.name) ?? [];
    list.push(percentDecode(p.raw));
    params.set(p.name, list);
  }
  const one = (name: string): string | undefined => {
    const v = params.get(name);
    return v !== undefined && v.length === 1 ? v[0] : undefined;
  };
  const accessKey = one('AWSAccessKeyId');
  const expires = one('Expires');
  const signature = one('Signature');
  if (accessKey === undefined || expires === undefined || signature === undefined || accessKey === '' || signature === '') {
    throw new S3Error('AccessDenied', QUERY_REQUIRED);
  }
  if (!/^\d{1,15}$/.test(expires)) {
    throw new S3Error('AccessDenied', 'Invalid date (should be seconds since epoch): ' + expires);
  }
  const creds = lookup(accessKey);
  if (creds === undefined) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKey });

  const expiresMs = Number(expires) * 1000;
  if (now > expiresMs) {
    throw new S3Error('AccessDenied', 'Request has expired', { Expires: toIso(expiresMs), ServerTime: toIso(now) });
  }

  // botocore moves x-amz-*, Content-Type and Content-MD5 into the query of a presigned URL (the
  // client then need not send them): a parameter stands in for an absent header. An appended
  // parameter the signer did not sign therefore breaks the signature instead of being ignored.
  const headers: Record<string, string[] | undefined> = { ...req.headers };
  for (const p of queryPieces(req.rawQuery)) {
    const name = p.name.toLowerCase();
    if (!(name.startsWith('x-amz-') || name === 'content-type' || name === 'content-md5')) continue;
    if (headerValues(req.headers, name) !== undefined) continue;
    headers[name] = [...(headers[name] ?? []), percentDecodeToBytes(p.raw).toString('latin1')];
  }
  verifySignature(
    req,
    {
      method: req.method.toUpperCase(),
      contentMd5: fixedLine(headers, 'content-md5'),
      contentType: fixedLine(headers, 'content-type'),
      date: expires,
      amzHeaders: canonicalAmzHeaders(headers),
    },
    creds.secretKey,
    signature,
    accessKey,
    opts.hostBucket,
  );
  return result(accessKey, true);
}
