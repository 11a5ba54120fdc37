// The listing answers (ListObjects, ListObjectsV2, ListObjectVersions) are written straight to XML.
// Here they are compared byte for byte with what the generic builder (buildXml) makes of the shapes
// the handlers used to build, for tricky keys (XML special characters, control characters,
// non-ASCII, a BOM, NUL), checksums, encoding-type=url, fetch-owner, delimiters, markers, tokens
// and truncation, on both metadata stores.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryDataStore } from '../../store/data/memory.js';
import { SqliteMetaStore } from '../../store/meta/sqlite.js';
import { Store } from '../../store/store.js';
import { NULL_VERSION, type MetaStore, type ObjectMeta, type ObjectRecord } from '../../store/types.js';
import type { BucketRequest, RequestContext, S3Response } from '../context.js';
import { ListingBody, encoderFor, isoTime, parseEncodingType, parseMaxKeys, s3UrlEncode } from '../listing-params.js';
import { ownerOf } from '../owner.js';
import { buildXml, escapeXmlText, type XmlBody, type XmlNode } from '../xml.js';
import { listObjectVersions } from './list-object-versions.js';
import { listObjects } from './list-objects.js';
import { decodeToken, encodeToken, listObjectsV2 } from './list-objects-v2.js';

const KEYS = [
  'plain',
  'a b',
  'a+b',
  '%41',
  '%2F',
  'a&b<c>"d\'e',
  'amp&amp;',
  '<tag/>',
  '\x01ctl\x08\x0b\x0c\x0e\x1f',
  'tab\tnl\ncr\r',
  'del\x7f',
  'nul\0x',
  '\uFEFFbom',
  'é',
  'ü/ö',
  '日本/語',
  '\u{E000}',
  '\u{FFFD}',
  '\u{10000}',
  '😀',
  '😀/a',
  '../etc/passwd',
  'dir/',
  'dir/x',
  'dir/x/y',
  'dir/&/z',
  'dir/a b/c',
  'dirx',
  'z'.repeat(1024),
  '?q=1#f',
  'back\\slash',
  ']]>',
  'x'.repeat(3) + '&',
];

/** Checksums by key index: none, one, several, an empty object. */
function checksumsFor(i: number): ObjectMeta['checksums'] {
  switch (i % 4) {
    case 1:
      return { crc32: 'AAAAAA==' };
    case 2:
      return { crc32c: 'AAAAAA==', sha256: 'x', crc64nvme: 'y' };
    case 3:
      return i % 8 === 3 ? {} : undefined;
    default:
      return undefined;
  }
}

function record(key: string, i: number): ObjectRecord {
  const checksums = checksumsFor(i);
  return {
    bucket: 'b',
    key,
    versionId: NULL_VERSION,
    isLatest: true,
    isDeleteMarker: false,
    size: i * 1000 + (i % 3),
    etag:
      i % 7 === 4
        ? ['"we&ird"', 'unquoted', '"a"b"', '""', '"\x01"'][i % 5]!
        : i % 5 === 0
          ? `"${'0123456789abcdef'.repeat(2)}-${i}"`
          : `"${String(i).padStart(32, 'a')}"`,
    lastModified: [0, 1_700_000_000_000 + i * 12_345, 1_700_000_000_000 + i * 86_399_999, 951_782_400_000 + i][i % 4]!,
    storageClass: i % 6 === 0 ? 'REDUCED_REDUNDANCY' : 'STANDARD',
    meta: { contentType: 'text/plain', user: { checksums: 'not these', x: '"checksums":{"sha1":"no"}' }, ...(checksums ? { checksums } : {}) },
    data: [],
  };
}

// ---- the handlers as they were (shapes for buildXml), the reference ------------------------------

function objectEntry(rec: ObjectRecord, enc: (s: string) => string | undefined, owner?: string): XmlNode {
  return {
    Key: enc(rec.key),
    LastModified: new Date(rec.lastModified).toISOString(),
    ETag: rec.etag,
    ...(rec.meta.checksums && Object.keys(rec.meta.checksums).length > 0
      ? { ChecksumAlgorithm: Object.keys(rec.meta.checksums).map((a) => a.toUpperCase()) }
      : {}),
    Size: rec.size,
    Owner: owner !== undefined ? ownerOf(owner) : undefined,
    StorageClass: rec.storageClass,
  };
}

/** The page the handler would list, as full records (read back one by one). */
async function pageRecords(ctx: RequestContext, meta: MetaStore, after: string, maxKeys: number) {
  const page = await ctx.store.list({ bucket: 'b', prefix: ctx.query.get('prefix') ?? '', delimiter: ctx.query.get('delimiter') ?? '', after, maxKeys });
  const records = [];
  for (const o of page.objects) records.push((await meta.getObject('b', o.key, undefined, false))!); // metadata only
  return { ...page, records };
}

