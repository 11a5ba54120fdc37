// AWS Signature Version 4 verification as Amazon S3 does it: Authorization-header auth and presigned
// (query-string) auth. Canonicalisation lives in canonical.ts; this file parses, checks and signs.
// Error codes/messages follow what S3 answers, because clients (s3fs, boto3) react to them.
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { S3Error } from '../errors.js';
import type { QueryParam } from './canonical.js';
import { parseRequestDate } from './http-date.js';
import { canonicalHeaderValue, canonicalQuery, canonicalUri, parseQueryParams, toByteString } from './canonical.js';

export { parseQueryParams, parseRawQuery, percentDecode, uriEncode } from './canonical.js';

export interface Credentials {
  accessKey: string;
  secretKey: string;
}
export type CredentialLookup = (accessKey: string) => Credentials | undefined;
export interface SignedRequest {
  method: string;
  /** Path part of req.url exactly as received, still percent-encoded. */
  rawPath: string;
  /** Text after the first '?', as received ('' if none). */
  rawQuery: string;
  /** Lowercased name -> every received value in order (Node's req.headersDistinct, values latin1). */
  headers: Record<string, string[] | undefined>;
  /** rawQuery already parsed (parseQueryParams(rawQuery), as the pipeline does once per request); parsed here when absent. */
  queryParams?: readonly QueryParam[];
}
export interface AuthResult {
  accessKey: string;
  /** 'UNSIGNED-PAYLOAD', a 64-hex SHA-256 (lowercased) to verify the body against, or a STREAMING-* mode. */
  payloadHash: string;
  /** For aws-chunked verification later: the signing key, the seed signature, the scope and the request date. */
  signingKey: Buffer;
  signature: string;
  scope: string;
  amzDate: string;
  /** true for presigned (query) auth. */
  presigned: boolean;
}
export interface SigV4Options {
  region: string;
  /** Server clock in ms (default Date.now()). */
  now?: number;
  /** Accept any region in the credential scope (and sign with it). */
  anyRegion?: boolean;
  /** The service the credential scope must name (default 's3'; the STS endpoint: 'sts'). */
  service?: string;
  /**
   * The SHA-256 (hex) of a body already read: the canonical request's payload line when the request
   * has no x-amz-content-sha256 (STS clients send none). Without it that header is required, as S3 does.
   */
  bodyHash?: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const SERVICE = 's3';
const TERMINAL = 'aws4_request';
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_EXPIRES_S = 604800;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const STREAMING_MODES = new Set(['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);
const SIGV4A_MODES = new Set(['STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER']);
const QUERY_PARAMS_REQUIRED =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';
const CREDENTIAL_FORMAT = 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9a-zA-Z-]+$/;

// ---------------------------------------------------------------------------------------------
// Detection

function headerValues(headers: Record<string, string[] | undefined>, name: string): string[] | undefined {
  const v = headers[name];
  return v !== undefined && v.length > 0 ? v : undefined;
}

/** True when the Authorization header carries SigV4 (HMAC-SHA256). */
export function hasSigV4Header(headers: Record<string, string[] | undefined>): boolean {
  const auth = headerValues(headers, 'authorization');
  return auth !== undefined && auth[0]!.startsWith(ALGORITHM);
}

/** True when the query (raw, or parsed by parseQueryParams) carries an X-Amz-Algorithm parameter (presigned SigV4). */
export function hasSigV4Query(query: string | readonly QueryParam[]): boolean {
  // Names are compared decoded ('X-Amz-%41lgorithm' counts), exactly as verifySigV4Query reads them.
  const params = typeof query === 'string' ? parseQueryParams(query) : query;
  return params.some((p) => p.name === 'X-Amz-Algorithm');
}

// ---------------------------------------------------------------------------------------------
// Signing key (HMAC chain), cached: the same few keys serve every request of a day.

const KEY_CACHE_MAX = 64;
const keyCache = new Map<string, Buffer>();

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC(HMAC(HMAC(HMAC('AWS4' + secret, date), region), service), 'aws4_request'). */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  // NUL cannot occur in a date, region or service name, so the cache key is unambiguous.
  const cacheKey = `${date}\0${region}\0${service}\0${secret}`;
  let key = keyCache.get(cacheKey);
  if (key === undefined) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), TERMINAL);
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(cacheKey, key);
  }
  return Buffer.from(key); // a copy: a caller that scribbles on it cannot poison the cache
}

