// Unit tests for request dates (http-date.ts) and their use: every Date form clients send, read by
// parseRequestDate; SigV4 requests dated by a Date header in those forms (signed independently here);
// SigV2 requests dated before 1970.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { S3Error } from '../errors.js';
import { parseRequestDate } from './http-date.js';
import { verifySigV2Header } from './sigv2.js';
import { verifySigV4Header, type SignedRequest } from './sigv4.js';
import { AK, EMPTY_SHA, lookup, NOW, OPTS, SK } from './sigv4.fixtures.js';

test('Request dates › every RFC 7231 / RFC 822 / RFC 1123 / RFC 850 / asctime form of one instant → that instant', () => {
  // NOW is Wed, 15 Jan 2025 12:00:00 UTC.
  const forms = [
    'Wed, 15 Jan 2025 12:00:00 GMT', // IMF-fixdate
    'Wed, 15 Jan 2025 12:00:00 +0000', // s3cmd, Python email.utils
    'Wed, 15 Jan 2025 12:00:00 -0000', // RFC 2822 "unknown local zone", still UTC
    'Wed, 15 Jan 2025 12:00:00 UT',
    'Wed, 15 Jan 2025 12:00:00 UTC',
    'Wed, 15 Jan 2025 12:00:00 Z',
    'Wed, 15 Jan 2025 12:00:00', // no zone: UTC
    'Wed, 15 Jan 2025 13:00:00 +0100',
    'Wed, 15 Jan 2025 06:30:00 -0530',
    'Wed, 15 Jan 2025 07:00:00 EST',
    'Wed, 15 Jan 2025 04:00:00 PST',
    '15 Jan 2025 12:00:00 GMT', // no weekday
    'Wed 15 Jan 2025 12:00:00 GMT', // weekday without comma
    'wed, 15 jan 2025 12:00:00 gmt', // any case
    'Wed, 15 Jan 2025 12:00 GMT', // RFC 822 allows no seconds
    'Wednesday, 15-Jan-25 12:00:00 GMT', // RFC 850
    'Wed Jan 15 12:00:00 2025', // asctime
    '  Wed, 15 Jan 2025 12:00:00 GMT  ',
    '20250115T120000Z', // ISO 8601 basic (x-amz-date)
  ];
  for (const f of forms) assert.equal(parseRequestDate(f), NOW, f);
  assert.equal(parseRequestDate('Sun Nov  6 08:49:37 1994'), Date.UTC(1994, 10, 6, 8, 49, 37), 'asctime, day padded with a space');
  assert.equal(parseRequestDate('Sunday, 06-Nov-94 08:49:37 GMT'), Date.UTC(1994, 10, 6, 8, 49, 37), 'RFC 850, 2-digit year 94');
  assert.equal(parseRequestDate('Wed, 31 Dec 1969 23:59:59 GMT'), -1000, 'before 1970: negative');
  assert.equal(parseRequestDate('Thu, 01 Jan 0015 00:00:00 GMT'), new Date('0015-01-01T00:00:00Z').getTime(), 'year 0015, not 1915');
});

test('Request dates › impossible or foreign text → undefined', () => {
  for (const bad of [
    '',
    'Bad Date',
    '\x07',
    'yesterday',
    'Wed, 30 Feb 2025 12:00:00 GMT',
    'Wed, 15 Jan 2025 24:00:00 GMT',
    'Wed, 15 Jan 2025 12:60:00 GMT',
    'Wed, 15 Foo 2025 12:00:00 GMT',
    'Wed, 15 Jan 2025 12:00:00 +0160',
    'Wed, 15 Jan 2025 12:00:00 XYZ',
    '20250230T120000Z',
    '2025-01-15T12:00:00Z',
    '1736942400',
  ]) {
    assert.equal(parseRequestDate(bad), undefined, JSON.stringify(bad));
  }
});

