// Unit tests for SigV4 query (presigned URL) authentication: SDK-presigned GET and PUT, expiry,
// X-Amz-Expires limits, missing or repeated parameters, tampering, wrong region, unsigned x-amz-*
// headers. Fixtures in sigv4.fixtures.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveSigningKey, parseRawQuery, verifySigV4Query } from './sigv4.js';
import { SK, lookup, NOW, OPTS, MIN, sdkEncodeKey, presign, expectError, okQuery, withHeader, setQueryParam } from './sigv4.fixtures.js';

// ----------------------------------------------------------------------------------------------
// query auth (presigned)

test('SigV4 › presigned GET from the SDK signer → verifies as presigned with UNSIGNED-PAYLOAD', async () => {
  const req = await presign({
    path: `/bucket/${sdkEncodeKey('a b/😀+x')}`,
    query: 'response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&x-id=GetObject',
    expiresIn: 900,
  });
  assert.match(req.rawQuery, /X-Amz-Signature=/);
  const r = okQuery(req);
  assert.equal(r.payloadHash, 'UNSIGNED-PAYLOAD');
  assert.equal(r.amzDate, '20250115T120000Z');
  assert.equal(r.scope, '20250115/us-east-1/s3/aws4_request');
  assert.deepEqual(r.signingKey, deriveSigningKey(SK, '20250115', 'us-east-1', 's3'));
  assert.equal(r.signature, parseRawQuery(req.rawQuery).find(([n]) => n === 'X-Amz-Signature')?.[1]);
});