/** Entries in the signing-key cache (for tests: it is bounded). */
export function signingKeyCacheSize(): number {
  return keyCache.size;
}

// ---------------------------------------------------------------------------------------------
// Dates

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
  const t = Date.UTC(y, mo, d, h, mi, s);
  const back = new Date(t);
  // Reject out-of-range fields (Feb 30, hour 24...) instead of letting Date roll them over.
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  )
    return undefined;
  return t;
}

/** 'YYYYMMDDTHHMMSSZ' -> ms, or undefined. */
function parseAmzDateUncached(s: string): number | undefined {
  const m = AMZ_DATE.exec(s);
  return m ? utc(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
}

/** A pure function of one string argument with a one-entry cache (requests of one second share their date). */
function lastValue<T>(fn: (s: string) => T): (s: string) => T {
  let lastInput: string | undefined;
  let lastOutput: T;
  return (s: string): T => {
    if (s !== lastInput) {
      lastOutput = fn(s);
      lastInput = s;
    }
    return lastOutput;
  };
}

const parseAmzDate = lastValue(parseAmzDateUncached);
/** Whether a credential-scope date 'YYYYMMDD' is a real day. */
const isScopeDate = lastValue((date: string) => /^\d{8}$/.test(date) && parseAmzDateUncached(`${date}T000000Z`) !== undefined);

/**
 * The Date header of a SigV4 request without x-amz-date: any form clients send (http-date.ts), e.g.
 * 'Sun, 06 Nov 1994 08:49:37 GMT', '... +0000', '... -0000', RFC 850, asctime, or ISO 8601 basic.
 */
const parseHttpDate = lastValue(parseRequestDate);

function toAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

function toIso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------
// Credential scope

interface Scope {
  accessKey: string;
  date: string;
  region: string;
  service: string;
  terminal: string;
}

type AuthKind = 'header' | 'query';

/** The 400 error of each auth kind, with S3's message prefix. */
function malformed(kind: AuthKind, detail: string, fields?: Record<string, string>): S3Error {
  return kind === 'header'
    ? new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`, fields)
    : new S3Error('AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; ${detail}`, fields);
}

function parseCredential(value: string, kind: AuthKind): Scope {
  const parts = value.split('/');
  if (parts.length < 5) throw malformed(kind, CREDENTIAL_FORMAT);
  // The last four parts are the scope; the access key is whatever precedes them.
  const [date, region, service, terminal] = parts.slice(-4) as [string, string, string, string];
  const accessKey = parts.slice(0, -4).join('/');
  if (accessKey === '' || region === '') throw malformed(kind, CREDENTIAL_FORMAT);
  return { accessKey, date, region, service, terminal };
}

function checkScope(scope: Scope, kind: AuthKind, opts: SigV4Options): void {
  if (!isScopeDate(scope.date)) {
    throw malformed(kind, `incorrect date format "${scope.date}". This date in the credential must be in the format "yyyyMMdd".`);
  }
  const service = opts.service ?? SERVICE;
  if (scope.service !== service) {
    throw malformed(kind, `incorrect service "${scope.service}". This endpoint belongs to "${service}".`);
  }
  if (scope.terminal !== TERMINAL) {
    throw malformed(kind, `incorrect terminal "${scope.terminal}". This endpoint uses "${TERMINAL}".`);
  }
  // A wrong region is answered with the expected one: s3fs and boto3 read <Region> and retry.
  if (!opts.anyRegion && scope.region !== opts.region) {
    throw malformed(kind, `the region '${scope.region}' is wrong; expecting '${opts.region}'`, { Region: opts.region });
  }
}