/** A PUT signed with SigV4 over a Date header (no x-amz-date), signed independently of the code under test. */
function signedWithDate(date: string, scopeDate: string, amzDate: string): SignedRequest {
  const canonical = [
    'PUT',
    '/b/k',
    '',
    `date:${date.trim()}`,
    'host:localhost',
    `x-amz-content-sha256:${EMPTY_SHA}`,
    '',
    'date;host;x-amz-content-sha256',
    EMPTY_SHA,
  ].join('\n');
  const scope = `${scopeDate}/us-east-1/s3/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let k: Buffer | string = `AWS4${SK}`;
  for (const part of [scopeDate, 'us-east-1', 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  const sig = createHmac('sha256', k).update(sts).digest('hex');
  return {
    method: 'PUT',
    rawPath: '/b/k',
    rawQuery: '',
    headers: {
      host: ['localhost'],
      date: [date],
      'x-amz-content-sha256': [EMPTY_SHA],
      authorization: [`AWS4-HMAC-SHA256 Credential=${AK}/${scope}, SignedHeaders=date;host;x-amz-content-sha256, Signature=${sig}`],
    },
  };
}

test('SigV4 › Date header (no x-amz-date) in any form clients send, zones -0000/+0000/GMT/UT/Z included → verifies, request time in ISO basic', () => {
  for (const date of [
    'Wed, 15 Jan 2025 12:00:00 GMT',
    'Wed, 15 Jan 2025 12:00:00 +0000',
    'Wed, 15 Jan 2025 12:00:00 -0000',
    'Wed, 15 Jan 2025 12:00:00 UT',
    'Wed, 15 Jan 2025 12:00:00 Z',
    'Wed, 15 Jan 2025 13:00:00 +0100',
    'Wednesday, 15-Jan-25 12:00:00 GMT',
    'Wed Jan 15 12:00:00 2025',
  ]) {
    const r = verifySigV4Header(signedWithDate(date, '20250115', '20250115T120000Z'), lookup, OPTS);
    assert.equal(r.amzDate, '20250115T120000Z', date);
  }
  // The string to sign carries the UTC instant: an offset date signed with its local wall clock fails.
  assert.throws(
    () => verifySigV4Header(signedWithDate('Wed, 15 Jan 2025 13:00:00 +0100', '20250115', '20250115T130000Z'), lookup, OPTS),
    (e: unknown) => e instanceof S3Error && e.code === 'SignatureDoesNotMatch',
  );
});

test('SigV4 › Date header that is no date → 403 AccessDenied; 16 min off → RequestTimeTooSkewed', () => {
  assert.throws(
    () => verifySigV4Header(signedWithDate('Bad Date', '20250115', '20250115T120000Z'), lookup, OPTS),
    (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied' && e.status === 403,
  );
  assert.throws(
    () => verifySigV4Header(signedWithDate('Wed, 15 Jan 2025 12:16:00 GMT', '20250115', '20250115T121600Z'), lookup, OPTS),
    (e: unknown) => e instanceof S3Error && e.code === 'RequestTimeTooSkewed',
  );
});

/** A SigV2 GET dated by `date` (signed independently: HMAC-SHA1 of the string to sign). */
function v2WithDate(date: string): SignedRequest {
  const sig = createHmac('sha1', SK).update(`GET\n\n\n${date}\n/b/k`).digest('base64');
  return { method: 'GET', rawPath: '/b/k', rawQuery: '', headers: { date: [date], authorization: [`AWS ${AK}:${sig}`] } };
}

test('SigV2 › Date header before 1970 → 403 AccessDenied, not RequestTimeTooSkewed; far future → RequestTimeTooSkewed', () => {
  for (const date of ['Tue, 07 Jul 1950 21:53:04 GMT', 'Wed, 31 Dec 1969 23:59:59 GMT', 'Thursday, 01-Jan-70 00:00:00 +0100']) {
    assert.throws(
      () => verifySigV2Header(v2WithDate(date), lookup, { now: NOW }),
      (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied' && e.status === 403,
      date,
    );
  }
  assert.throws(
    () => verifySigV2Header(v2WithDate('Tue, 07 Jul 9999 21:53:04 GMT'), lookup, { now: NOW }),
    (e: unknown) => e instanceof S3Error && e.code === 'RequestTimeTooSkewed',
  );
  for (const date of ['Wed, 15 Jan 2025 12:00:00 -0000', 'Wed Jan 15 12:00:00 2025', 'Wednesday, 15-Jan-25 12:00:00 GMT']) {
    assert.equal(verifySigV2Header(v2WithDate(date), lookup, { now: NOW }).accessKey, AK, date);
  }
});
