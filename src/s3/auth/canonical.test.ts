// The fast paths of canonical.ts against straightforward reference implementations: the canonical
// query and URI (already-canonical components taken as they are, no sort when in order), percentDecode
// without a Buffer for ASCII, and the query parsed once (parseQueryParams).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalComponent,
  canonicalQuery,
  canonicalUri,
  isCanonicalComponent,
  parseQueryParams,
  parseRawQuery,
  percentDecode,
  percentDecodeToBytes,
  splitRawQuery,
  uriEncodeBytes,
} from './canonical.js';

/** canonicalComponent by its definition: decode, then encode (no fast path). */
function slowComponent(raw: string, encodeSlash: boolean): string {
  return uriEncodeBytes(percentDecodeToBytes(raw), encodeSlash);
}

/** The canonical query as it was computed before the fast path: decode, encode, sort, join. */
function referenceCanonicalQuery(rawPairs: ReadonlyArray<readonly [string, string]>): string {
  const encoded = rawPairs.map(([n, v]) => [slowComponent(n, true), slowComponent(v, true)] as const);
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return encoded.map(([n, v]) => `${n}=${v}`).join('&');
}

/** Deterministic pseudo-random numbers (a failing case can be replayed). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random query-ish text: escapes (valid, invalid, either case), reserved and non-ASCII characters. */
function randomComponent(next: () => number): string {
  const atoms = [
    'a',
    'Z',
    '0',
    '-',
    '.',
    '_',
    '~',
    '%',
    '%2F',
    '%2f',
    '%41',
    '%7E',
    '%7e',
    '%20',
    '%C3%A9',
    '%c3%a9',
    '%FF',
    '%G1',
    '%4',
    '+',
    '/',
    ' ',
    '!',
    '*',
    "'",
    '(',
    ')',
    'é',
    '日本',
    '\u{1F600}',
    '=',
    '?',
    '#',
    ':',
    '@',
    '%25',
    '%00',
  ];
  let out = '';
  const n = Math.floor(next() * 8);
  for (let i = 0; i < n; i++) out += atoms[Math.floor(next() * atoms.length)];
  return out;
}

const QUERIES = [
  '',
  'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20250115%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250115T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host',
  'X-Amz-SignedHeaders=host&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20250115T120000Z',
  'prefix=a%2Fb&list-type=2&delimiter=%2F',
  'prefix=a/b&delimiter=/',
  'prefix=a%2fb',
  'prefix=%41%42C',
  'acl',
  'acl=',
  'uploads&x-id=CreateMultipartUpload',
  'a=2&a=1&a=10',
  'b=1&a=2&a=1',
  'name=hello world',
  'name=hello+world',
  'name=caf%C3%A9&name=café',
  'key=%E6%97%A5%E6%9C%AC',
  'weird=%&weird=%4&weird=%zz',
  'response-content-disposition=attachment%3B%20filename%3D%22a.txt%22',
  'x=~&y=%7E&z=%7e',
  'A=1&a=1&_=1&-=1&.=1&~=1',
  'dup&dup&dup=',
];

describe('canonicalQuery fast path', () => {
  it('equals the reference on a table of queries', () => {
    for (const q of QUERIES) {
      const pairs = splitRawQuery(q);
      assert.equal(canonicalQuery(pairs), referenceCanonicalQuery(pairs), q);
    }
  });

  it('equals the reference on 5000 random queries', () => {
    const next = rng(20251125);
    for (let i = 0; i < 5000; i++) {
      const pairs: Array<[string, string]> = [];
      const n = Math.floor(next() * 6);
      for (let j = 0; j < n; j++) pairs.push([randomComponent(next), randomComponent(next)]);
      assert.equal(canonicalQuery(pairs), referenceCanonicalQuery(pairs), JSON.stringify(pairs));
    }
  });

  it('isCanonicalComponent(s, slash) is exactly "decode then encode gives s back", for query components and paths', () => {
    const table = [
      '',
      'abc',
      'A-Z_0.9~',
      '%2F',
      '%2f',
      '%41',
      '%7E',
      '%20',
      '%',
      '%2',
      '%GG',
      'a/b',
      '/a//b/',
      'a b',
      'é',
      '%C3%A9',
      '%c3%A9',
      '%25',
      '%00',
      '+',
      '/%2F/',
    ];
    const next = rng(7);
    const all = [...table, ...Array.from({ length: 5000 }, () => randomComponent(next))];
    for (const s of all) {
      for (const slash of [true, false]) {
        assert.equal(isCanonicalComponent(s, slash), slowComponent(s, slash) === s, `${s} ${slash}`);
        assert.equal(canonicalComponent(s, slash), slowComponent(s, slash), `${s} ${slash}`);
      }
    }
  });

  it('canonicalUri equals the slow form on paths as clients send them', () => {
    const next = rng(11);
    const paths = ['', '/', '/b/k', '/b/a%20b', '/b/a b', '/b/%7Euser', '/b/~user', '/b/a%2Fb', '/b/./../k', '/b//k', '/b/%E6%97%A5', '/b/%e6%97%a5', '/b/%FF'];
    for (let i = 0; i < 2000; i++) paths.push(`/${randomComponent(next)}/${randomComponent(next)}`);
    for (const p of paths) assert.equal(canonicalUri(p), p === '' ? '/' : slowComponent(p, false), p);
  });
});

describe('percentDecode', () => {
  it('equals percentDecodeToBytes(s).toString("utf8") on a table and on random text', () => {
    const table = [
      '',
      'plain',
      'a%2Fb',
      '%41%42',
      '%e6%97%a5',
      '%E6%97%A5x',
      'é%41',
      '%C3',
      '%C3%28',
      '%FF%FE',
      '100%',
      '%4',
      '%zz%41',
      '+%2B+',
      '%00',
      'x%7f',
      'x%80',
      '\u{1F600}%20',
      '\ud800%41',
    ];
    for (const s of table) assert.equal(percentDecode(s), percentDecodeToBytes(s).toString('utf8'), s);
    const next = rng(42);
    for (let i = 0; i < 5000; i++) {
      const s = randomComponent(next);
      assert.equal(percentDecode(s), percentDecodeToBytes(s).toString('utf8'), s);
    }
  });
});

describe('parseQueryParams', () => {
  it('gives the pieces of splitRawQuery and the decoding of parseRawQuery, in order', () => {
    const next = rng(99);
    const queries = [
      ...QUERIES,
      '&&a=1&&',
      '=v',
      'k=a=b',
      ...Array.from({ length: 500 }, () => Array.from({ length: Math.floor(next() * 5) }, () => randomComponent(next)).join('&')),
    ];
    for (const q of queries) {
      const params = parseQueryParams(q);
      assert.deepEqual(
        params.map((p) => [p.rawName, p.rawValue]),
        splitRawQuery(q),
        q,
      );
      assert.deepEqual(
        params.map((p) => [p.name, p.value]),
        parseRawQuery(q),
        q,
      );
      const pieces = q.split('&').filter((p) => p !== '');
      assert.deepEqual(
        params.map((p) => p.hasValue),
        pieces.map((p) => p.includes('=')),
        q,
      );
    }
  });
});