/** SignedHeaders 'host;x-amz-date' -> names, kept as given (the client signed them in that order). */
function parseSignedHeaders(value: string, kind: AuthKind): string[] {
  const names = value.split(';');
  if (value === '' || names.some((n) => !HEADER_TOKEN.test(n))) {
    throw kind === 'header'
      ? new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; the SignedHeaders are mal-formed.')
      : new S3Error('AuthorizationQueryParametersError', 'X-Amz-SignedHeaders is mal-formed.');
  }
  // Without a signed Host a signature could be replayed against another endpoint/bucket.
  if (!names.some((n) => n.toLowerCase() === 'host')) {
    throw kind === 'header'
      ? new S3Error('AuthorizationHeaderMalformed', "The authorization header is malformed; the SignedHeaders must include 'host'.")
      : new S3Error('AuthorizationQueryParametersError', "X-Amz-SignedHeaders must include 'host'.");
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Payload hash (x-amz-content-sha256)

/** Validates the payload-hash claim; returns it for AuthResult (hex lowercased). */
function checkPayloadHash(value: string): string {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  if (value === UNSIGNED_PAYLOAD || STREAMING_MODES.has(value)) return value;
  if (SIGV4A_MODES.has(value)) {
    throw new S3Error('NotImplemented', 'SigV4a (ECDSA) streaming payloads are not implemented.', { Header: 'x-amz-content-sha256' });
  }
  throw new S3Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  );
}

// ---------------------------------------------------------------------------------------------
// Canonical request and signature

/** Canonical header lines + '\n', in SignedHeaders order. An absent signed header cannot match. */
function canonicalHeaderBlock(req: SignedRequest, names: readonly string[], accessKey: string): string {
  let block = '';
  for (const name of names) {
    const values = headerValues(req.headers, name.toLowerCase());
    if (values === undefined) throw signatureMismatch(accessKey);
    block += `${name}:${canonicalHeaderValue(values)}\n`;
  }
  return block;
}

/**
 * Every x-amz-* header must be signed, as S3 demands (AccessDenied "There were headers present in
 * the request which were not signed"), for header and presigned auth alike. Otherwise whoever
 * captured a signed request or a presigned URL could add headers the signer never approved: an
 * x-amz-copy-source (turning a PUT into a copy of any object the signer may read), x-amz-acl,
 * x-amz-meta-*, x-amz-tagging... x-amz-content-sha256 is exempt: it is only a claim the body is
 * verified against.
 */
function refuseUnsignedAmzHeaders(req: SignedRequest, signedNames: readonly string[]): void {
  let unsigned: string[] | undefined;
  let signed: Set<string> | undefined;
  for (const name of Object.keys(req.headers)) {
    if (!name.startsWith('x-amz-') || name === 'x-amz-content-sha256') continue;
    signed ??= new Set(signedNames.map((n) => n.toLowerCase()));
    if (!signed.has(name) && headerValues(req.headers, name) !== undefined) (unsigned ??= []).push(name);
  }
  if (unsigned !== undefined) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: unsigned.join(', '),
    });
  }
}

function signatureMismatch(accessKey: string): S3Error {
  // Never StringToSign/CanonicalRequest/secrets here: this goes to the client.
  return new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: accessKey });
}

function signatureOf(key: Buffer, amzDate: string, scope: string, canonicalRequest: string): string {
  // The canonical request is a byte string (see canonical.ts), hence latin1. crypto.hash (one
  // shot) costs about half of createHash().update().digest() for a string this size.
  const hashed = hash('sha256', Buffer.from(canonicalRequest, 'latin1'), 'hex');
  return createHmac('sha256', key).update(`${ALGORITHM}\n${amzDate}\n${scope}\n${hashed}`, 'utf8').digest('hex');
}

