// Unit tests for the SigV2 verifier: the AWS documentation examples (RESTAuthentication page),
// requests signed by botocore's own SigV2 signers (HmacV1Auth / HmacV1QueryAuth, run in a Python
// subprocess), signatures computed independently here, tampering, skew and expiry, and the
// authenticate() stage's mechanism rules (one mechanism, PostObject forms).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../context.js';
import { S3Error, type S3ErrorCode } from '../errors.js';
import { ANONYMOUS, rootCredentials } from '../../iam/principal.js';
import { ROOT_USER_ID } from '../../store/types.js';
import { authenticate, isMultipartFormData, postFormCredentials } from './authenticate.js';
import {
  canonicalAmzHeaders,
  canonicalResourceV2,
  hasSigV2Header,
  hasSigV2Query,
  parseV2Date,
  signV2,
  stringToSignV2,
  verifySigV2Header,
  verifySigV2Query,
} from './sigv2.js';
import type { CredentialLookup, SignedRequest } from './sigv4.js';

// The AWS documentation's example credentials (the secret has '/' before "bPxR"; the doc pages
// that spell it with '+' do not reproduce their own signatures).
const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const lookup: CredentialLookup = (ak) => (ak === AK ? { accessKey: AK, secretKey: SK } : undefined);
const MIN = 60_000;

/** Independent signer: HMAC-SHA1 over the UTF-8 bytes of the string, base64. */
function sign(stringToSign: string, secret = SK): string {
  return createHmac('sha1', Buffer.from(secret, 'utf8')).update(Buffer.from(stringToSign, 'utf8')).digest('base64');
}

function request(method: string, target: string, headers: Record<string, string | string[]>): SignedRequest {
  const q = target.indexOf('?');
  const h: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = [...(h[k.toLowerCase()] ?? []), ...(Array.isArray(v) ? v : [v])];
  return { method, rawPath: q < 0 ? target : target.slice(0, q), rawQuery: q < 0 ? '' : target.slice(q + 1), headers: h };
}

function expectCode(fn: () => unknown, code: S3ErrorCode): S3Error {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof S3Error, `expected S3Error ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but it verified`);
}

// ----------------------------------------------------------------------------------------------
// AWS documentation examples (bucket johnsmith, virtual-hosted; awsexamplebucket1, path style)

const T_GET = Date.UTC(2007, 2, 27, 19, 36, 42);

