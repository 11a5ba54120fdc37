// Unit tests for the SigV4 verifier: requests signed by the AWS SDK's own signer (@smithy/signature-v4,
// in S3 mode) are fed to the verifier, plus AWS documentation vectors and hand-built raw requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import {
  deriveSigningKey,
  hasSigV4Header,
  hasSigV4Query,
  parseQueryParams,
  parseRawQuery,
  percentDecode,
  signingKeyCacheSize,
  uriEncode,
  verifySigV4Header,
  verifySigV4Query,
  type SignedRequest,
} from './sigv4.js';
import {
  AK,
  SK,
  lookup,
  NOW,
  OPTS,
  EMPTY_SHA,
  HOST,
  MIN,
  sdkSigner,
  sdkEncodeKey,
  distinct,
  signHeader,
  presign,
  expectError,
  okHeader,
  okQuery,
  withHeader,
  authOf,
  setQueryParam,
} from './sigv4.fixtures.js';

// ----------------------------------------------------------------------------------------------
// helpers under test

test('SigV4 › deriveSigningKey with the AWS documentation example → published key', () => {
  const key = deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
  assert.equal(key.toString('hex'), 'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
});

test('SigV4 › deriveSigningKey cached result mutated by a caller → next call unaffected', () => {
  const a = deriveSigningKey(SK, '20250115', 'us-east-1', 's3');
  const hex = a.toString('hex');
  a.fill(0);
  assert.equal(deriveSigningKey(SK, '20250115', 'us-east-1', 's3').toString('hex'), hex);
  assert.notEqual(deriveSigningKey(SK, '20250116', 'us-east-1', 's3').toString('hex'), hex);
});

test('SigV4 › uriEncode → RFC 3986 on UTF-8 bytes, uppercase hex, slash optional', () => {
  assert.equal(uriEncode('a b+c%d~e-f_g.h', true), 'a%20b%2Bc%25d~e-f_g.h');
  assert.equal(uriEncode("!'()*", true), '%21%27%28%29%2A');
  assert.equal(uriEncode('a/b', false), 'a/b');
  assert.equal(uriEncode('a/b', true), 'a%2Fb');
  assert.equal(uriEncode('é😀', true), '%C3%A9%F0%9F%98%80');
});

test('SigV4 › percentDecode → UTF-8, plus kept, malformed escapes kept literally', () => {
  assert.equal(percentDecode('a%20b+c'), 'a b+c');
  assert.equal(percentDecode('%C3%A9%f0%9f%98%80'), 'é😀');
  assert.equal(percentDecode('100%'), '100%');
  assert.equal(percentDecode('%zz%4'), '%zz%4');
  assert.equal(percentDecode('%%41'), '%A');
  assert.equal(percentDecode('한%20글'), '한 글');
});

test('SigV4 › parseRawQuery → decoded pairs, no plus-to-space, empty pieces skipped', () => {
  assert.deepEqual(parseRawQuery('uploads&prefix=a%20b+c&&x=1=2&empty='), [
    ['uploads', ''],
    ['prefix', 'a b+c'],
    ['x', '1=2'],
    ['empty', ''],
  ]);
  assert.deepEqual(parseRawQuery(''), []);
});

test('SigV4 › hasSigV4Header / hasSigV4Query → detect the two SigV4 forms only', () => {
  assert.equal(hasSigV4Header({ authorization: ['AWS4-HMAC-SHA256 Credential=x'] }), true);
  assert.equal(hasSigV4Header({ authorization: ['AWS AKID:sig'] }), false);
  assert.equal(hasSigV4Header({}), false);
  assert.equal(hasSigV4Query('X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=1'), true);
  assert.equal(hasSigV4Query('X-Amz-%41lgorithm=AWS4-HMAC-SHA256'), true);
  assert.equal(hasSigV4Query('AWSAccessKeyId=a&Signature=b'), false);
  assert.equal(hasSigV4Query('prefix=X-Amz-Algorithm'), false);
});

// ----------------------------------------------------------------------------------------------
// golden vectors

test('SigV4 › AWS docs GET Object example (Range header) → verifies', () => {
  const req: SignedRequest = {
    method: 'GET',
    rawPath: '/test.txt',
    rawQuery: '',
    headers: {
      host: ['examplebucket.s3.amazonaws.com'],
      range: ['bytes=0-9'],
      'x-amz-content-sha256': [EMPTY_SHA],
      'x-amz-date': ['20130524T000000Z'],
      authorization: [
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
      ],
    },
  };
  const r = okHeader(req, { region: 'us-east-1', now: Date.UTC(2013, 4, 24, 0, 5) });
  assert.equal(r.scope, '20130524/us-east-1/s3/aws4_request');
  assert.equal(r.payloadHash, EMPTY_SHA);
  expectError(
    () => verifySigV4Header(withHeader(req, 'range', ['bytes=0-10']), lookup, { region: 'us-east-1', now: Date.UTC(2013, 4, 24) }),
    'SignatureDoesNotMatch',
  );
});

test('SigV4 › AWS docs ListObjects example (?max-keys=2&prefix=J) → verifies', () => {
  const req: SignedRequest = {
    method: 'GET',
    rawPath: '/',
    rawQuery: 'max-keys=2&prefix=J',
    headers: {
      host: ['examplebucket.s3.amazonaws.com'],
      'x-amz-content-sha256': [EMPTY_SHA],
      'x-amz-date': ['20130524T000000Z'],
      authorization: [
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
      ],
    },
  };
  okHeader(req, { region: 'us-east-1', now: Date.UTC(2013, 4, 24) });
  // Parameter order on the wire does not matter; the canonical query is sorted.
  okHeader({ ...req, rawQuery: 'prefix=J&max-keys=2' }, { region: 'us-east-1', now: Date.UTC(2013, 4, 24) });
});

test('SigV4 › AWS docs presigned URL example → verifies until it expires', () => {
  const req: SignedRequest = {
    method: 'GET',
    rawPath: '/test.txt',
    rawQuery:
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    headers: { host: ['examplebucket.s3.amazonaws.com'] },
  };
  const r = okQuery(req, { region: 'us-east-1', now: Date.UTC(2013, 4, 24, 23) });
  assert.equal(r.payloadHash, 'UNSIGNED-PAYLOAD');
  expectError(() => verifySigV4Query(req, lookup, { region: 'us-east-1', now: Date.UTC(2013, 4, 25, 0, 0, 1) }), 'AccessDenied');
});

test('SigV4 › Date header instead of x-amz-date (hand-built canonical request) → verifies, amzDate in ISO basic', () => {
  const canonical = [
    'PUT',
    '/b/a%20b',
    'x-id=PutObject',
    'date:Wed, 15 Jan 2025 12:00:00 GMT',
    'host:localhost',
    `x-amz-content-sha256:${EMPTY_SHA}`,
    '',
    'date;host;x-amz-content-sha256',
    EMPTY_SHA,
  ].join('\n');
  const sts = ['AWS4-HMAC-SHA256', '20250115T120000Z', '20250115/us-east-1/s3/aws4_request', createHash('sha256').update(canonical).digest('hex')].join('\n');
  let k: Buffer | string = `AWS4${SK}`;
  for (const part of ['20250115', 'us-east-1', 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  const sig = createHmac('sha256', k).update(sts).digest('hex');
  const req: SignedRequest = {
    method: 'PUT',
    rawPath: '/b/a%20b',
    rawQuery: 'x-id=PutObject',
    headers: {
      host: ['localhost'],
      date: ['Wed, 15 Jan 2025 12:00:00 GMT'],
      'x-amz-content-sha256': [EMPTY_SHA],
      authorization: [`AWS4-HMAC-SHA256 Credential=${AK}/20250115/us-east-1/s3/aws4_request, SignedHeaders=date;host;x-amz-content-sha256, Signature=${sig}`],
    },
  };
  const r = okHeader(req);
  assert.equal(r.amzDate, '20250115T120000Z');
  assert.equal(r.signature, sig);
  expectError(() => verifySigV4Header(withHeader(req, 'date', ['Wed, 15 Jan 2025 12:00:01 GMT']), lookup, OPTS), 'SignatureDoesNotMatch');
});

// ----------------------------------------------------------------------------------------------
// header auth, positive

test('SigV4 › simple GET signed by the SDK → verifies with the returned scope, key and signature', async () => {
  const req = await signHeader({ path: '/bucket/key.txt', headers: { 'x-amz-content-sha256': EMPTY_SHA } });
  const r = okHeader(req);
  assert.equal(r.payloadHash, EMPTY_SHA);
  assert.equal(r.scope, '20250115/us-east-1/s3/aws4_request');
  assert.equal(r.amzDate, '20250115T120000Z');
  assert.match(authOf(req), new RegExp(`Signature=${r.signature}$`));
  assert.deepEqual(r.signingKey, deriveSigningKey(SK, '20250115', 'us-east-1', 's3'));
});

test('SigV4 › object keys with special characters, encoded like aws-sdk-js → verify and decode to the key', async () => {
  const keys = [
    'a b',
    'a+b',
    '100%.csv',
    'a/../b',
    'a//b',
    './x',
    '~tilde',
    "!'()*",
    '한글/ü.txt',
    '😀',
    'key?with#chars',
    'dir/',
    'x'.repeat(1024),
    'mixed ü+%/ ../😀~',
  ];
  for (const key of keys) {
    const path = `/bucket/${sdkEncodeKey(key)}`;
    const req = await signHeader({ method: 'PUT', path, query: 'x-id=PutObject' });
    okHeader(req);
    assert.equal(percentDecode(req.rawPath), `/bucket/${key}`, `router view of ${JSON.stringify(key)}`);
  }
});

test('SigV4 › wire path encoded differently from the canonical URI → verifies (decode once, encode once)', async () => {
  const cases: Array<[wire: string, signed: string]> = [
    ['/b/a+b', '/b/a%2Bb'], // '+' in a path is a literal plus
    ["/b/!'()*", '/b/%21%27%28%29%2A'], // encodeURIComponent leaves these, AWS encodes them
    ['/b/%c3%a9', '/b/%C3%A9'], // lowercase hex on the wire
    ['/b/%7Etilde', '/b/~tilde'], // over-encoded unreserved char
    ['/b/a=b&c@d:e,f$g', '/b/a%3Db%26c%40d%3Ae%2Cf%24g'],
  ];
  for (const [wire, signed] of cases) okHeader(await signHeader({ path: wire, signedPath: signed }));
});

test('SigV4 › client that signed the raw wire path → verifies through the second try', async () => {
  for (const wire of ["/b/!'()*", '/b/a%7Eb', '/b/%c3%a9']) okHeader(await signHeader({ path: wire, signedPath: wire }));
});

test('SigV4 › path with dot segments, double slashes and invalid UTF-8 → verifies byte-exactly, never normalised', async () => {
  for (const path of ['/b/a%20b/..//c', '/b/./x/../y', '/b/%FF%FE', '/']) okHeader(await signHeader({ path }));
  // The normalised form of the same path is a different request.
  const req = await signHeader({ path: '/b/x/../y' });
  expectError(() => verifySigV4Header({ ...req, rawPath: '/b/y' }, lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › ListObjectsV2 query with x-id and unsorted mixed-case names → verifies', async () => {
  okHeader(await signHeader({ path: '/bucket', query: 'list-type=2&prefix=a%20b&delimiter=%2F&encoding-type=url&x-id=ListObjectsV2' }));
  // Wire encodings differ by client ('/' and '~' raw, lowercase hex); canonical form is the same.
  okHeader(await signHeader({ path: '/bucket', query: 'delimiter=/&prefix=a%2bb~&start-after=%c3%a9' }));
  // Byte order, not locale order: 'Zeta' sorts before 'alpha', 'a-b' before 'a_b'.
  okHeader(await signHeader({ path: '/bucket', query: 'alpha=1&Zeta=2&a_b=3&a-b=4&x=b&x=a' }));
});

test('SigV4 › value-less sub-resources (?uploads, ?location, ?uploads=) → verify', async () => {
  for (const query of ['uploads', 'location', 'uploads=', 'tagging&versionId=3']) {
    okHeader(await signHeader({ method: 'POST', path: '/bucket/key', query }));
  }
});

test('SigV4 › header values with leading/trailing and inner repeated spaces/tabs → verify', async () => {
  const req = await signHeader({ method: 'PUT', path: '/b/k', headers: { 'x-amz-meta-note': '  a   b \t c  ' } });
  okHeader(req);
  // Node strips the outer whitespace itself; the inner runs still collapse.
  okHeader(withHeader(req, 'x-amz-meta-note', ['a   b \t c']));
  expectError(() => verifySigV4Header(withHeader(req, 'x-amz-meta-note', ['a b  cd']), lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › duplicate header occurrences → joined with a comma in received order', async () => {
  const req = await signHeader({ method: 'PUT', path: '/b/k', headers: { 'x-amz-meta-x': 'one,two' } });
  okHeader(withHeader(req, 'x-amz-meta-x', ['one', ' two ']));
  expectError(() => verifySigV4Header(withHeader(req, 'x-amz-meta-x', ['two', 'one']), lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › signed accept-encoding → verifies; rewritten by a proxy → SignatureDoesNotMatch', async () => {
  const req = await signHeader({ path: '/b/k', headers: { 'accept-encoding': 'gzip, deflate, br' } });
  assert.match(authOf(req), /SignedHeaders=accept-encoding;host;/);
  okHeader(req);
  expectError(() => verifySigV4Header(withHeader(req, 'accept-encoding', ['identity']), lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › non-ASCII header value as Node delivers it (latin1 bytes) → verifies', async () => {
  const value = 'é 😀 à'; // 'à' is C3 A0: a final 0xA0 byte that String#trim would strip
  const req = await signHeader({ method: 'PUT', path: '/b/k', headers: { 'x-amz-meta-name': value } });
  okHeader(withHeader(req, 'x-amz-meta-name', [Buffer.from(value, 'utf8').toString('latin1')]));
});

test('SigV4 › Authorization header with other spacing/comma layouts → verifies', async () => {
  const req = await signHeader({ path: '/b/k' });
  const auth = authOf(req);
  for (const variant of [auth.replace(/, /g, ','), auth.replace(/, /g, ' ,  '), auth.replace(' ', '   ').replace(/, /g, ' ')]) {
    assert.notEqual(variant, auth);
    okHeader(withHeader(req, 'authorization', [variant]));
  }
});

test('SigV4 › payload hash modes → returned for the body verifier; SigV4a → NotImplemented; junk → InvalidArgument', async () => {
  for (const mode of [
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'UNSIGNED-PAYLOAD',
  ]) {
    const r = okHeader(await signHeader({ method: 'PUT', path: '/b/k', headers: { 'x-amz-content-sha256': mode } }));
    assert.equal(r.payloadHash, mode);
  }
  const upper = EMPTY_SHA.toUpperCase();
  assert.equal(okHeader(await signHeader({ method: 'PUT', path: '/b/k', headers: { 'x-amz-content-sha256': upper } })).payloadHash, EMPTY_SHA);
  const ecdsa = await signHeader({ method: 'PUT', path: '/b/k', headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD' } });
  expectError(() => verifySigV4Header(ecdsa, lookup, OPTS), 'NotImplemented');
  const junk = await signHeader({ method: 'PUT', path: '/b/k', headers: { 'x-amz-content-sha256': 'abc' } });
  expectError(
    () => verifySigV4Header(junk, lookup, OPTS),
    'InvalidArgument',
    (e) => assert.equal(e.fields['ArgumentValue'], 'abc'),
  );
});

test('SigV4 › scope region other than ours with anyRegion → verifies with that region', async () => {
  const req = await signHeader({ path: '/b/k', region: 'eu-west-1' });
  const r = okHeader(req, { ...OPTS, anyRegion: true });
  assert.equal(r.scope, '20250115/eu-west-1/s3/aws4_request');
});

test('SigV4 › skew of 14 minutes either way → verifies', async () => {
  okHeader(await signHeader({ path: '/b/k', date: NOW - 14 * MIN }));
  okHeader(await signHeader({ path: '/b/k', date: NOW + 14 * MIN }));
});

// ----------------------------------------------------------------------------------------------
// header auth, negative

test('SigV4 › tampered path → SignatureDoesNotMatch with AWSAccessKeyId only', async () => {
  const req = await signHeader({ path: '/bucket/a%20b' });
  expectError(
    () => verifySigV4Header({ ...req, rawPath: '/bucket/a%20c' }, lookup, OPTS),
    'SignatureDoesNotMatch',
    (e) => {
      assert.equal(e.status, 403);
      assert.deepEqual(e.fields, { AWSAccessKeyId: AK });
    },
  );
  expectError(() => verifySigV4Header({ ...req, rawPath: '/bucket/a+b' }, lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › tampered query (value changed, param added, param dropped) → SignatureDoesNotMatch', async () => {
  const req = await signHeader({ path: '/bucket', query: 'list-type=2&prefix=a&x-id=ListObjectsV2' });
  for (const rawQuery of [
    'list-type=2&prefix=b&x-id=ListObjectsV2',
    'list-type=2&prefix=a&x-id=ListObjectsV2&max-keys=1',
    'list-type=2&prefix=a',
    'list-type=2&prefix=a+&x-id=ListObjectsV2',
  ]) {
    expectError(() => verifySigV4Header({ ...req, rawQuery }, lookup, OPTS), 'SignatureDoesNotMatch');
  }
});

test('SigV4 › tampered signed header, method or payload hash → SignatureDoesNotMatch', async () => {
  const req = await signHeader({ method: 'PUT', path: '/b/k', headers: { 'x-amz-meta-a': '1', 'x-amz-content-sha256': EMPTY_SHA } });
  expectError(() => verifySigV4Header(withHeader(req, 'x-amz-meta-a', ['2']), lookup, OPTS), 'SignatureDoesNotMatch');
  expectError(() => verifySigV4Header(withHeader(req, 'host', ['evil:9000']), lookup, OPTS), 'SignatureDoesNotMatch');
  expectError(() => verifySigV4Header({ ...req, method: 'DELETE' }, lookup, OPTS), 'SignatureDoesNotMatch');
  expectError(() => verifySigV4Header(withHeader(req, 'x-amz-content-sha256', ['UNSIGNED-PAYLOAD']), lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › signed header absent from the request → SignatureDoesNotMatch', async () => {
  const req = await signHeader({ path: '/b/k', headers: { 'x-amz-meta-a': '1' } });
  expectError(() => verifySigV4Header(withHeader(req, 'x-amz-meta-a', undefined), lookup, OPTS), 'SignatureDoesNotMatch');
  expectError(() => verifySigV4Header(withHeader(req, 'x-amz-meta-a', []), lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › wrong secret → SignatureDoesNotMatch; truncated signature → SignatureDoesNotMatch', async () => {
  const req = await signHeader({ path: '/b/k', secret: 'not-the-secret' });
  expectError(() => verifySigV4Header(req, lookup, OPTS), 'SignatureDoesNotMatch');
  const good = await signHeader({ path: '/b/k' });
  expectError(() => verifySigV4Header(withHeader(good, 'authorization', [authOf(good).slice(0, -2)]), lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › unknown access key → 403 InvalidAccessKeyId with AWSAccessKeyId', async () => {
  const req = await signHeader({ path: '/b/k', accessKey: 'AKIDUNKNOWN' });
  expectError(
    () => verifySigV4Header(req, lookup, OPTS),
    'InvalidAccessKeyId',
    (e) => {
      assert.equal(e.status, 403);
      assert.equal(e.fields['AWSAccessKeyId'], 'AKIDUNKNOWN');
    },
  );
});

test('SigV4 › wrong region in scope → 400 AuthorizationHeaderMalformed with Region', async () => {
  const req = await signHeader({ path: '/b/k', region: 'eu-west-1' });
  expectError(
    () => verifySigV4Header(req, lookup, OPTS),
    'AuthorizationHeaderMalformed',
    (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.fields['Region'], 'us-east-1');
      assert.equal(e.message, "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'");
    },
  );
});

test('SigV4 › skew of 16 minutes → 403 RequestTimeTooSkewed with RequestTime/ServerTime/MaxAllowedSkewMilliseconds', async () => {
  for (const date of [NOW - 16 * MIN, NOW + 16 * MIN]) {
    const req = await signHeader({ path: '/b/k', date });
    expectError(
      () => verifySigV4Header(req, lookup, OPTS),
      'RequestTimeTooSkewed',
      (e) => {
        assert.equal(e.status, 403);
        assert.equal(e.fields['RequestTime'], req.headers['x-amz-date']![0]);
        assert.equal(e.fields['ServerTime'], '2025-01-15T12:00:00Z');
        assert.equal(e.fields['MaxAllowedSkewMilliseconds'], 900000);
      },
    );
  }
});

test('SigV4 › missing x-amz-content-sha256 → 400 InvalidRequest', async () => {
  const req = await signHeader({ path: '/b/k' });
  expectError(
    () => verifySigV4Header(withHeader(req, 'x-amz-content-sha256', undefined), lookup, OPTS),
    'InvalidRequest',
    (e) => {
      assert.equal(e.message, 'Missing required header for this request: x-amz-content-sha256');
    },
  );
});

test('SigV4 › missing or invalid x-amz-date and no Date → 403 AccessDenied', async () => {
  const req = await signHeader({ path: '/b/k' });
  for (const v of [undefined, ['2025-01-15T12:00:00Z'], ['20250230T120000Z']]) {
    expectError(
      () => verifySigV4Header(withHeader(req, 'x-amz-date', v), lookup, OPTS),
      'AccessDenied',
      (e) => {
        assert.equal(e.message, 'AWS authentication requires a valid Date or x-amz-date header');
      },
    );
  }
});

test('SigV4 › scope date differs from x-amz-date → AuthorizationHeaderMalformed', async () => {
  const req = await signHeader({ path: '/b/k' });
  const auth = authOf(req).replace('/20250115/', '/20250114/');
  expectError(
    () => verifySigV4Header(withHeader(req, 'authorization', [auth]), lookup, OPTS),
    'AuthorizationHeaderMalformed',
    (e) => {
      assert.match(e.message, /Date is not the same as X-Amz-Date/);
    },
  );
});

test('SigV4 › malformed Authorization header → 400 AuthorizationHeaderMalformed', async () => {
  const req = await signHeader({ path: '/b/k' });
  const auth = authOf(req);
  const bad = [
    auth.replace(/, Signature=[0-9a-f]+/, ''), // missing component
    `${auth}, Signature=00`, // duplicate component
    auth.replace('Credential=', 'Cred='),
    auth.replace(`${AK}/`, ''), // credential with 4 parts
    auth.replace('/s3/', '/iam/'), // wrong service
    auth.replace('/aws4_request', '/aws4_reqest'), // wrong terminal
    auth.replace('/20250115/', '/2025011/'), // bad credential date
    auth.replace('AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA256'), // no separator
    auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=host;;x-amz-date'),
  ];
  for (const a of bad) {
    assert.notEqual(a, auth);
    expectError(
      () => verifySigV4Header(withHeader(req, 'authorization', [a]), lookup, OPTS),
      'AuthorizationHeaderMalformed',
      (e) => assert.equal(e.status, 400),
    );
  }
  expectError(() => verifySigV4Header(withHeader(req, 'authorization', [auth, auth]), lookup, OPTS), 'AuthorizationHeaderMalformed');
});

test('SigV4 › host not among SignedHeaders → AuthorizationHeaderMalformed', async () => {
  const signed = await sdkSigner().sign(
    { method: 'GET', protocol: 'http:', hostname: 'localhost', path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { signingDate: new Date(NOW) },
  );
  const req: SignedRequest = { method: 'GET', rawPath: '/b/k', rawQuery: '', headers: { ...distinct(signed.headers), host: [HOST] } };
  expectError(
    () => verifySigV4Header(req, lookup, OPTS),
    'AuthorizationHeaderMalformed',
    (e) => assert.match(e.message, /host/),
  );
});

// ----------------------------------------------------------------------------------------------
// unsigned x-amz-* headers on header auth (checked here, as for presigned requests)

test('SigV4 › header-signed request carrying an unsigned x-amz-* header → 403 AccessDenied naming them; a forged one → SignatureDoesNotMatch first', async () => {
  const req = await signHeader({ method: 'PUT', path: '/bucket/k', headers: { 'x-amz-meta-a': '1' } });
  okHeader(req);
  const added = withHeader(withHeader(req, 'x-amz-copy-source', ['/other/secret']), 'x-amz-tagging', ['a=b']);
  expectError(
    () => verifySigV4Header(added, lookup, OPTS),
    'AccessDenied',
    (e) => {
      assert.match(e.message, /not signed/);
      assert.equal(e.fields['HeadersNotSigned'], 'x-amz-copy-source, x-amz-tagging');
    },
  );
  // The payload-hash claim is exempt; signed x-amz-* headers are fine.
  okHeader(withHeader(req, 'x-amz-content-sha256', ['UNSIGNED-PAYLOAD']));
  // A bad signature is reported as such, whatever else is wrong.
  const forged = withHeader(added, 'authorization', [authOf(req).replace(/Signature=(\w)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`)]);
  expectError(() => verifySigV4Header(forged, lookup, OPTS), 'SignatureDoesNotMatch');
});

test('SigV4 › queryParams handed over by the caller (parsed once) → the same results as parsing rawQuery', async () => {
  const header = await signHeader({ path: '/bucket', query: 'list-type=2&prefix=a%2Fb&delimiter=%2F' });
  const presigned = await presign({ path: '/bucket/k', query: 'response-content-type=text%2Fplain&x-id=GetObject' });
  assert.deepEqual(okHeader({ ...header, queryParams: parseQueryParams(header.rawQuery) }), okHeader(header));
  assert.deepEqual(okQuery({ ...presigned, queryParams: parseQueryParams(presigned.rawQuery) }), okQuery(presigned));
  assert.equal(hasSigV4Query(parseQueryParams(presigned.rawQuery)), true);
  assert.equal(hasSigV4Query(parseQueryParams(header.rawQuery)), false);
  expectError(
    () => verifySigV4Query({ ...presigned, rawQuery: setQueryParam(presigned.rawQuery, 'x-id', 'PutObject'), queryParams: undefined }, lookup, OPTS),
    'SignatureDoesNotMatch',
  );
});

// ----------------------------------------------------------------------------------------------
// signing-key cache

test('SigV4 › deriveSigningKey from the cache = a fresh HMAC chain, for many scopes; the cache stays bounded', () => {
  const fresh = (secret: string, date: string, region: string, service: string): string => {
    const h = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
    return h(h(h(h(`AWS4${secret}`, date), region), service), 'aws4_request').toString('hex');
  };
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 200; i++) {
      const secret = `secret-${i % 7}`;
      const date = `202501${String(1 + (i % 28)).padStart(2, '0')}`;
      const region = i % 3 === 0 ? 'us-east-1' : `eu-west-${i % 3}`;
      assert.equal(deriveSigningKey(secret, date, region, 's3').toString('hex'), fresh(secret, date, region, 's3'));
      // Asked again at once (a hit): still the same key.
      assert.equal(deriveSigningKey(secret, date, region, 's3').toString('hex'), fresh(secret, date, region, 's3'));
      assert.ok(signingKeyCacheSize() <= 64, `cache size ${signingKeyCacheSize()}`);
    }
  }
  // Parts that could run together in a naive cache key stay apart.
  assert.notEqual(deriveSigningKey('b', '20250101', 'a', 's3').toString('hex'), deriveSigningKey('', '20250101', 'ab', 's3').toString('hex'));
});