test('SigV4 › presigned PUT with hoisted x-amz-meta and a signed content-type header → verifies', async () => {
  const req = await presign({
    method: 'PUT',
    path: '/bucket/up%20load.bin',
    headers: { 'x-amz-meta-owner': 'me', 'content-type': 'text/plain' },
    expiresIn: 604800,
  });
  assert.match(req.rawQuery, /x-amz-meta-owner=me/);
  okQuery(req);
  expectError(() => verifySigV4Query(withHeader(req, 'content-type', ['text/html']), lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › presigned URL without X-Amz-Content-Sha256 → UNSIGNED-PAYLOAD is assumed', async () => {
  const req = await presign({ path: '/bucket/k', unsignedPayloadHeader: false });
  assert.doesNotMatch(req.rawQuery, /content-sha256/i);
  assert.equal(okQuery(req).payloadHash, 'UNSIGNED-PAYLOAD');
});

test('SigV4 › presigned URL just before expiry → verifies; after expiry → 403 AccessDenied "Request has expired"', async () => {
  const req = await presign({ path: '/bucket/k', expiresIn: 60 });
  okQuery(req, { ...OPTS, now: NOW + 60_000 });
  expectError(
    () => verifySigV4Query(req, lookup, { ...OPTS, now: NOW + 61_000 }),
    'AccessDenied',
    (e) => {
      assert.equal(e.message, 'Request has expired');
      assert.equal(e.fields['X-Amz-Expires'], 60);
      assert.equal(e.fields['Expires'], '2025-01-15T12:01:00Z');
      assert.equal(e.fields['ServerTime'], '2025-01-15T12:01:01Z');
    },
  );
});

test('SigV4 › presigned URL valid for a week used after 6 days → verifies (not limited to the skew window)', async () => {
  okQuery(await presign({ path: '/bucket/k', expiresIn: 604800 }), { ...OPTS, now: NOW + 6 * 24 * 3600_000 });
});

test('SigV4 › presigned X-Amz-Date 16 minutes ahead → 403 AccessDenied "Request is not valid yet"; 14 → verifies', async () => {
  okQuery(await presign({ path: '/bucket/k', date: NOW + 14 * MIN }));
  const req = await presign({ path: '/bucket/k', date: NOW + 16 * MIN });
  expectError(
    () => verifySigV4Query(req, lookup, OPTS),
    'AccessDenied',
    (e) => assert.equal(e.message, 'Request is not valid yet'),
  );
});

test("SigV4 › X-Amz-Expires 604801, 0 or negative → 403 AccessDenied with S3's message; not a number → 400 AuthorizationQueryParametersError", async () => {
  const req = await presign({ path: '/bucket/k', expiresIn: 604800 });
  const withExpires = (v: string) => ({ ...req, rawQuery: setQueryParam(req.rawQuery, 'X-Amz-Expires', v) });
  expectError(
    () => verifySigV4Query(withExpires('604801'), lookup, OPTS),
    'AccessDenied',
    (e) => {
      assert.equal(e.status, 403);
      assert.equal(e.message, 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds');
    },
  );
  expectError(
    () => verifySigV4Query(withExpires('0'), lookup, OPTS),
    'AccessDenied',
    (e) => {
      assert.equal(e.status, 403);
      assert.equal(e.message, 'Request has expired');
    },
  );
  for (const v of ['-5', '-0', '-604801']) {
    expectError(
      () => verifySigV4Query(withExpires(v), lookup, OPTS),
      'AccessDenied',
      (e) => assert.equal(e.message, 'X-Amz-Expires must be non-negative'),
    );
  }
  for (const v of ['1e3', '', 'abc', '1.5', '+5']) {
    expectError(
      () => verifySigV4Query(withExpires(v), lookup, OPTS),
      'AuthorizationQueryParametersError',
      (e) => {
        assert.equal(e.status, 400);
        assert.equal(e.message, 'X-Amz-Expires should be a number');
      },
    );
  }
  // The bounds themselves are fine (and 604800 is what the signature was made with).
  okQuery(req);
});

test('SigV4 › presigned URL missing or repeating a required parameter → AuthorizationQueryParametersError', async () => {
  const req = await presign({ path: '/bucket/k' });
  for (const name of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires']) {
    const rawQuery = req.rawQuery
      .split('&')
      .filter((p) => !p.startsWith(`${name}=`))
      .join('&');
    assert.notEqual(rawQuery, req.rawQuery);
    expectError(
      () => verifySigV4Query({ ...req, rawQuery }, lookup, OPTS),
      'AuthorizationQueryParametersError',
      (e) => assert.match(e.message, /requires the X-Amz-Algorithm/),
    );
  }
  expectError(() => verifySigV4Query({ ...req, rawQuery: `${req.rawQuery}&X-Amz-Date=20250115T120000Z` }, lookup, OPTS), 'AuthorizationQueryParametersError');
  expectError(
    () => verifySigV4Query({ ...req, rawQuery: setQueryParam(req.rawQuery, 'X-Amz-Algorithm', 'AWS4-HMAC-SHA1') }, lookup, OPTS),
    'AuthorizationQueryParametersError',
  );
  expectError(
    () => verifySigV4Query({ ...req, rawQuery: setQueryParam(req.rawQuery, 'X-Amz-Date', '20250115120000') }, lookup, OPTS),
    'AuthorizationQueryParametersError',
  );
});

test('SigV4 › presigned URL with a tampered parameter, path or signature → SignatureDoesNotMatch', async () => {
  const req = await presign({ path: '/bucket/k', query: 'response-content-type=text%2Fplain' });
  expectError(
    () => verifySigV4Query({ ...req, rawQuery: setQueryParam(req.rawQuery, 'response-content-type', 'text/html') }, lookup, OPTS),
    'SignatureDoesNotMatch',
  );
  expectError(() => verifySigV4Query({ ...req, rawQuery: `${req.rawQuery}&versionId=1` }, lookup, OPTS), 'SignatureDoesNotMatch');
  expectError(() => verifySigV4Query({ ...req, rawPath: '/bucket/k2' }, lookup, OPTS), 'SignatureDoesNotMatch');
  expectError(
    () => verifySigV4Query({ ...req, rawQuery: setQueryParam(req.rawQuery, 'X-Amz-Signature', '0'.repeat(64)) }, lookup, OPTS),
    'SignatureDoesNotMatch',
  );
  // Lengthening the validity is tampering too.
  expectError(() => verifySigV4Query({ ...req, rawQuery: setQueryParam(req.rawQuery, 'X-Amz-Expires', '7200') }, lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › presigned URL with wrong region → AuthorizationQueryParametersError with Region; unknown key → InvalidAccessKeyId', async () => {
  const wrongRegion = await presign({ path: '/bucket/k', region: 'ap-south-1' });
  expectError(
    () => verifySigV4Query(wrongRegion, lookup, OPTS),
    'AuthorizationQueryParametersError',
    (e) => {
      assert.equal(e.fields['Region'], 'us-east-1');
      assert.match(e.message, /the region 'ap-south-1' is wrong; expecting 'us-east-1'/);
    },
  );
  const unknown = await presign({ path: '/bucket/k', accessKey: 'AKIDUNKNOWN' });
  expectError(
    () => verifySigV4Query(unknown, lookup, OPTS),
    'InvalidAccessKeyId',
    (e) => assert.equal(e.fields['AWSAccessKeyId'], 'AKIDUNKNOWN'),
  );
  const wrongSecret = await presign({ path: '/bucket/k', secret: 'nope' });
  expectError(() => verifySigV4Query(wrongSecret, lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › presigned request carrying an unsigned x-amz-* header → 403 AccessDenied naming it', async () => {
  const req = await presign({ method: 'PUT', path: '/bucket/k' });
  expectError(
    () => verifySigV4Query(withHeader(req, 'x-amz-copy-source', ['/other/secret']), lookup, OPTS),
    'AccessDenied',
    (e) => {
      assert.equal(e.fields['HeadersNotSigned'], 'x-amz-copy-source');
    },
  );
  // The payload-hash claim is exempt: the body is verified against it anyway.
  okQuery(withHeader(req, 'x-amz-content-sha256', ['UNSIGNED-PAYLOAD']));
});