test('SigV2 string to sign › AWS doc GET example (awsexamplebucket1) → qgk2+6Sv9/oM7G3qLEjTH1a1l1g=', () => {
  const sts = stringToSignV2({
    method: 'GET',
    contentMd5: '',
    contentType: '',
    date: 'Tue, 27 Mar 2007 19:36:42 +0000',
    amzHeaders: '',
    resource: canonicalResourceV2('/awsexamplebucket1/photos/puppy.jpg', ''),
  });
  assert.equal(sts, 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg');
  assert.equal(signV2(SK, sts), 'qgk2+6Sv9/oM7G3qLEjTH1a1l1g=');
});

test('SigV2 header auth › AWS doc GET example, path style → verifies', () => {
  const req = request('GET', '/awsexamplebucket1/photos/puppy.jpg', {
    host: 's3.us-west-1.amazonaws.com',
    date: 'Tue, 27 Mar 2007 19:36:42 +0000',
    authorization: `AWS ${AK}:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=`,
  });
  const r = verifySigV2Header(req, lookup, { now: T_GET });
  assert.equal(r.accessKey, AK);
  assert.equal(r.payloadHash, 'UNSIGNED-PAYLOAD');
  assert.equal(r.presigned, false);
  assert.equal(r.signingKey.length, 0);
});

test('SigV2 header auth › AWS doc GET example, virtual-hosted (johnsmith) → verifies with /johnsmith in the resource', () => {
  const req = request('GET', '/photos/puppy.jpg', {
    host: 'johnsmith.s3.amazonaws.com',
    date: 'Tue, 27 Mar 2007 19:36:42 +0000',
    authorization: `AWS ${AK}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`,
  });
  assert.equal(verifySigV2Header(req, lookup, { now: T_GET, hostBucket: 'johnsmith' }).accessKey, AK);
  // The same request read as path style names another resource (/photos/puppy.jpg): refused.
  expectCode(() => verifySigV2Header(req, lookup, { now: T_GET }), 'SignatureDoesNotMatch');
});

test('SigV2 header auth › AWS doc PUT example with Content-Type → verifies', () => {
  const req = request('PUT', '/photos/puppy.jpg', {
    'content-type': 'image/jpeg',
    'content-length': '94328',
    host: 'johnsmith.s3.amazonaws.com',
    date: 'Tue, 27 Mar 2007 21:15:45 +0000',
    authorization: `AWS ${AK}:MyyxeRY7whkBe+bq8fHCL/2kKUg=`,
  });
  assert.equal(verifySigV2Header(req, lookup, { now: Date.UTC(2007, 2, 27, 21, 15, 45), hostBucket: 'johnsmith' }).accessKey, AK);
});

test('SigV2 header auth › AWS doc List example (non-sub-resource query ignored) → verifies', () => {
  const req = request('GET', '/?prefix=photos&max-keys=50&marker=puppy', {
    'user-agent': 'Mozilla/5.0',
    host: 'johnsmith.s3.amazonaws.com',
    date: 'Tue, 27 Mar 2007 19:42:41 +0000',
    authorization: `AWS ${AK}:htDYFYduRNen8P9ZfE/s9SuKy0U=`,
  });
  assert.equal(verifySigV2Header(req, lookup, { now: Date.UTC(2007, 2, 27, 19, 42, 41), hostBucket: 'johnsmith' }).accessKey, AK);
});

test('SigV2 header auth › AWS doc Fetch ACL example (?acl signed) → verifies', () => {
  const req = request('GET', '/?acl', {
    host: 'johnsmith.s3.amazonaws.com',
    date: 'Tue, 27 Mar 2007 19:44:46 +0000',
    authorization: `AWS ${AK}:c2WLPFtWHVgbEmeEG93a4cG37dM=`,
  });
  assert.equal(canonicalResourceV2('/', 'acl', 'johnsmith'), '/johnsmith/?acl');
  assert.equal(verifySigV2Header(req, lookup, { now: Date.UTC(2007, 2, 27, 19, 44, 46), hostBucket: 'johnsmith' }).accessKey, AK);
});

test('SigV2 header auth › AWS doc Upload example (Content-MD5, repeated x-amz-meta header, CNAME bucket) → verifies', () => {
  const req = request('PUT', '/db-backup.dat.gz', {
    'user-agent': 'curl/7.15.5',
    host: 'static.johnsmith.net:8080',
    date: 'Tue, 27 Mar 2007 21:06:08 +0000',
    'x-amz-acl': 'public-read',
    'content-type': 'application/x-download',
    'Content-MD5': '4gJE4saaMU4BqNR0kLY+lw==',
    'X-Amz-Meta-ReviewedBy': ['joe@johnsmith.net', 'jane@johnsmith.net'],
    'X-Amz-Meta-FileChecksum': '0x02661779',
    'X-Amz-Meta-ChecksumAlgorithm': 'crc32',
    'Content-Disposition': 'attachment; filename=database.dat',
    'Content-Encoding': 'gzip',
    'Content-Length': '5913339',
    authorization: `AWS ${AK}:ilyl83RwaSoYIEdixDQcA4OnAnc=`,
  });
  assert.equal(
    canonicalAmzHeaders(req.headers),
    'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\nx-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n',
  );
  assert.equal(verifySigV2Header(req, lookup, { now: Date.UTC(2007, 2, 27, 21, 6, 8), hostBucket: 'static.johnsmith.net' }).accessKey, AK);
});

test('SigV2 query auth › AWS doc presigned GET example (Expires=1175139620) → verifies', () => {
  const req = request('GET', `/photos/puppy.jpg?AWSAccessKeyId=${AK}&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D`, {
    host: 'johnsmith.s3.amazonaws.com',
  });
  const r = verifySigV2Query(req, lookup, { now: 1175139620 * 1000 - 60_000, hostBucket: 'johnsmith' });
  assert.equal(r.accessKey, AK);
  assert.equal(r.presigned, true);
  assert.equal(r.payloadHash, 'UNSIGNED-PAYLOAD');
});

test('SigV2 header auth › AWS doc DELETE example → x-amz-date makes the Date line empty (the rule botocore, boto, s3cmd follow)', () => {
  // The doc's DELETE example puts the x-amz-date value on the Date line and leaves x-amz-date out of
  // the headers, contradicting the rule stated on the same page; clients follow the rule, so do we.
  const headers = {
    'user-agent': 'dotnet',
    host: 's3.us-west-1.amazonaws.com',
    date: 'Tue, 27 Mar 2007 21:20:27 +0000',
    'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000',
  };
  const now = Date.UTC(2007, 2, 27, 21, 20, 26);
  const ruleSig = sign('DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg');
  const ok = request('DELETE', '/johnsmith/photos/puppy.jpg', { ...headers, authorization: `AWS ${AK}:${ruleSig}` });
  assert.equal(verifySigV2Header(ok, lookup, { now }).accessKey, AK);
  const doc = request('DELETE', '/johnsmith/photos/puppy.jpg', { ...headers, authorization: `AWS ${AK}:lx3byBScXR6KzyMaifNkardMwNk=` });
  expectCode(() => verifySigV2Header(doc, lookup, { now }), 'SignatureDoesNotMatch');
});

// ----------------------------------------------------------------------------------------------
// Independently computed signatures: canonicalisation details

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const DATE = 'Wed, 15 Jan 2025 12:00:00 GMT';

test('SigV2 header auth › sub-resources sorted, values decoded, non-sub-resources left out → verifies', () => {
  const target = '/bkt/a%20b/%E2%82%AC.txt?versionId=v%2B1&x-id=GetObject&response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&acl';
  const sts = `GET\n\n\n${DATE}\n/bkt/a%20b/%E2%82%AC.txt?acl&response-content-disposition=attachment; filename="a b.txt"&versionId=v+1`;
  const req = request('GET', target, { date: DATE, authorization: `AWS ${AK}:${sign(sts)}` });
  assert.equal(verifySigV2Header(req, lookup, { now: NOW }).accessKey, AK);
});

test('SigV2 header auth › sub-resource value with UTF-8 is signed as its bytes → verifies', () => {
  const target = '/bkt/k?response-content-disposition=attachment%3B%20filename%3D%22%E2%82%AC.txt%22';
  const sts = `GET\n\n\n${DATE}\n/bkt/k?response-content-disposition=attachment; filename="€.txt"`;
  const req = request('GET', target, { date: DATE, authorization: `AWS ${AK}:${sign(sts)}` });
  assert.equal(verifySigV2Header(req, lookup, { now: NOW }).accessKey, AK);
});

test('SigV2 header auth › ?uploads and ?uploadId=&partNumber= (as botocore signs them) → verify', () => {
  const a = request('POST', '/bkt/big?uploads', { date: DATE, authorization: `AWS ${AK}:${sign(`POST\n\n\n${DATE}\n/bkt/big?uploads`)}` });
  assert.equal(verifySigV2Header(a, lookup, { now: NOW }).accessKey, AK);
  const b = request('PUT', '/bkt/big?uploadId=abc&partNumber=2', {
    date: DATE,
    'content-md5': 'XrY7u+Ae7tCTyyK7j1rNww==',
    authorization: `AWS ${AK}:${sign(`PUT\nXrY7u+Ae7tCTyyK7j1rNww==\n\n${DATE}\n/bkt/big?partNumber=2&uploadId=abc`)}`,
  });
  assert.equal(verifySigV2Header(b, lookup, { now: NOW }).accessKey, AK);
});

test('SigV2 header auth › path-style bucket request /bkt signed as /bkt/ (botocore) → verifies; the slash is not added to keys', () => {
  const sig = sign(`PUT\n\n\n${DATE}\n/bkt/`);
  assert.equal(verifySigV2Header(request('PUT', '/bkt', { date: DATE, authorization: `AWS ${AK}:${sig}` }), lookup, { now: NOW }).accessKey, AK);
  const keySig = sign(`PUT\n\n\n${DATE}\n/bkt/k/`);
  expectCode(
    () => verifySigV2Header(request('PUT', '/bkt/k', { date: DATE, authorization: `AWS ${AK}:${keySig}` }), lookup, { now: NOW }),
    'SignatureDoesNotMatch',
  );
});

test('SigV2 header auth › path signed re-encoded (s3cmd style "~") but sent as %7E → verifies', () => {
  const req = request('GET', '/bkt/a%7Eb', { date: DATE, authorization: `AWS ${AK}:${sign(`GET\n\n\n${DATE}\n/bkt/a~b`)}` });
  assert.equal(verifySigV2Header(req, lookup, { now: NOW }).accessKey, AK);
});

test('SigV2 header auth › x-amz-date present → Date line empty, x-amz-date signed; a stale Date header is ignored', () => {
  const amzDate = 'Wed, 15 Jan 2025 12:00:00 +0000'; // s3cmd's format
  const sts = `PUT\n\ntext/plain\n\nx-amz-date:${amzDate}\nx-amz-meta-a:1,2\n/bkt/k`;
  const req = request('PUT', '/bkt/k', {
    date: 'Mon, 01 Jan 2001 00:00:00 GMT',
    'x-amz-date': amzDate,
    'content-type': 'text/plain',
    'x-amz-meta-a': [' 1 ', '2'],
    authorization: `AWS ${AK}:${sign(sts)}`,
  });
  assert.equal(verifySigV2Header(req, lookup, { now: NOW }).accessKey, AK);
});

// ----------------------------------------------------------------------------------------------
// Tampering and errors

function signedGet(extraHeaders: Record<string, string> = {}, target = '/bkt/k?versionId=1'): SignedRequest {
  const amz = Object.entries(extraHeaders)
    .filter(([k]) => k.startsWith('x-amz-'))
    .sort()
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
  const sts = `GET\n\n${extraHeaders['content-type'] ?? ''}\n${DATE}\n${amz}/bkt/k?versionId=1`;
  return request('GET', target, { date: DATE, ...extraHeaders, authorization: `AWS ${AK}:${sign(sts)}` });
}

test('SigV2 header auth › untouched control request → verifies', () => {
  assert.equal(verifySigV2Header(signedGet({ 'x-amz-meta-a': 'x' }), lookup, { now: NOW }).accessKey, AK);
});

test('SigV2 header auth › tampered method, path, sub-resource, x-amz header, Content-Type → SignatureDoesNotMatch', () => {
  const base = signedGet({ 'x-amz-meta-a': 'x', 'content-type': 'text/plain' });
  const cases: SignedRequest[] = [
    { ...base, method: 'DELETE' },
    { ...base, rawPath: '/bkt/other' },
    { ...base, rawQuery: 'versionId=2' },
    { ...base, rawQuery: 'versionId=1&tagging' }, // an operation-changing parameter cannot be added
    { ...base, headers: { ...base.headers, 'x-amz-meta-a': ['y'] } },
    { ...base, headers: { ...base.headers, 'x-amz-meta-b': ['new'] } },
    { ...base, headers: { ...base.headers, 'content-type': ['text/html'] } },
  ];
  for (const req of cases) {
    const err = expectCode(() => verifySigV2Header(req, lookup, { now: NOW }), 'SignatureDoesNotMatch');
    assert.equal(err.fields.AWSAccessKeyId, AK);
    assert.ok(!JSON.stringify(err.fields).includes(SK) && !err.message.includes(SK), 'the secret never appears in an error');
  }
});

test('SigV2 header auth › an unknown query parameter (not a sub-resource) may be added → still verifies (SigV2 signs only sub-resources)', () => {
  const base = signedGet();
  assert.equal(verifySigV2Header({ ...base, rawQuery: 'versionId=1&x-id=GetObject' }, lookup, { now: NOW }).accessKey, AK);
});

test('SigV2 header auth › wrong secret → SignatureDoesNotMatch; unknown access key → InvalidAccessKeyId', () => {
  const sts = `GET\n\n\n${DATE}\n/bkt/k`;
  expectCode(
    () => verifySigV2Header(request('GET', '/bkt/k', { date: DATE, authorization: `AWS ${AK}:${sign(sts, 'other')}` }), lookup, { now: NOW }),
    'SignatureDoesNotMatch',
  );
  const e = expectCode(
    () => verifySigV2Header(request('GET', '/bkt/k', { date: DATE, authorization: `AWS NOPE:${sign(sts)}` }), lookup, { now: NOW }),
    'InvalidAccessKeyId',
  );
  assert.equal(e.status, 403);
  assert.equal(e.fields.AWSAccessKeyId, 'NOPE');
});

test('SigV2 header auth › Date 16 min off → RequestTimeTooSkewed with RequestTime/ServerTime/MaxAllowedSkewMilliseconds; 14 min → verifies', () => {
  const req = signedGet();
  const e = expectCode(() => verifySigV2Header(req, lookup, { now: NOW + 16 * MIN }), 'RequestTimeTooSkewed');
  assert.equal(e.status, 403);
  assert.equal(e.fields.RequestTime, DATE);
  assert.equal(e.fields.ServerTime, '2025-01-15T12:16:00Z');
  assert.equal(e.fields.MaxAllowedSkewMilliseconds, 900000);
  expectCode(() => verifySigV2Header(req, lookup, { now: NOW - 16 * MIN }), 'RequestTimeTooSkewed');
  assert.equal(verifySigV2Header(req, lookup, { now: NOW + 14 * MIN }).accessKey, AK);
});

test('SigV2 header auth › no Date and no x-amz-date, or an unparseable one → AccessDenied', () => {
  const noDate = request('GET', '/bkt/k', { authorization: `AWS ${AK}:${sign('GET\n\n\n\n/bkt/k')}` });
  assert.match(expectCode(() => verifySigV2Header(noDate, lookup, { now: NOW }), 'AccessDenied').message, /valid Date or x-amz-date/);
  const bad = request('GET', '/bkt/k', { date: 'yesterday-ish', authorization: `AWS ${AK}:${sign('GET\n\n\nyesterday-ish\n/bkt/k')}` });
  expectCode(() => verifySigV2Header(bad, lookup, { now: NOW }), 'AccessDenied');
});

test('SigV2 header auth › malformed Authorization ("AWS " without ":") → 400 InvalidArgument', () => {
  const e = expectCode(() => verifySigV2Header(request('GET', '/b/k', { date: DATE, authorization: `AWS ${AK}` }), lookup, { now: NOW }), 'InvalidArgument');
  assert.equal(e.status, 400);
});

test('SigV2 dates › RFC 1123 with GMT or +0000 or an offset, ISO basic → the same instant', () => {
  assert.equal(parseV2Date('Wed, 15 Jan 2025 12:00:00 GMT'), NOW);
  assert.equal(parseV2Date('Wed, 15 Jan 2025 12:00:00 +0000'), NOW);
  assert.equal(parseV2Date('Wed, 15 Jan 2025 13:00:00 +0100'), NOW);
  assert.equal(parseV2Date('20250115T120000Z'), NOW);
  assert.equal(parseV2Date('not a date'), undefined);
});

// ----------------------------------------------------------------------------------------------
// Query auth

const EXPIRES = Math.floor(NOW / 1000) + 3600;

function presigned(method: string, path: string, sub = '', expires = EXPIRES, extra = ''): SignedRequest {
  const sig = sign(`${method}\n\n\n${expires}\n${path}${sub ? `?${sub}` : ''}`);
  const q = `${sub ? `${sub}&` : ''}AWSAccessKeyId=${AK}&Expires=${expires}&Signature=${encodeURIComponent(sig)}${extra}`;
  return request(method, `${path}?${q}`, { host: 'localhost:9000' });
}

test('SigV2 query auth › valid URL → verifies, presigned, UNSIGNED-PAYLOAD', () => {
  const r = verifySigV2Query(presigned('PUT', '/bkt/k'), lookup, { now: NOW });
  assert.deepEqual([r.accessKey, r.presigned, r.payloadHash], [AK, true, 'UNSIGNED-PAYLOAD']);
});

test('SigV2 query auth › Expires in the past → 403 AccessDenied "Request has expired"', () => {
  const e = expectCode(() => verifySigV2Query(presigned('GET', '/bkt/k', '', Math.floor(NOW / 1000) - 1), lookup, { now: NOW }), 'AccessDenied');
  assert.equal(e.message, 'Request has expired');
  assert.equal(e.status, 403);
});

test('SigV2 query auth › Expires a year ahead (no 7-day cap, unlike SigV4) → verifies', () => {
  const far = Math.floor(NOW / 1000) + 365 * 86400;
  assert.equal(verifySigV2Query(presigned('GET', '/bkt/k', '', far), lookup, { now: NOW }).accessKey, AK);
});

test('SigV2 query auth › Expires changed to extend the URL → SignatureDoesNotMatch', () => {
  const req = presigned('GET', '/bkt/k');
  const tampered = { ...req, rawQuery: req.rawQuery.replace(`Expires=${EXPIRES}`, `Expires=${EXPIRES + 86400}`) };
  expectCode(() => verifySigV2Query(tampered, lookup, { now: NOW }), 'SignatureDoesNotMatch');
});

test('SigV2 query auth › missing Signature or Expires → AccessDenied; unknown key → InvalidAccessKeyId', () => {
  expectCode(() => verifySigV2Query(request('GET', `/b/k?AWSAccessKeyId=${AK}&Expires=${EXPIRES}`, {}), lookup, { now: NOW }), 'AccessDenied');
  expectCode(() => verifySigV2Query(request('GET', `/b/k?AWSAccessKeyId=${AK}&Signature=abc`, {}), lookup, { now: NOW }), 'AccessDenied');
  expectCode(() => verifySigV2Query(request('GET', `/b/k?AWSAccessKeyId=X&Expires=${EXPIRES}&Signature=abc`, {}), lookup, { now: NOW }), 'InvalidAccessKeyId');
});

test('SigV2 query auth › an x-amz-* parameter appended to a signed URL → SignatureDoesNotMatch', () => {
  const req = presigned('PUT', '/bkt/k', '', EXPIRES, '&x-amz-meta-evil=1');
  expectCode(() => verifySigV2Query(req, lookup, { now: NOW }), 'SignatureDoesNotMatch');
});

test('SigV2 detection › header "AWS " and query AWSAccessKeyId/Signature are recognised; SigV4 is not', () => {
  assert.equal(hasSigV2Header({ authorization: ['AWS a:b'] }), true);
  assert.equal(hasSigV2Header({ authorization: ['AWS4-HMAC-SHA256 Credential=x'] }), false);
  assert.equal(hasSigV2Query('AWSAccessKeyId=a&Expires=1&Signature=s'), true);
  assert.equal(hasSigV2Query('X-Amz-Algorithm=AWS4-HMAC-SHA256'), false);
});

// ----------------------------------------------------------------------------------------------
// botocore's own signers

interface BotoVector {
  name: string;
  method: string;
  url: string;
  headers: Array<[string, string]>;
  hostBucket?: string;
}

const BOTO_SCRIPT = String.raw`
import json
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
creds = Credentials('AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')
class Header(HmacV1Auth):
    def _get_date(self): return 'Wed, 15 Jan 2025 12:00:00 GMT'
class Query(HmacV1QueryAuth):
    def _get_date(self): return '1736946000'
cases = [
  ('header GET odd key', Header, 'GET', 'http://localhost:9000/bkt/a%20b/%E2%82%AC%2B%21.txt', {}, None, None),
  ('header PUT with metadata', Header, 'PUT', 'http://localhost:9000/bkt/k', {'Content-Type': 'text/plain', 'x-amz-meta-color': 'blue', 'Content-MD5': 'XrY7u+Ae7tCTyyK7j1rNww=='}, None, None),
  ('header POST ?uploads', Header, 'POST', 'http://localhost:9000/bkt/k?uploads', {}, None, None),
  ('header PUT part', Header, 'PUT', 'http://localhost:9000/bkt/k?partNumber=3&uploadId=u-1', {}, None, None),
  ('header virtual-hosted list', Header, 'GET', 'http://bkt.s3.local:9000/?list-type=2&prefix=a', {}, '/bkt/', 'bkt'),
  ('header path-style CreateBucket (signs /bkt/, sends /bkt)', Header, 'PUT', 'http://localhost:9000/bkt', {}, '/bkt/', None),
  ('query GET with response-content-disposition', Query, 'GET', 'http://localhost:9000/bkt/a%20b.txt?response-content-disposition=attachment%3B%20filename%3D%22x%20y.txt%22', {}, None, None),
  ('query PUT with content type and metadata', Query, 'PUT', 'http://localhost:9000/bkt/up.bin', {'Content-Type': 'image/png', 'x-amz-meta-k': 'v'}, None, None),
]
out = []
for name, signer, method, url, headers, auth_path, host_bucket in cases:
    req = AWSRequest(method=method, url=url, headers=headers)
    if auth_path: req.auth_path = auth_path
    signer(creds).add_auth(req)
    out.append({'name': name, 'method': method, 'url': req.url, 'headers': list(req.headers.items()), 'hostBucket': host_bucket, 'query': signer is Query})
print(json.dumps(out))
`;

test('SigV2 › requests signed by botocore HmacV1Auth / HmacV1QueryAuth → all verify; each tampered → SignatureDoesNotMatch', () => {
  const out = execFileSync('python3', ['-c', BOTO_SCRIPT], { encoding: 'utf8' });
  const vectors = JSON.parse(out) as Array<BotoVector & { query: boolean }>;
  assert.equal(vectors.length, 8);
  for (const v of vectors) {
    const target = v.url.replace(/^https?:\/\/[^/]+/, '');
    const headers: Record<string, string[]> = {};
    for (const [k, val] of v.headers) (headers[k.toLowerCase()] ??= []).push(val);
    const req = request(v.method, target, headers);
    const opts = { now: NOW, hostBucket: v.hostBucket ?? undefined };
    if (v.query) {
      assert.ok(v.url.includes('AWSAccessKeyId='), v.name);
      assert.equal(verifySigV2Query(req, lookup, opts).accessKey, AK, v.name);
      expectCode(() => verifySigV2Query({ ...req, method: v.method === 'GET' ? 'HEAD' : 'POST' }, lookup, opts), 'SignatureDoesNotMatch');
    } else {
      assert.match(headers.authorization![0]!, /^AWS AKIAIOSFODNN7EXAMPLE:/, v.name);
      assert.equal(verifySigV2Header(req, lookup, opts).accessKey, AK, v.name);
      expectCode(() => verifySigV2Header({ ...req, rawPath: `${req.rawPath}x` }, lookup, opts), 'SignatureDoesNotMatch');
    }
  }
});

// ----------------------------------------------------------------------------------------------
// authenticate(): one mechanism; PostObject forms

function fakeCtx(op: string, method: string, target: string, headers: Record<string, string>): RequestContext {
  const q = target.indexOf('?');
  const distinct: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) distinct[k] = [v];
  return {
    op,
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? '' : target.slice(q + 1),
    headers,
    req: { headersDistinct: distinct } as unknown as IncomingMessage,
    config: { region: 'us-east-1', domains: [] },
  } as unknown as RequestContext;
}