async function referenceV2(ctx: RequestContext, meta: MetaStore): Promise<XmlBody> {
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const token = ctx.query.get('continuation-token') || undefined;
  const startAfter = ctx.query.get('start-after');
  const maxKeys = parseMaxKeys(ctx);
  const encoding = parseEncodingType(ctx);
  const fetchOwner = ctx.query.get('fetch-owner') === 'true';
  const enc = encoderFor(encoding);
  let after = token !== undefined ? decodeToken(token) : '';
  if (startAfter !== undefined && Buffer.compare(Buffer.from(startAfter), Buffer.from(after)) > 0) after = startAfter;
  const page = await pageRecords(ctx, meta, after, maxKeys);
  const owner = fetchOwner ? ctx.auth!.accessKey : undefined;
  return {
    root: 'ListBucketResult',
    content: {
      Name: 'b',
      Prefix: enc(prefix),
      Delimiter: delimiter !== '' ? enc(delimiter) : undefined,
      MaxKeys: maxKeys,
      KeyCount: page.objects.length + page.commonPrefixes.length,
      IsTruncated: page.isTruncated,
      EncodingType: encoding,
      ContinuationToken: token,
      NextContinuationToken: page.isTruncated && page.nextAfter !== undefined ? encodeToken(page.nextAfter) : undefined,
      StartAfter: startAfter !== undefined ? enc(startAfter) : undefined,
      Contents: page.records.map((o) => objectEntry(o, enc as (s: string) => string, owner)),
      CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
    },
  };
}

async function referenceV1(ctx: RequestContext, meta: MetaStore): Promise<XmlBody> {
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const maxKeys = parseMaxKeys(ctx);
  const encoding = parseEncodingType(ctx);
  const enc = encoderFor(encoding);
  const page = await pageRecords(ctx, meta, marker, maxKeys);
  const owner = ctx.auth!.accessKey;
  return {
    root: 'ListBucketResult',
    content: {
      Name: 'b',
      Prefix: prefix, // echoed as sent, also with encoding-type=url (see list-objects.ts)
      Marker: enc(marker),
      NextMarker: page.isTruncated && delimiter !== '' ? enc(page.nextAfter) : undefined,
      MaxKeys: maxKeys,
      Delimiter: delimiter !== '' ? enc(delimiter) : undefined,
      IsTruncated: page.isTruncated,
      EncodingType: encoding,
      Contents: page.records.map((o) => objectEntry(o, enc as (s: string) => string, owner)),
      CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
    },
  };
}

async function referenceVersions(ctx: RequestContext, meta: MetaStore): Promise<XmlBody> {
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const versionIdMarker = ctx.query.get('version-id-marker');
  const maxKeys = parseMaxKeys(ctx);
  const encoding = parseEncodingType(ctx);
  const enc = encoderFor(encoding);
  const page = await pageRecords(ctx, meta, keyMarker, maxKeys);
  const owner = ctx.auth!.accessKey;
  const lastIsPrefix = page.nextAfter !== undefined && page.commonPrefixes.includes(page.nextAfter);
  return {
    root: 'ListVersionsResult',
    content: {
      Name: 'b',
      Prefix: enc(prefix),
      KeyMarker: enc(keyMarker),
      VersionIdMarker: versionIdMarker ?? '',
      NextKeyMarker: page.isTruncated ? enc(page.nextAfter) : undefined,
      NextVersionIdMarker: page.isTruncated && !lastIsPrefix ? 'null' : undefined,
      MaxKeys: maxKeys,
      Delimiter: delimiter !== '' ? enc(delimiter) : undefined,
      IsTruncated: page.isTruncated,
      EncodingType: encoding,
      Version: page.records.map((o) => {
        const e = objectEntry(o, enc as (s: string) => string, owner);
        return {
          Key: e.Key,
          VersionId: o.versionId,
          IsLatest: true,
          LastModified: e.LastModified,
          ETag: e.ETag,
          Size: e.Size,
          Owner: e.Owner,
          StorageClass: e.StorageClass,
        };
      }),
      CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
    },
  };
}

// ---- the comparison ------------------------------------------------------------------------------

