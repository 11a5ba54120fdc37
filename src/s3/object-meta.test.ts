// httpDateCache: the cached RFC 7231 date is exactly new Date(ms).toUTCString(), to the second;
// storedContentEncoding: the header as sent, without the aws-chunked token.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpDateCache, storedContentEncoding } from './object-meta.js';

describe('storedContentEncoding', () => {
  it('storedContentEncoding › no aws-chunked → exactly as sent; aws-chunked → only that token and its separator removed', () => {
    assert.equal(storedContentEncoding('deflate, gzip'), 'deflate, gzip');
    assert.equal(storedContentEncoding('gzip,br'), 'gzip,br');
    assert.equal(storedContentEncoding('GZip'), 'GZip');
    assert.equal(storedContentEncoding('aws-chunked, gzip'), 'gzip');
    assert.equal(storedContentEncoding('aws-chunked,gzip'), 'gzip');
    assert.equal(storedContentEncoding('gzip, aws-chunked'), 'gzip');
    assert.equal(storedContentEncoding('deflate, aws-chunked, gzip'), 'deflate, gzip');
    assert.equal(storedContentEncoding('AWS-Chunked'), undefined);
    assert.equal(storedContentEncoding('aws-chunked'), undefined);
    assert.equal(storedContentEncoding(''), undefined);
    assert.equal(storedContentEncoding(undefined), undefined);
  });
});

describe('httpDateCache', () => {
  it('gives exactly toUTCString() of the asked time, across second boundaries, backwards and for odd values', () => {
    const date = httpDateCache();
    const base = Date.UTC(2026, 10, 25, 3, 15, 59);
    const times = [
      base,
      base + 1,
      base + 999,
      base + 1000,
      base + 999,
      base - 1,
      base - 1000,
      base + 1500,
      base + 60_000,
      base + 86_400_000,
      0,
      -1,
      -1000,
      -1001,
      999,
      1000,
      Date.UTC(1999, 11, 31, 23, 59, 59, 999),
      Date.UTC(2000, 0, 1),
      8.64e15,
      NaN,
      base,
      NaN,
      base,
    ];
    for (const t of times) assert.equal(date(t), new Date(t).toUTCString(), String(t));
  });

  it('follows the clock second by second (the Date header of each response is its own second)', () => {
    const date = httpDateCache();
    const start = Date.UTC(2026, 0, 1);
    for (let t = start; t < start + 5000; t += 37) assert.equal(date(t), new Date(t).toUTCString());
    const now = Date.now();
    assert.equal(date(now), new Date(now).toUTCString());
  });

  it('two caches do not disturb each other', () => {
    const a = httpDateCache();
    const b = httpDateCache();
    const t1 = Date.UTC(2020, 1, 29, 12, 0, 0);
    const t2 = Date.UTC(2030, 5, 1, 0, 0, 1);
    for (let i = 0; i < 10; i++) {
      assert.equal(a(t1 + i), new Date(t1 + i).toUTCString());
      assert.equal(b(t2 + i * 400), new Date(t2 + i * 400).toUTCString());
    }
  });
});