function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

interface SignatureCheck {
  req: SignedRequest;
  canonicalQuery: string;
  headerBlock: string;
  signedHeaders: string; // the ';'-joined list exactly as signed
  payloadLine: string; // the payload hash claim, verbatim
  key: Buffer;
  amzDate: string;
  scope: string;
  provided: string;
  accessKey: string;
}

/**
 * Computes the signature with the S3 canonical URI (decode once, encode once); if that does not match,
 * one more try with the path exactly as received rescues clients that escape differently (e.g. '~' or
 * "!'()*"). Throws SignatureDoesNotMatch when neither matches.
 */
function verifySignature(c: SignatureCheck): void {
  const method = toByteString(c.req.method);
  const tail = `${c.canonicalQuery}\n${c.headerBlock}\n${c.signedHeaders}\n${c.payloadLine}`;
  const uri = canonicalUri(c.req.rawPath);
  if (constantTimeEqual(signatureOf(c.key, c.amzDate, c.scope, `${method}\n${uri}\n${tail}`), c.provided)) return;
  const raw = toByteString(c.req.rawPath === '' ? '/' : c.req.rawPath);
  if (raw !== uri && constantTimeEqual(signatureOf(c.key, c.amzDate, c.scope, `${method}\n${raw}\n${tail}`), c.provided)) return;
  throw signatureMismatch(c.accessKey);
}

// ---------------------------------------------------------------------------------------------
// Header auth

const THREE_COMPONENTS = 'the authorization header requires three components: Credential, SignedHeaders, and Signature.';

/** 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...', any spaces/commas between parts. */
function parseAuthorization(value: string): { credential: string; signedHeaders: string; signature: string } {
  const rest = value.slice(ALGORITHM.length);
  if (!value.startsWith(ALGORITHM) || (rest !== '' && !/^[ \t]/.test(rest))) {
    throw malformed('header', `the authorization mechanism must be "${ALGORITHM}".`);
  }
  const found = new Map<string, string>();
  for (const part of rest.split(/[ \t,]+/)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq > 0 ? part.slice(0, eq) : '';
    if ((name !== 'Credential' && name !== 'SignedHeaders' && name !== 'Signature') || found.has(name)) {
      throw malformed('header', THREE_COMPONENTS);
    }
    found.set(name, part.slice(eq + 1));
  }
  const credential = found.get('Credential');
  const signedHeaders = found.get('SignedHeaders');
  const signature = found.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformed('header', THREE_COMPONENTS);
  }
  return { credential, signedHeaders, signature };
}

/**
 * Verifies a request signed with `Authorization: AWS4-HMAC-SHA256 ...`. Returns who signed it and the
 * payload-hash claim the body must still be checked against; throws S3Error otherwise.
 */