async function expectCodeAsync(fn: () => Promise<unknown>, code: S3ErrorCode): Promise<S3Error> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof S3Error, `expected S3Error ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but it verified`);
}

const source = rootCredentials(AK, SK);

test('authenticate › Authorization header plus query Signature → 400 InvalidArgument "Only one auth mechanism allowed"', async () => {
  const ctx = fakeCtx('GetObject', 'GET', `/b/k?AWSAccessKeyId=${AK}&Expires=1&Signature=x`, { authorization: `AWS ${AK}:x`, date: DATE });
  const e = await expectCodeAsync(() => authenticate(ctx, source), 'InvalidArgument');
  assert.match(e.message, /^Only one auth mechanism allowed/);
  assert.equal(e.status, 400);
  const v4 = fakeCtx('GetObject', 'GET', '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&Signature=x&AWSAccessKeyId=a', {});
  await expectCodeAsync(() => authenticate(v4, source), 'InvalidArgument');
});

test('authenticate › SigV2 header and query requests are verified, with the root principal', async () => {
  const sig = sign(`GET\n\n\n${DATE}\n/bkt/k`);
  const realNow = Date.now;
  Date.now = () => NOW;
  try {
    const byHeader = await authenticate(fakeCtx('GetObject', 'GET', '/bkt/k', { authorization: `AWS ${AK}:${sig}`, date: DATE }), source);
    assert.equal(byHeader.auth?.accessKey, AK);
    assert.deepEqual(byHeader.principal, { accessKeyId: AK, userId: ROOT_USER_ID, kind: 'root' });
    const q = presigned('GET', '/bkt/k');
    assert.equal((await authenticate(fakeCtx('GetObject', 'GET', `/bkt/k?${q.rawQuery}`, {}), source)).auth?.presigned, true);
    // An unknown access key: InvalidAccessKeyId, as before the lookup became async.
    await expectCodeAsync(
      () => authenticate(fakeCtx('GetObject', 'GET', '/bkt/k', { authorization: `AWS NOPE:${sig}`, date: DATE }), source),
      'InvalidAccessKeyId',
    );
  } finally {
    Date.now = realNow;
  }
});

