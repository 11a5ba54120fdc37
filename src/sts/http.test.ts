// Which requests the STS endpoint takes (isStsRequest): only a POST to `/` naming no bucket that says
// it is for STS; every other request keeps S3's answer (the fuzz test holds S3's error shape to it).
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { isStsRequest, stsMinDuration } from './http.js';

const req = (method: string, url: string, headers: Record<string, string> = {}) =>
  ({ method, url, headers: { host: '127.0.0.1:9000', ...headers } }) as unknown as IncomingMessage;
const sts = 'AWS4-HMAC-SHA256 Credential=AK/20261203/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=x';
const s3 = 'AWS4-HMAC-SHA256 Credential=AK/20261203/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x';
const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

describe('isStsRequest', () => {
  it('table › STS takes only POST / for STS (signed for sts, a form, or ?Action=) with no bucket in Host', () => {
    const rows: Array<[string, IncomingMessage, boolean]> = [
      ['POST / signed for sts', req('POST', '/', { authorization: sts, ...form }), true],
      ['POST /?Action= signed for sts, no body', req('POST', '/?Action=GetCallerIdentity&Version=2011-06-15', { authorization: sts }), true],
      ['POST / unsigned form (anonymous AssumeRole)', req('POST', '/', form), true],
      ['POST /?Action= unsigned', req('POST', '/?Action=AssumeRole', {}), true],
      ['POST / signed for s3', req('POST', '/', { authorization: s3 }), false],
      ['POST / signed for s3, form body', req('POST', '/', { authorization: s3, ...form }), false],
      ['POST /?prefix= unsigned', req('POST', '/?prefix=', {}), false],
      ['POST / unsigned, text/plain', req('POST', '/', { 'content-type': 'text/plain' }), false],
      ['GET /?Action= (ListBuckets stays S3)', req('GET', '/?Action=GetCallerIdentity', { authorization: sts }), false],
      ['POST /bucket (PostObject)', req('POST', '/bucket', form), false],
      ['POST / of a virtual-hosted bucket', req('POST', '/', { host: 'photos.s3.example.com', authorization: sts, ...form }), false],
    ];
    for (const [name, r, expected] of rows) assert.equal(isStsRequest(r, ['s3.example.com']), expected, name);
  });

  it('stsMinDuration › 900 unless STRATA_TEST_STS_MIN_DURATION with NODE_ENV=test', () => {
    assert.equal(stsMinDuration({}), 900);
    assert.equal(stsMinDuration({ STRATA_TEST_STS_MIN_DURATION: '1' }), 900);
    assert.equal(stsMinDuration({ STRATA_TEST_STS_MIN_DURATION: '1', NODE_ENV: 'test' }), 1);
    assert.equal(stsMinDuration({ STRATA_TEST_STS_MIN_DURATION: 'x', NODE_ENV: 'test' }), 900);
  });
});
