// listPage against a reference implementation over a sorted array, on both metadata stores.

import assert from 'node:assert/strict';
import { after as afterAll, before, describe, it } from 'node:test';
import { objectRecord, TRICKY_KEYS } from './contract.js';
import { listedObject, listPage, prefixSuccessor } from './listing.js';
import { SqliteMetaStore } from './meta/sqlite.js';
import type { ListedObject, ListPage, MetaStore } from './types.js';

const bytesOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'b', '/', 'x', ':', 'é', '\u{E000}', '\u{10000}', '😀', '\u{10FFFF}', ' ', '+'];
const HAND_PICKED = [
  ...TRICKY_KEYS,
  'a',
  'dir',
  'dir/a/b',
  'dir/a/c',
  'dir/b',
  'dir//',
  'dirx/y',
  'dxx',
  'x',
  'xx',
  'axb',
  'a/b/c',
  'a//b',
  '/',
  '//',
  '\u{10FFFF}',
  '\u{10FFFF}/a',
  'é/é',
  'a::b::c',
  'a::',
  '::',
  'dir/😀x',
  'dir😀',
];

function makeKeys(): string[] {
  const r = rng(42);
  const keys = new Set(HAND_PICKED);
  while (keys.size < HAND_PICKED.length + 300) {
    const head = ['', 'dir', 'dir/', 'a', '😀'][Math.floor(r() * 5)]!;
    let k = head;
    const n = 1 + Math.floor(r() * 6);
    for (let i = 0; i < n; i++) k += ALPHABET[Math.floor(r() * ALPHABET.length)]!;
    keys.add(k);
  }
  return [...keys].sort(bytesOrder);
}

interface Entry {
  kind: 'object' | 'prefix';
  value: string;
}

/** The whole listing, the obvious way: roll every key up, dedupe, keep what sorts after `after`. */
function reference(sorted: string[], prefix: string, delimiter: string, after: string): Entry[] {
  const out: Entry[] = [];
  const seen = new Set<string>();
  for (const k of sorted) {
    if (!k.startsWith(prefix)) continue;
    const i = delimiter === '' ? -1 : k.indexOf(delimiter, prefix.length);
    if (i < 0) {
      out.push({ kind: 'object', value: k });
    } else {
      const cp = k.slice(0, i + delimiter.length);
      if (!seen.has(cp)) out.push({ kind: 'prefix', value: cp });
      seen.add(cp);
    }
  }
  return out.filter((e) => bytesOrder(e.value, after) > 0).sort((a, b) => bytesOrder(a.value, b.value));
}

function pageEntries(p: ListPage): Entry[] {
  return [...p.objects.map((o): Entry => ({ kind: 'object', value: o.key })), ...p.commonPrefixes.map((c): Entry => ({ kind: 'prefix', value: c }))].sort(
    (a, b) => bytesOrder(a.value, b.value),
  );
}

/** Follows nextAfter until the end, checking every page's invariants; returns all entries. */
async function listAll(meta: MetaStore, prefix: string, delimiter: string, maxKeys: number, after = ''): Promise<Entry[]> {
  const all: Entry[] = [];
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 10_000, 'listing does not terminate');
    const p = await listPage(meta, { bucket: 'b', prefix, delimiter, after, maxKeys });
    const entries = pageEntries(p);
    assert.ok(entries.length <= maxKeys, 'page larger than maxKeys');
    all.push(...entries);
    if (!p.isTruncated) {
      assert.equal(p.nextAfter, undefined);
      return all;
    }
    assert.equal(entries.length, maxKeys, 'a truncated page is full');
    assert.equal(p.nextAfter, entries[entries.length - 1]!.value, 'nextAfter is the last entry');
    after = p.nextAfter!;
  }
}

function assertNoDuplicatePrefixes(entries: Entry[]): void {
  const cps = entries.filter((e) => e.kind === 'prefix').map((e) => e.value);
  assert.equal(new Set(cps).size, cps.length, 'a common prefix appears twice');
}

/** Wraps a store to count scan calls and rows read (the cost of a page). */
function counting(meta: MetaStore): { meta: MetaStore; calls: number; rows: number } {
  const c = { meta, calls: 0, rows: 0 };
  c.meta = Object.create(meta) as MetaStore;
  c.meta.scanListing = async (...args: Parameters<MetaStore['scanListing']>): Promise<ListedObject[]> => {
    const rows = await meta.scanListing(...args);
    c.calls++;
    c.rows += rows.length;
    return rows;
  };
  return c;
}