test('authenticate › PostObject with multipart/form-data → a marker carrying the credential source, not an identity', async () => {
  const ctx = fakeCtx('PostObject', 'POST', '/bkt', { 'content-type': 'multipart/form-data; boundary=xyz' });
  const { auth, principal } = await authenticate(ctx, source);
  assert.equal(auth?.accessKey, '');
  assert.equal(postFormCredentials(auth), source);
  assert.equal(principal, ANONYMOUS);
});

test('authenticate › unsigned request (multipart/form-data on another operation, PostObject without a form) → the anonymous principal (refused by authorize, not here)', async () => {
  for (const [op, ct] of [
    ['PutObject', 'multipart/form-data; boundary=x'],
    ['DeleteObjects', 'multipart/form-data; boundary=x'],
    ['PostObject', 'text/plain'],
  ]) {
    const { auth, principal } = await authenticate(fakeCtx(op!, 'POST', '/bkt', { 'content-type': ct! }), source);
    assert.equal(auth, undefined);
    assert.equal(principal, ANONYMOUS);
  }
});

test('authenticate › postFormCredentials of a verified result → undefined (only the marker opens the form path)', () => {
  const real = verifySigV2Query(presigned('GET', '/bkt/k'), lookup, { now: NOW });
  assert.equal(postFormCredentials(real), undefined);
  assert.equal(postFormCredentials(undefined), undefined);
  assert.equal(postFormCredentials({ ...real, accessKey: '' }), undefined);
});

test('authenticate › isMultipartFormData → case-insensitive type, parameters allowed, look-alikes refused', () => {
  assert.equal(isMultipartFormData('Multipart/Form-Data; boundary=abc'), true);
  assert.equal(isMultipartFormData('multipart/form-data'), true);
  assert.equal(isMultipartFormData('multipart/form-data-x; boundary=a'), false);
  assert.equal(isMultipartFormData('application/x-www-form-urlencoded'), false);
  assert.equal(isMultipartFormData(undefined), false);
});
