// Fixtures for the SigV4 verifier's tests: credentials, the AWS SDK's own signer (@smithy/signature-v4
// in S3 mode) and helpers to sign, tamper with and verify requests. Shared by sigv4.test.ts and
// sigv4-presigned.test.ts.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { S3Error, type S3ErrorCode } from '../errors.js';
import { verifySigV4Header, verifySigV4Query, type AuthResult, type CredentialLookup, type SignedRequest, type SigV4Options } from './sigv4.js';

export const AK = 'AKIAIOSFODNN7EXAMPLE';
export const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
export const lookup: CredentialLookup = (ak) => (ak === AK ? { accessKey: AK, secretKey: SK } : undefined);
export const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
export const OPTS: SigV4Options = { region: 'us-east-1', now: NOW };
export const EMPTY_SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const HOST = 'localhost:9000';
export const MIN = 60_000;

// ----------------------------------------------------------------------------------------------
// helpers

export function sdkSigner(region = 'us-east-1', secret = SK, accessKey = AK): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: accessKey, secretAccessKey: secret },
    region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false, // S3 mode: the path is encoded once, by the caller
    applyChecksum: false,
  });
}

/** How aws-sdk-js encodes an object key into the path: each segment with encodeURIComponent + !'()*. */
export function sdkEncodeKey(key: string): string {
  return key
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/** Test-local query parser (independent of the code under test) producing the signer's query bag. */
export function queryBag(raw: string): Record<string, string | string[]> {
  const bag: Record<string, string | string[]> = {};
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? piece : piece.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(piece.slice(eq + 1));
    const prev = bag[name];
    bag[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return bag;
}

export function wireQuery(bag: Record<string, string | string[] | null> | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(bag ?? {})) {
    for (const one of Array.isArray(v) ? v : [v ?? '']) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(one)}`);
  }
  return parts.join('&');
}

/** Single-valued signer headers -> what Node's req.headersDistinct would give. */
export function distinct(headers: Record<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = [v];
  return out;
}

export interface SignSpec {
  method?: string;
  /** Path as sent on the wire (already percent-encoded). */
  path: string;
  /** Canonical URI the client signed, when it differs from the wire path. */
  signedPath?: string;
  /** Query as sent on the wire. */
  query?: string;
  /** Extra headers (host and x-amz-content-sha256: UNSIGNED-PAYLOAD are added unless overridden). */
  headers?: Record<string, string>;
  region?: string;
  secret?: string;
  accessKey?: string;
  date?: number;
}

export async function signHeader(spec: SignSpec): Promise<SignedRequest> {
  const method = spec.method ?? 'GET';
  const headers: Record<string, string> = { host: HOST, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...spec.headers };
  const signed = await sdkSigner(spec.region, spec.secret, spec.accessKey).sign(
    { method, protocol: 'http:', hostname: 'localhost', port: 9000, path: spec.signedPath ?? spec.path, query: queryBag(spec.query ?? ''), headers },
    { signingDate: new Date(spec.date ?? NOW) },
  );
  return { method, rawPath: spec.path, rawQuery: spec.query ?? '', headers: distinct(signed.headers) };
}

export async function presign(spec: SignSpec & { expiresIn?: number; unsignedPayloadHeader?: boolean }): Promise<SignedRequest> {
  const method = spec.method ?? 'GET';
  // Like @aws-sdk/s3-request-presigner: the payload is declared UNSIGNED-PAYLOAD (hoisted into the query).
  const headers: Record<string, string> = { host: HOST, ...spec.headers };
  if (spec.unsignedPayloadHeader !== false) headers['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD';
  const signed = await sdkSigner(spec.region, spec.secret, spec.accessKey).presign(
    {
      method,
      protocol: 'http:',
      hostname: 'localhost',
      port: 9000,
      path: spec.signedPath ?? spec.path,
      query: queryBag(spec.query ?? ''),
      headers,
      // A stream body makes the signer fall back to UNSIGNED-PAYLOAD when no header declares it.
      body: spec.unsignedPayloadHeader === false ? Readable.from([]) : undefined,
    },
    { signingDate: new Date(spec.date ?? NOW), expiresIn: spec.expiresIn ?? 3600 },
  );
  return { method, rawPath: spec.path, rawQuery: wireQuery(signed.query), headers: distinct(signed.headers) };
}

export function expectError(fn: () => unknown, code: S3ErrorCode, check?: (e: S3Error) => void): S3Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof S3Error, `expected S3Error ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  check?.(caught);
  return caught;
}

export function okHeader(req: SignedRequest, opts: SigV4Options = OPTS): AuthResult {
  const r = verifySigV4Header(req, lookup, opts);
  assert.equal(r.accessKey, AK);
  assert.equal(r.presigned, false);
  return r;
}

export function okQuery(req: SignedRequest, opts: SigV4Options = OPTS): AuthResult {
  const r = verifySigV4Query(req, lookup, opts);
  assert.equal(r.accessKey, AK);
  assert.equal(r.presigned, true);
  return r;
}

export function withHeader(req: SignedRequest, name: string, values: string[] | undefined): SignedRequest {
  const headers = { ...req.headers };
  if (values === undefined) delete headers[name];
  else headers[name] = values;
  return { ...req, headers };
}

export function authOf(req: SignedRequest): string {
  return req.headers['authorization']![0]!;
}

export function setQueryParam(rawQuery: string, name: string, value: string): string {
  return rawQuery
    .split('&')
    .map((p) => (p.startsWith(`${name}=`) ? `${name}=${encodeURIComponent(value)}` : p))
    .join('&');
}