function ctxOf(store: Store, query: Record<string, string>, accessKey = 'AKID&<"owner">'): BucketRequest {
  const bucketRecord = { name: 'b', region: 'us-east-1', createdAt: 0, versioning: '', owner: 'root' };
  return {
    store,
    method: 'GET',
    bucket: 'b',
    bucketRecord,
    endpoint: { op: 'ListObjects', bucket: 'b' },
    headers: {},
    query: new Map(Object.entries(query)),
    auth: { accessKey },
    // The root user (owner of `b`) with this access key: listings show the bucket owner's canonical user.
    config: { accessKey },
    principal: { accessKeyId: accessKey, userId: 'root', kind: 'root' },
  } as unknown as BucketRequest;
}

function bodyText(r: S3Response): string {
  assert.equal(r.status, 200);
  assert.equal(r.headers?.['content-type'], 'application/xml');
  assert.ok(Buffer.isBuffer(r.body));
  return r.body.toString('utf8');
}

const QUERIES: Record<string, string>[] = [];
for (const prefix of [undefined, 'dir/', 'a', '😀', 'nothing']) {
  for (const delimiter of [undefined, '/', '&', 'é']) {
    for (const maxKeys of [undefined, '0', '1', '3']) {
      for (const encoding of [undefined, 'url']) {
        const q: Record<string, string> = {};
        if (prefix !== undefined) q['prefix'] = prefix;
        if (delimiter !== undefined) q['delimiter'] = delimiter;
        if (maxKeys !== undefined) q['max-keys'] = maxKeys;
        if (encoding !== undefined) q['encoding-type'] = encoding;
        QUERIES.push(q);
      }
    }
  }
}

const STORES: [string, () => MetaStore][] = [['sqlite', () => SqliteMetaStore.open(':memory:')]];

for (const [storeName, open] of STORES) {
  describe(`listing XML on ${storeName} = buildXml of the former shapes`, () => {
    const meta = open();
    const store = new Store(meta, new MemoryDataStore());
    before(async () => {
      await store.createBucket('b', 'us-east-1');
      for (const [i, k] of KEYS.entries()) await store.commitObject(record(k, i));
    });
    after(() => store.close());

    it('ListObjectsV2 › every query, then its pages by continuation token; start-after; fetch-owner', async () => {
      let compared = 0;
      for (const base of QUERIES) {
        for (const extra of [{}, { 'fetch-owner': 'true' }, { 'start-after': 'a&b' }, { 'start-after': 'dir/x', 'fetch-owner': 'false' }] as Record<
          string,
          string
        >[]) {
          let q: Record<string, string> = { ...base, ...extra };
          for (let pages = 0; pages < 50; pages++) {
            const ctx = ctxOf(store, q);
            const got = bodyText(await listObjectsV2(ctx));
            assert.equal(got, buildXml(await referenceV2(ctx, meta)), JSON.stringify(q));
            compared++;
            const next = /<NextContinuationToken>([^<]*)</.exec(got);
            if (!next) break;
            q = { ...q, 'continuation-token': next[1]! };
          }
        }
      }
      assert.ok(compared > 500, `${compared} pages compared`);
    });

    it('ListObjects › every query, then its pages by marker', async () => {
      for (const base of QUERIES) {
        let q: Record<string, string> = { ...base };
        for (let pages = 0; pages < 50; pages++) {
          const ctx = ctxOf(store, q);
          const got = bodyText(await listObjects(ctx));
          assert.equal(got, buildXml(await referenceV1(ctx, meta)), JSON.stringify(q));
          if (!got.includes('<IsTruncated>true</IsTruncated>')) break;
          const page = await store.list({
            bucket: 'b',
            prefix: q['prefix'] ?? '',
            delimiter: q['delimiter'] ?? '',
            after: q['marker'] ?? '',
            maxKeys: parseMaxKeys(ctx),
          });
          q = { ...q, marker: page.nextAfter! };
        }
      }
    });

    it('ListObjectVersions › every query, then its pages by NextKeyMarker / NextVersionIdMarker', async () => {
      const unescapeXml = (x: string) =>
        x
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&quot;/g, '"')
          .replace(/&amp;/g, '&');
      for (const base of QUERIES.filter((q) => q['encoding-type'] === undefined)) {
        let q: Record<string, string> = { ...base };
        for (let pages = 0; pages < 50; pages++) {
          const ctx = ctxOf(store, q);
          const got = bodyText(await listObjectVersions(ctx));
          assert.equal(got, buildXml(await referenceVersions(ctx, meta)), JSON.stringify(q));
          if (!got.includes('<IsTruncated>true</IsTruncated>')) break;
          const km = /<NextKeyMarker>([^<]*)<\/NextKeyMarker>/.exec(got)![1]!;
          const vm = /<NextVersionIdMarker>([^<]*)<\/NextVersionIdMarker>/.exec(got)?.[1];
          q = { ...base, 'key-marker': unescapeXml(km), ...(vm === undefined ? {} : { 'version-id-marker': vm }) };
        }
      }
    });

    it('ListObjectVersions › every query, with and without markers', async () => {
      for (const base of QUERIES) {
        for (const extra of [{}, { 'key-marker': 'a&b' }, { 'key-marker': 'dir/', 'version-id-marker': 'null' }, { 'key-marker': '😀' }] as Record<
          string,
          string
        >[]) {
          const q = { ...base, ...extra };
          const ctx = ctxOf(store, q);
          assert.equal(bodyText(await listObjectVersions(ctx)), buildXml(await referenceVersions(ctx, meta)), JSON.stringify(q));
        }
      }
    });

    it('ListObjectsV2 › empty page, plain access key', async () => {
      const ctx = ctxOf(store, { prefix: 'nothing/', 'fetch-owner': 'true' }, 'AKIDPLAIN');
      assert.equal(bodyText(await listObjectsV2(ctx)), buildXml(await referenceV2(ctx, meta)));
    });
  });
}

