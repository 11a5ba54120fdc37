// The packed listing scan: the same ListedObjects as scanObjects gives, and the batches it cannot
// carry (a key with its separator, keys whose UTF-16 order differs) read as rows instead.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectRecord } from '../contract.js';
import { listedObject } from '../listing.js';
import { SqliteMetaStore } from './sqlite.js';
import { PACKED_LISTING_SQL, type PackedRow, unpackListing } from './sqlite-listing.js';

describe('packed listing scan', () => {
  it('every packed shape walks the range in key order (a co-routine over an index range search, no sort)', () => {
    const meta = SqliteMetaStore.open(':memory:');
    try {
      const db = (meta as unknown as { db: { prepare(sql: string): { all(...a: unknown[]): { detail: string }[] } } }).db;
      for (const [access, shapes] of Object.entries(PACKED_LISTING_SQL)) {
        for (const [name, sql] of Object.entries(shapes)) {
          const params = sql.includes('key < ?') ? ['b', Buffer.from('k1'), Buffer.from('k2'), 10] : ['b', Buffer.from('k1'), 10];
          const plan = db
            .prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .all(...params)
            .map((r) => r.detail)
            .join(' | ');
          const index = access === 'byKey' ? 'PRIMARY KEY' : 'INDEX objects_live';
          assert.match(plan, new RegExp(`^CO-ROUTINE \\S+ \\| SEARCH objects USING ${index} \\(bucket=\\? AND key>\\?`), `${access} ${name}: ${plan}`);
          assert.doesNotMatch(plan, /TEMP B-TREE|SCAN objects/, `${access} ${name}: ${plan}`);
        }
      }
    } finally {
      meta.close();
    }
  });

  it('unpackListing › plain rows, extras, and the batches it refuses (count mismatch, order)', () => {
    const plain: PackedRow = [2, 'a\x1eb', '0\x1e5', '"e1"\x1e"e2"', '1\x1e2', '\x1e[null,"GLACIER",{"crc32":"x","sha1":"y"}]'];
    assert.deepEqual(unpackListing(plain), [
      { key: 'a', versionId: 'null', size: 0, etag: '"e1"', lastModified: 1, storageClass: 'STANDARD', checksumAlgorithms: '' },
      { key: 'b', versionId: 'null', size: 5, etag: '"e2"', lastModified: 2, storageClass: 'GLACIER', checksumAlgorithms: 'crc32,sha1' },
    ]);
    assert.deepEqual(unpackListing([0, null, null, null, null, null]), []);
    // Versioned buckets: the version ids in their own column (extras then never carry one).
    assert.deepEqual(
      (unpackListing([2, 'a\x1eb', '1\x1e2', '"e"\x1e"e"', '3\x1e4', '\x1e[null,"GLACIER",null]', 'v1\x1enull']) ?? []).map((o) => [
        o.versionId,
        o.storageClass,
      ]),
      [
        ['v1', 'STANDARD'],
        ['null', 'GLACIER'],
      ],
    );
    assert.equal(unpackListing([1, 'a', '1', '"e"', '3', '', 'v1\x1ev2']), undefined);
    // A key holding the separator splits into one piece too many.
    assert.equal(unpackListing([1, 'a\x1eb', '0', '"e"', '1', '']), undefined);
    // Not ascending (UTF-16 order): read as rows.
    assert.equal(unpackListing([2, 'b\x1ea', '0\x1e0', '"e"\x1e"e"', '1\x1e1', '\x1e']), undefined);
  });

  it('scanListing › keys with the separator and with characters above U+FFFF next to U+E000 → the rows of scanObjects', async () => {
    const meta = SqliteMetaStore.open(':memory:');
    try {
      await meta.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
      const keys = ['a', 'rec\x1esep', 'rec\x1e', 'x\u{E000}', 'x😀', 'z&<>"\'', 'zz'];
      for (const [i, k] of keys.entries()) {
        await meta.putObject(
          objectRecord('b', k, {
            size: i,
            storageClass: i === 3 ? 'GLACIER' : 'STANDARD',
            meta: { user: {}, ...(i === 5 ? { checksums: { crc32: 'A' } } : {}) },
          }),
        );
      }
      for (const [prefix, after, limit] of [
        ['', '', 1000],
        ['rec', '', 10],
        ['x', '', 10],
        ['', 'x', 2],
        ['z', '', 10],
      ] as const) {
        const lean = await meta.scanListing('b', prefix, after, limit);
        assert.deepEqual(lean, (await meta.scanObjects('b', prefix, after, limit)).map(listedObject), `${prefix} ${after} ${limit}`);
      }
      assert.equal((await meta.scanListing('b', '', '', 1000)).length, keys.length);
    } finally {
      meta.close();
    }
  });
});