describe('prefixSuccessor', () => {
  it('prefixSuccessor › simple and boundary code points → next code point', () => {
    assert.equal(prefixSuccessor('a'), 'b');
    assert.equal(prefixSuccessor('dir/'), 'dir0');
    assert.equal(prefixSuccessor('\u{7F}'), '\u{80}');
    assert.equal(prefixSuccessor('\u{7FF}'), '\u{800}');
    assert.equal(prefixSuccessor('\u{D7FF}'), '\u{E000}');
    assert.equal(prefixSuccessor('\u{FFFF}'), '\u{10000}');
    assert.equal(prefixSuccessor('😀'), '😁');
    assert.equal(prefixSuccessor('a\u{10FFFF}'), 'b');
    assert.equal(prefixSuccessor('\u{10FFFF}\u{10FFFF}'), undefined);
    assert.equal(prefixSuccessor(''), undefined);
  });

  it('prefixSuccessor › random strings → K >= successor(s) iff K sorts after every string starting with s', () => {
    const keys = makeKeys();
    const r = rng(7);
    for (let n = 0; n < 300; n++) {
      const s = Array.from(keys[Math.floor(r() * keys.length)]!)
        .slice(0, 1 + Math.floor(r() * 3))
        .join('');
      const succ = prefixSuccessor(s);
      for (const k of keys) {
        const past = !k.startsWith(s) && bytesOrder(k, s) > 0;
        assert.equal(succ === undefined ? false : bytesOrder(k, succ) >= 0, past, `s=${JSON.stringify(s)} k=${JSON.stringify(k)}`);
      }
    }
  });
});

const STORES: [string, () => MetaStore][] = [['sqlite', () => SqliteMetaStore.open(':memory:')]];