export function verifySigV4Header(req: SignedRequest, lookup: CredentialLookup, opts: SigV4Options): AuthResult {
  const now = opts.now ?? Date.now();
  const auth = headerValues(req.headers, 'authorization');
  if (auth === undefined || auth.length !== 1) throw malformed('header', THREE_COMPONENTS);
  const parsed = parseAuthorization(auth[0]!);
  const scope = parseCredential(parsed.credential, 'header');
  checkScope(scope, 'header', opts);
  const signedNames = parseSignedHeaders(parsed.signedHeaders, 'header');

  // Request time: x-amz-date wins over Date. With Date, the string to sign carries it in ISO basic form.
  let requestTime: string | undefined;
  let requestMs: number | undefined;
  const xAmzDate = headerValues(req.headers, 'x-amz-date');
  const date = headerValues(req.headers, 'date');
  if (xAmzDate !== undefined) {
    requestTime = xAmzDate.join(',');
    requestMs = parseAmzDate(requestTime);
  } else if (date !== undefined) {
    requestTime = date.join(',');
    requestMs = parseHttpDate(requestTime);
  }
  if (requestTime === undefined || requestMs === undefined) {
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  const amzDate = toAmzDate(requestMs);
  if (scope.date !== amzDate.slice(0, 8)) {
    throw malformed('header', 'Invalid credential date. Date is not the same as X-Amz-Date.');
  }

  // S3 requires the payload-hash claim on header auth; it is the last line of the canonical request.
  const sha = headerValues(req.headers, 'x-amz-content-sha256');
  if (sha === undefined && opts.bodyHash === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const payloadLine = sha?.join(',') ?? (opts.bodyHash as string);
  const payloadHash = checkPayloadHash(payloadLine);

  const creds = lookup(scope.accessKey);
  if (creds === undefined) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: scope.accessKey });

  // Checked when the request starts, never at the end of a long upload.
  if (Math.abs(now - requestMs) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      RequestTime: requestTime,
      ServerTime: toIso(now),
      MaxAllowedSkewMilliseconds: MAX_SKEW_MS,
    });
  }

  const scopeString = `${scope.date}/${scope.region}/${scope.service}/${TERMINAL}`;
  const key = deriveSigningKey(creds.secretKey, scope.date, scope.region, scope.service);
  const params = req.queryParams ?? parseQueryParams(req.rawQuery);
  verifySignature({
    req,
    canonicalQuery: canonicalQuery(params.map((p) => [p.rawName, p.rawValue] as const)),
    headerBlock: canonicalHeaderBlock(req, signedNames, scope.accessKey),
    signedHeaders: parsed.signedHeaders,
    payloadLine,
    key,
    amzDate,
    scope: scopeString,
    provided: parsed.signature,
    accessKey: scope.accessKey,
  });
  // Checked once the signature holds (a forged request gets SignatureDoesNotMatch, as before).
  refuseUnsignedAmzHeaders(req, signedNames);
  return {
    accessKey: scope.accessKey,
    payloadHash,
    signingKey: key,
    signature: parsed.signature,
    scope: scopeString,
    amzDate,
    presigned: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Query auth (presigned URLs)

function queryError(message: string, fields?: Record<string, string>): S3Error {
  return new S3Error('AuthorizationQueryParametersError', message, fields);
}

/**
 * X-Amz-Expires: an integer number of seconds, 1..604800. A number outside that range is refused
 * with 403 AccessDenied, as S3 answers it (the conformance suite's
 * test_object_raw_get_x_amz_expires_out_{range_zero,max_range,positive_range} expect 403 Forbidden),
 * with S3's wording; something that is not a number at all is a malformed parameter (400).
 */
function parseExpires(value: string, amzDate: string, requestMs: number, now: number): number {
  if (/^-\d+$/.test(value)) throw new S3Error('AccessDenied', 'X-Amz-Expires must be non-negative', { 'X-Amz-Expires': value });
  if (!/^\d+$/.test(value)) throw queryError('X-Amz-Expires should be a number', { 'X-Amz-Expires': value });
  const seconds = Number(value);
  if (seconds > MAX_EXPIRES_S) {
    throw new S3Error(
      'AccessDenied',
      `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_EXPIRES_S} seconds`,
      {
        'X-Amz-Expires': value,
      },
    );
  }
  // Zero seconds: the URL expired the moment it was signed.
  if (seconds < 1) {
    throw new S3Error('AccessDenied', 'Request has expired', { 'X-Amz-Expires': 0, Expires: toIso(requestMs), ServerTime: toIso(now), 'X-Amz-Date': amzDate });
  }
  return seconds;
}

/**
 * Verifies a presigned request (X-Amz-* query parameters). Validity is X-Amz-Date + X-Amz-Expires,
 * not the 15-minute skew window; an X-Amz-Date more than 15 minutes in the future is refused with
 * 403 AccessDenied "Request is not valid yet" (what S3 answers, rather than RequestTimeTooSkewed).
 */
export function verifySigV4Query(req: SignedRequest, lookup: CredentialLookup, opts: SigV4Options): AuthResult {
  const now = opts.now ?? Date.now();
  const params = new Map<string, string[]>();
  const signedPairs: Array<readonly [string, string]> = [];
  for (const p of req.queryParams ?? parseQueryParams(req.rawQuery)) {
    const name = p.name;
    if (name.startsWith('X-Amz-') || name.toLowerCase() === 'x-amz-content-sha256') {
      const list = params.get(name);
      if (list === undefined) params.set(name, [p.value]);
      else list.push(p.value);
    }
    // Everything but the signature itself is signed, unknown parameters included.
    if (name !== 'X-Amz-Signature') signedPairs.push([p.rawName, p.rawValue]);
  }
  /** The single value of a parameter; absent or repeated gives undefined. */
  const one = (name: string): string | undefined => {
    const v = params.get(name);
    return v !== undefined && v.length === 1 ? v[0] : undefined;
  };

  const algorithm = one('X-Amz-Algorithm');
  const credential = one('X-Amz-Credential');
  const signature = one('X-Amz-Signature');
  const amzDate = one('X-Amz-Date');
  const signedHeaders = one('X-Amz-SignedHeaders');
  const expiresParam = one('X-Amz-Expires');
  if (
    algorithm === undefined ||
    credential === undefined ||
    signature === undefined ||
    amzDate === undefined ||
    signedHeaders === undefined ||
    expiresParam === undefined
  ) {
    throw queryError(QUERY_PARAMS_REQUIRED);
  }
  if (algorithm !== ALGORITHM) throw queryError(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const requestMs = parseAmzDate(amzDate);
  if (requestMs === undefined) {
    throw queryError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  }
  const expires = parseExpires(expiresParam, amzDate, requestMs, now);
  const scope = parseCredential(credential, 'query');
  checkScope(scope, 'query', opts);
  if (scope.date !== amzDate.slice(0, 8)) {
    throw malformed('query', 'Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  const signedNames = parseSignedHeaders(signedHeaders, 'query');

  // Payload hash: the query parameter, else the header, else UNSIGNED-PAYLOAD (what presigners sign).
  let payloadLine = UNSIGNED_PAYLOAD;
  const shaParams: string[] = [];
  for (const [name, values] of params) if (name.toLowerCase() === 'x-amz-content-sha256') shaParams.push(...values);
  const shaHeader = headerValues(req.headers, 'x-amz-content-sha256');
  if (shaParams.length > 0) payloadLine = shaParams.join(',');
  else if (shaHeader !== undefined) payloadLine = shaHeader.join(',');
  const payloadHash = checkPayloadHash(payloadLine);

  const creds = lookup(scope.accessKey);
  if (creds === undefined) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: scope.accessKey });

  if (requestMs - now > MAX_SKEW_MS) {
    throw new S3Error('AccessDenied', 'Request is not valid yet', { 'X-Amz-Date': amzDate, ServerTime: toIso(now) });
  }
  if (now > requestMs + expires * 1000) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': expires,
      Expires: toIso(requestMs + expires * 1000),
      ServerTime: toIso(now),
    });
  }

  refuseUnsignedAmzHeaders(req, signedNames);

  const scopeString = `${scope.date}/${scope.region}/${scope.service}/${TERMINAL}`;
  const key = deriveSigningKey(creds.secretKey, scope.date, scope.region, scope.service);
  verifySignature({
    req,
    canonicalQuery: canonicalQuery(signedPairs),
    headerBlock: canonicalHeaderBlock(req, signedNames, scope.accessKey),
    signedHeaders,
    payloadLine,
    key,
    amzDate,
    scope: scopeString,
    provided: signature,
    accessKey: scope.accessKey,
  });
  return {
    accessKey: scope.accessKey,
    payloadHash,
    signingKey: key,
    signature,
    scope: scopeString,
    amzDate,
    presigned: true,
  };
}