describe('s3UrlEncode (encoding-type=url)', () => {
  it("the reference suite's keys and prefixes → %20 for a space, %2B for +, / kept", () => {
    assert.deepEqual(['asdf+b', 'foo+1/', 'foo/', 'quux ab/'].map(s3UrlEncode), ['asdf%2Bb', 'foo%2B1/', 'foo/', 'quux%20ab/']);
  });

  it('unreserved characters and / stay; everything else is %XX of its UTF-8 bytes (uppercase hex)', () => {
    assert.equal(s3UrlEncode('AZaz09-._~/'), 'AZaz09-._~/');
    assert.equal(s3UrlEncode("!*'()&=?#%,;:@$[]\\ \t\n\x00\x7f"), '%21%2A%27%28%29%26%3D%3F%23%25%2C%3B%3A%40%24%5B%5D%5C%20%09%0A%00%7F');
    assert.equal(s3UrlEncode('é日😀'), '%C3%A9%E6%97%A5%F0%9F%98%80');
    assert.equal(s3UrlEncode('test_file(3).png'), 'test_file%283%29.png');
  });

  it('every key of the listing tests → decodeURIComponent gives the key back', () => {
    for (const k of KEYS) assert.equal(decodeURIComponent(s3UrlEncode(k)), k, JSON.stringify(k));
  });
});

describe('escapeXmlText', () => {
  it('every character up to U+00FF and some beyond → what buildXml writes for it', () => {
    const chars: string[] = [];
    for (let c = 0; c <= 0xff; c++) chars.push(String.fromCharCode(c));
    chars.push('\u2028', '\uFEFF', '\uFFFD', '\uFFFE', '😀', '&amp;', '&#x1;', 'a\x01&\x1f<b>');
    for (const s of chars) {
      const built = buildXml({ root: 'R', namespace: false, content: { K: s } });
      assert.equal(`<?xml version="1.0" encoding="UTF-8"?>\n<R><K>${escapeXmlText(s)}</K></R>`, built, JSON.stringify(s));
    }
  });
});

describe('isoTime', () => {
  it('→ Date.toISOString() for edge and random times, in any order', () => {
    const times = [
      0, 1, 999, 1000, 59_999, 86_399_999, 86_400_000, 951_782_400_000, 951_868_799_999, 1_700_000_000_000, 4_102_444_800_000, 253_402_300_799_999,
    ];
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      times.push(i % 2 === 0 ? Math.floor((seed / 2 ** 31) * 253_402_300_799_999) : 1_700_000_000_000 + seed);
    }
    for (const t of [...times, ...times.reverse()]) assert.equal(isoTime(t), new Date(t).toISOString(), String(t));
    for (const t of [-1, 253_402_300_800_000, 1.5]) assert.equal(isoTime(t), new Date(t).toISOString(), String(t));
  });
});

describe('ListingBody', () => {
  it('many pieces, multi-byte characters around every chunk boundary → the bytes of their concatenation', () => {
    const pieces = ['<R>'];
    const alphabet = ['a', 'é', '😀', '日本', '&amp;', '\u{10FFFF}', 'x'.repeat(300)];
    for (let i = 0; i < 5000; i++) pieces.push(alphabet[i % alphabet.length]!.repeat(1 + (i % 13)));
    const body = new ListingBody(pieces[0]!);
    for (const p of pieces.slice(1)) body.write(p);
    const r = body.end('</R>');
    assert.deepEqual([r.status, r.headers], [200, { 'content-type': 'application/xml' }]);
    assert.ok(Buffer.isBuffer(r.body) && r.body.equals(Buffer.from(pieces.join('') + '</R>', 'utf8')));
  });
});