for (const [storeName, open] of STORES) {
  describe(`listPage on ${storeName}`, () => {
    const keys = makeKeys();
    const meta = open();
    before(async () => {
      await meta.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
      await meta.createBucket({ name: 'other', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
      for (const k of keys) await meta.putObject(objectRecord('b', k));
      for (const k of keys.slice(0, 20)) await meta.putObject(objectRecord('other', k));
      // A delete marker is not listed, and does not create a common prefix.
      await meta.putObject(objectRecord('b', 'hidden/x', { versionId: 'v1', isDeleteMarker: true, data: [] }));
    });
    afterAll(() => meta.close());

    const combos: [string, string, number][] = [];
    for (const d of ['', '/', 'x']) for (const p of ['', 'dir', 'dir/']) for (const m of [1, 2, 7, 1000]) combos.push([d, p, m]);
    for (const d of ['::', 'é', '😀', '\u{10FFFF}', 'a/']) for (const p of ['', 'a', '😀']) for (const m of [1, 3, 1000]) combos.push([d, p, m]);

    for (const [delimiter, prefix, maxKeys] of combos) {
      it(`ListObjects › delimiter ${JSON.stringify(delimiter)}, prefix ${JSON.stringify(prefix)}, maxKeys ${maxKeys} → pages concatenate to the reference`, async () => {
        const expected = reference(keys, prefix, delimiter, '');
        const got = await listAll(meta, prefix, delimiter, maxKeys);
        assertNoDuplicatePrefixes(got);
        assert.deepEqual(got, expected);
        // Start points: every few reference entries (objects and common prefixes), a key inside a
        // common prefix, one before the prefix, one after everything.
        const starts = [...expected.filter((_, i) => i % 17 === 3).map((e) => e.value), 'dir/a', 'dir/a/b', '😀/', 'A', '\u{10FFFF}\u{10FFFF}'];
        for (const after of starts) {
          assert.deepEqual(await listAll(meta, prefix, delimiter, maxKeys, after), reference(keys, prefix, delimiter, after), `after=${JSON.stringify(after)}`);
        }
      });
    }

    it('ScanListing › same rows, order and bounds as scanObjects, as listedObject() of each record', async () => {
      const extra = ['nul\0x', '\uFEFFbom', 'ctl\x01\x1f', 'a&b<c>"d'];
      for (const [i, k] of extra.entries()) {
        const checksums: Record<string, string> | undefined = [undefined, { crc32: 'AAAAAA==' }, { sha256: 'x', crc32c: 'y' }, {}][i];
        await meta.putObject(
          objectRecord('other', k, {
            size: 7 + i,
            etag: `"e${i}"`,
            lastModified: 1000 + i,
            storageClass: i === 2 ? 'GLACIER' : 'STANDARD',
            meta: { user: { checksums: 'no' }, ...(checksums ? { checksums } : {}) },
          }),
        );
      }
      const scans: [string, string, string, number, string?][] = [
        ['b', '', '', 1000],
        ['b', 'dir', '', 1000],
        ['b', 'dir/', 'dir/a', 5],
        ['b', '', 'a', 7, 'dir0'],
        ['b', '😀', '', 3],
        ['b', '', '\u{10FFFF}', 10],
        ['other', '', '', 1000],
        ['other', 'nul', '', 10],
        ['b', '', '', 0],
      ];
      for (const [bucket, prefix, after, limit, from] of scans) {
        const full = await meta.scanObjects(bucket, prefix, after, limit, from);
        const lean = await meta.scanListing(bucket, prefix, after, limit, from);
        assert.deepEqual(lean, full.map(listedObject), JSON.stringify([bucket, prefix, after, limit, from]));
      }
      // Several versions per key, latest delete markers: in a versioned bucket (SQLite walks
      // objects_latest) and in one without versioning (SQLite walks the primary key: same rows).
      for (const [name, versioning] of [
        ['vers', 'Enabled'],
        ['multi', ''],
      ] as const) {
        await meta.createBucket({ name, region: 'r', createdAt: 0, versioning, owner: 'root', objectLock: false });
        for (const [i, k] of keys.slice(0, 60).entries()) {
          await meta.putObject(objectRecord(name, k, { versionId: 'v1', size: 1 }));
          if (i % 3 !== 0)
            await meta.putObject(
              objectRecord(name, k, { versionId: `v2-${i}`, size: 2, isDeleteMarker: i % 3 === 2, storageClass: i % 2 ? 'STANDARD_IA' : 'STANDARD' }),
            );
        }
        for (const [prefix, after, limit] of [
          ['', '', 1000],
          ['dir', 'dir/', 7],
          ['', keys[30]!, 1000],
        ] as const) {
          const lean = await meta.scanListing(name, prefix, after, limit);
          assert.deepEqual(lean, (await meta.scanObjects(name, prefix, after, limit)).map(listedObject), `${name} ${prefix} ${after}`);
          if (after === '' && prefix === '') assert.deepEqual(new Set(lean.map((o) => o.versionId.slice(0, 2))), new Set(['v1', 'v2']));
        }
      }
      const others = await meta.scanListing('other', '', '', 1000);
      assert.deepEqual(
        others
          .filter((o) => extra.includes(o.key))
          .map((o) => o.checksumAlgorithms)
          .sort(),
        ['', '', 'crc32', 'sha256,crc32c'],
      );
      await assert.rejects(
        async () => meta.scanListing('nope', '', '', 10),
        (e: Error & { code?: string }) => e.code === 'NoSuchBucket',
      );
    });

    it('ListObjects › maxKeys 0 → empty page, not truncated', async () => {
      assert.deepEqual(await listPage(meta, { bucket: 'b', prefix: '', delimiter: '/', after: '', maxKeys: 0 }), {
        objects: [],
        commonPrefixes: [],
        isTruncated: false,
      });
    });

    it('ListObjects › after is a common prefix → nothing under it again', async () => {
      const p = await listPage(meta, { bucket: 'b', prefix: '', delimiter: '/', after: 'dir/', maxKeys: 1000 });
      assert.ok(p.objects.every((o) => !o.key.startsWith('dir/')));
      assert.ok(!p.commonPrefixes.includes('dir/'));
    });
  });
}

describe('listPage cost', () => {
  for (const [storeName, open] of STORES) {
    it(`ListObjects on ${storeName} › 100 folders of 200 keys, delimiter '/' → one short scan per folder, not a bucket scan`, async () => {
      const meta = open();
      await meta.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
      for (let d = 0; d < 100; d++) {
        for (let f = 0; f < 200; f++) await meta.putObject(objectRecord('b', `d${String(d).padStart(3, '0')}/f${f}`));
      }
      const c = counting(meta);
      const page = await listPage(c.meta, { bucket: 'b', prefix: '', delimiter: '/', after: '', maxKeys: 1000 });
      assert.equal(page.commonPrefixes.length, 100);
      assert.equal(page.isTruncated, false);
      assert.ok(c.calls <= 101, `scan calls: ${c.calls}`);
      assert.ok(c.rows <= 8 * 101, `rows read: ${c.rows} (bucket has 20000)`);

      const c2 = counting(meta);
      const flat = await listPage(c2.meta, { bucket: 'b', prefix: 'd050/', delimiter: '', after: '', maxKeys: 100 });
      assert.equal(flat.objects.length, 100);
      assert.equal(flat.isTruncated, true);
      assert.deepEqual([c2.calls, c2.rows], [1, 101], 'no delimiter: one scan of maxKeys + 1 rows');
      await meta.close();
    });
  }
});
