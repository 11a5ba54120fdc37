// Range parsing and conditional-request evaluation against S3's documented behaviour.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObjectRecord } from '../store/types.js';
import { S3Error } from './errors.js';
import { checkConditionals, etagMatches, parseRange } from './preconditions.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof S3Error ? e.code : 'not-an-S3Error';
  }
}

describe('parseRange', () => {
  const cases: Array<[string | undefined, number, { start: number; end: number } | undefined | 'InvalidRange']> = [
    [undefined, 100, undefined],
    ['bytes=0-0', 100, { start: 0, end: 0 }],
    ['bytes=0-', 100, { start: 0, end: 99 }],
    ['bytes=-1', 100, { start: 99, end: 99 }],
    ['bytes=-5000', 100, { start: 0, end: 99 }],
    ['bytes=99-200', 100, { start: 99, end: 99 }],
    ['bytes=100-', 100, 'InvalidRange'],
    ['bytes=-0', 100, 'InvalidRange'],
    ['bytes=0-0', 0, 'InvalidRange'],
    ['bytes=-5', 0, 'InvalidRange'],
    ['bytes=33-10', 100, undefined],
    ['bytes=abc', 100, undefined],
    ['bytes=0-1,5-6', 100, undefined],
    ['items=0-1', 100, undefined],
    ['bytes=-', 100, undefined],
  ];
  for (const [header, size, want] of cases) {
    it(`Range ${header} on ${size} bytes → ${JSON.stringify(want)}`, () => {
      if (want === 'InvalidRange') {
        try {
          parseRange(header, size);
          assert.fail('expected InvalidRange');
        } catch (e) {
          assert.ok(e instanceof S3Error);
          assert.equal(e.code, 'InvalidRange');
          assert.equal(e.status, 416);
          assert.equal(e.headers['content-range'], `bytes */${size}`);
        }
      } else {
        assert.deepEqual(parseRange(header, size), want);
      }
    });
  }
});

describe('conditionals', () => {
  const lastModified = Date.parse('2025-01-02T03:04:05.678Z');
  const rec = { etag: '"abc"', lastModified } as ObjectRecord;
  const before = 'Wed, 01 Jan 2025 00:00:00 GMT';
  const after = 'Fri, 03 Jan 2025 00:00:00 GMT';
  const same = new Date(Math.floor(lastModified / 1000) * 1000).toUTCString();

  it('etagMatches › quoted, unquoted, weak, lists and * → match', () => {
    assert.ok(etagMatches('"abc"', '"abc"'));
    assert.ok(etagMatches('abc', '"abc"'));
    assert.ok(etagMatches('W/"abc"', '"abc"'));
    assert.ok(etagMatches('"x", "abc"', '"abc"'));
    assert.ok(etagMatches('*', '"abc"'));
    assert.ok(!etagMatches('"abd"', '"abc"'));
  });
  it('If-Match mismatch → 412', () =>
    assert.equal(
      code(() => checkConditionals(rec, { ifMatch: '"x"' }, 'read')),
      'PreconditionFailed',
    ));
  it('If-Match match + If-Unmodified-Since failing → passes (If-Match wins)', () =>
    assert.equal(
      code(() => checkConditionals(rec, { ifMatch: '"abc"', ifUnmodifiedSince: before }, 'read')),
      undefined,
    ));
  it('If-Unmodified-Since before modification → 412', () =>
    assert.equal(
      code(() => checkConditionals(rec, { ifUnmodifiedSince: before }, 'read')),
      'PreconditionFailed',
    ));
  it('If-Unmodified-Since at the same second → passes', () =>
    assert.equal(
      code(() => checkConditionals(rec, { ifUnmodifiedSince: same }, 'read')),
      undefined,
    ));
  it('If-None-Match match → 304 with ETag', () => {
    try {
      checkConditionals(rec, { ifNoneMatch: '"abc"' }, 'read');
      assert.fail('expected NotModified');
    } catch (e) {
      assert.ok(e instanceof S3Error && e.code === 'NotModified' && e.status === 304);
      assert.equal(e.headers.etag, '"abc"');
    }
  });
  it('If-None-Match mismatch + If-Modified-Since after → 200 (If-None-Match wins)', () =>
    assert.equal(
      code(() => checkConditionals(rec, { ifNoneMatch: '"x"', ifModifiedSince: after }, 'read')),
      undefined,
    ));
  it('If-Modified-Since after modification → 304', () =>
    assert.equal(
      code(() => checkConditionals(rec, { ifModifiedSince: after }, 'read')),
      'NotModified',
    ));
  it('If-Modified-Since before modification → 200', () =>
    assert.equal(
      code(() => checkConditionals(rec, { ifModifiedSince: before }, 'read')),
      undefined,
    ));
  it('If-Modified-Since invalid date → ignored', () =>
    assert.equal(
      code(() => checkConditionals(rec, { ifModifiedSince: 'garbage' }, 'read')),
      undefined,
    ));
  it('copy source If-None-Match match → 412, not 304', () =>
    assert.equal(
      code(() => checkConditionals(rec, { ifNoneMatch: '"abc"' }, 'copy-source')),
      'PreconditionFailed',
    ));
});
