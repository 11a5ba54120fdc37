// Behavioural contract every MetaStore implementation must meet (DataStore: contract-data.ts;
// multipart uploads: contract-uploads.ts; versions: contract-versions.ts). Each implementation's
// test file calls runMetaStoreContract and its siblings with a factory for fresh stores.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { StoreError, type StoreErrorCode } from './errors.js';
import { NULL_VERSION, type MetaStore, type ObjectRecord, type PartRecord, type UploadRecord } from './types.js';

export type Maybe<T> = T | Promise<T>;

/** A fresh store plus the hooks the persistence / crash tests need; hooks are optional. */
export interface MetaHarness {
  store: MetaStore;
  /** Closes the store and opens a new one on the same file (persistent stores only). */
  reopen?: () => Maybe<MetaStore>;
  /** Releases what the harness created (temp files); the store itself is closed by the suite. */
  dispose?: () => Maybe<void>;
}

export function toHarness<S extends object, H extends { store: S }>(x: S | H): H {
  return 'store' in x && typeof (x as H).store === 'object' ? (x as H) : ({ store: x } as H);
}

export async function rejectsWith(p: Maybe<unknown> | (() => Maybe<unknown>), code: StoreErrorCode): Promise<void> {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (err: unknown) => err instanceof StoreError && err.code === code,
    `expected StoreError ${code}`,
  );
}

const bytesOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

let seq = 0;
/** An object record with sensible defaults; `over` wins. */
export function objectRecord(bucket: string, key: string, over: Partial<ObjectRecord> = {}): ObjectRecord {
  seq++;
  return {
    bucket,
    key,
    versionId: NULL_VERSION,
    isLatest: true,
    isDeleteMarker: false,
    size: 3,
    etag: `"etag-${seq}"`,
    lastModified: 1_700_000_000_000 + seq,
    storageClass: 'STANDARD',
    meta: { contentType: 'text/plain', user: { a: '1' } },
    data: [{ id: `data-${seq}`, size: 3 }],
    ...over,
  };
}

/** An upload record with sensible defaults; `over` wins. Ids sort like their initiation times. */
export function uploadRecord(bucket: string, key: string, over: Partial<UploadRecord> = {}): UploadRecord {
  seq++;
  return {
    bucket,
    key,
    uploadId: `u${String(seq).padStart(6, '0')}`,
    initiated: 1_700_000_000_000 + seq,
    meta: { contentType: 'text/plain', user: { a: '1' } },
    storageClass: 'STANDARD',
    ...over,
  };
}

/** A part record with sensible defaults; `over` wins. */
export function partRecord(partNumber: number, over: Partial<PartRecord> = {}): PartRecord {
  seq++;
  const size = over.size ?? 5;
  return {
    partNumber,
    size,
    etag: `"part-${seq}"`,
    lastModified: 1_700_000_000_000 + seq,
    data: { id: `pdata-${seq}`, size },
    ...over,
  };
}

/** Keys whose order by UTF-8 bytes differs from JS `<` (surrogates sort before U+E000 in UTF-16). */
export const TRICKY_KEYS = [
  '\x01',
  'a b',
  'a+b',
  '%41',
  'dir/',
  'dir/x',
  'dir/x/y',
  'dirx',
  '../etc/passwd',
  'é',
  '\u{E000}',
  '\u{FFFD}',
  '\u{10000}',
  '😀',
  '😀/a',
  'z'.repeat(1024),
  'y'.repeat(1000) + '\u{E000}',
  'y'.repeat(1000) + '\u{10000}',
];

export function runMetaStoreContract(name: string, newStore: () => Maybe<MetaStore | MetaHarness>, opts: { persistent?: boolean } = {}): void {
  // Restart tests exist only for stores that persist (registered, never skipped).
  const persistentIt = opts.persistent ? it : () => undefined;
  describe(`MetaStore contract: ${name}`, () => {
    let h: MetaHarness;
    let s: MetaStore;
    const bucket = (n = 'b1') => ({ name: n, region: 'us-east-1', createdAt: 1_700_000_000_000, versioning: '' as const, owner: 'root', objectLock: false });

    beforeEach(async () => {
      h = toHarness<MetaStore, MetaHarness>(await newStore());
      s = h.store;
      await s.createBucket(bucket());
    });
    afterEach(async () => {
      await s.close();
      await h.dispose?.();
    });

    it('CreateBucket › new name → GetBucket and ListBuckets return it', async () => {
      assert.deepEqual(await s.getBucket('b1'), bucket());
      assert.equal(await s.getBucket('nope'), undefined);
      await s.createBucket(bucket('a0'));
      assert.deepEqual(
        (await s.listBuckets()).map((b) => b.name),
        ['a0', 'b1'],
      );
    });

    it('CreateBucket › duplicate name → BucketAlreadyExists', async () => {
      await rejectsWith(() => s.createBucket(bucket()), 'BucketAlreadyExists');
    });

    it('DeleteBucket › missing / non-empty / empty → NoSuchBucket / BucketNotEmpty / gone', async () => {
      await rejectsWith(() => s.deleteBucket('nope'), 'NoSuchBucket');
      await s.putObject(objectRecord('b1', 'k'));
      await rejectsWith(() => s.deleteBucket('b1'), 'BucketNotEmpty');
      assert.ok(await s.getBucket('b1'));
      await s.deleteObject('b1', 'k');
      await s.deleteBucket('b1');
      assert.equal(await s.getBucket('b1'), undefined);
      assert.deepEqual(await s.listBuckets(), []);
    });

    it('PutObject › missing bucket → NoSuchBucket', async () => {
      await rejectsWith(() => s.putObject(objectRecord('nope', 'k')), 'NoSuchBucket');
    });

    it('PutObject › new key → GetObject returns the record, all fields kept', async () => {
      const r = objectRecord('b1', 'k', {
        isLatest: false,
        meta: { contentType: 'x/y', cacheControl: 'no-cache', user: { z: '1', a: '2' }, checksums: { crc32: 'AAAAAA==' } },
        data: [
          { id: 'p1', size: 5 },
          { id: 'p2', size: 2 },
        ],
        size: 7,
        parts: [5, 2],
      });
      assert.deepEqual(await s.putObject(r), []);
      const got = await s.getObject('b1', 'k');
      assert.deepEqual(got, { ...r, isLatest: true });
      assert.deepEqual(Object.keys(got!.meta.user), ['z', 'a'], 'user metadata keeps arrival order');
      assert.equal(await s.getObject('b1', 'other'), undefined);
      assert.equal(await s.getObject('nope', 'k'), undefined);
    });

    it('PutObject › replace → returns the old DataRefs, GetObject returns the new record', async () => {
      const old = objectRecord('b1', 'k', {
        data: [
          { id: 'o1', size: 1 },
          { id: 'o2', size: 2 },
        ],
      });
      await s.putObject(old);
      const neu = objectRecord('b1', 'k');
      assert.deepEqual(await s.putObject(neu), old.data);
      assert.deepEqual(await s.getObject('b1', 'k'), neu);
    });

    it('PutObject › replace with a record sharing data ids → shared ids are not returned', async () => {
      await s.putObject(
        objectRecord('b1', 'k', {
          data: [
            { id: 'keep', size: 1 },
            { id: 'drop', size: 1 },
          ],
        }),
      );
      const freed = await s.putObject(objectRecord('b1', 'k', { data: [{ id: 'keep', size: 1 }] }));
      assert.deepEqual(freed, [{ id: 'drop', size: 1 }]);
      assert.equal(await s.isDataReferenced('keep'), true);
      assert.equal(await s.isDataReferenced('drop'), false);
    });

    it('PutObject › mustNotExist → ok when absent, PreconditionFailed when present', async () => {
      const first = objectRecord('b1', 'k');
      await s.putObject(first, { mustNotExist: true });
      await rejectsWith(() => s.putObject(objectRecord('b1', 'k'), { mustNotExist: true }), 'PreconditionFailed');
      assert.deepEqual(await s.getObject('b1', 'k'), first);
    });

    it('PutObject › etagMatches → NoSuchKey when absent, PreconditionFailed when different, ok when equal', async () => {
      await rejectsWith(() => s.putObject(objectRecord('b1', 'k'), { etagMatches: '"x"' }), 'NoSuchKey');
      const first = objectRecord('b1', 'k', { etag: '"e1"' });
      await s.putObject(first);
      await rejectsWith(() => s.putObject(objectRecord('b1', 'k'), { etagMatches: '"e2"' }), 'PreconditionFailed');
      assert.deepEqual(await s.getObject('b1', 'k'), first);
      const second = objectRecord('b1', 'k');
      assert.deepEqual(await s.putObject(second, { etagMatches: '"e1"' }), first.data);
      assert.deepEqual(await s.getObject('b1', 'k'), second);
    });

    it('PutObject › mustExist (If-Match: *) → NoSuchKey when absent, ok whatever the ETag when present', async () => {
      await rejectsWith(() => s.putObject(objectRecord('b1', 'k'), { mustExist: true }), 'NoSuchKey');
      await s.putObject(objectRecord('b1', 'k', { etag: '"any"' }));
      const second = objectRecord('b1', 'k');
      await s.putObject(second, { mustExist: true });
      assert.deepEqual(await s.getObject('b1', 'k'), second);
    });

    it('PutObject › latest is a delete marker → conditions see no object', async () => {
      await s.putObject(objectRecord('b1', 'k', { versionId: 'v1' }));
      await s.putObject(objectRecord('b1', 'k', { versionId: 'v2', isDeleteMarker: true, size: 0, etag: '', data: [] }));
      await rejectsWith(() => s.putObject(objectRecord('b1', 'k'), { etagMatches: '"x"' }), 'NoSuchKey');
      await s.putObject(objectRecord('b1', 'k'), { mustNotExist: true });
    });

    it('PutObject › a second version → only the new one is latest', async () => {
      const v1 = objectRecord('b1', 'k', { versionId: 'v1' });
      await s.putObject(v1);
      const nul = objectRecord('b1', 'k');
      assert.deepEqual(await s.putObject(nul), [], 'another version is not replaced');
      assert.deepEqual(await s.getObject('b1', 'k'), nul);
      // Removing the null version makes the remaining version latest again.
      assert.deepEqual(await s.deleteObject('b1', 'k'), nul);
      assert.deepEqual(await s.getObject('b1', 'k'), v1);
      assert.equal(await s.isDataReferenced(v1.data[0]!.id), true);
      await rejectsWith(() => s.deleteBucket('b1'), 'BucketNotEmpty');
      assert.equal(await s.deleteObject('b1', 'k'), undefined, 'no null version left');
    });

    it('DeleteObject › existing key → returns the record; then gone', async () => {
      const r = objectRecord('b1', 'k');
      await s.putObject(r);
      assert.deepEqual(await s.deleteObject('b1', 'k'), r);
      assert.equal(await s.getObject('b1', 'k'), undefined);
      assert.equal(await s.deleteObject('b1', 'k'), undefined);
      assert.deepEqual(await s.scanObjects('b1', '', '', 10), []);
    });

    it('DeleteObject › missing bucket → NoSuchBucket', async () => {
      await rejectsWith(() => s.deleteObject('nope', 'k'), 'NoSuchBucket');
    });

    it('IsDataReferenced › follows put, replace and delete', async () => {
      assert.equal(await s.isDataReferenced('d1'), false);
      await s.putObject(objectRecord('b1', 'k', { data: [{ id: 'd1', size: 3 }] }));
      await s.putObject(objectRecord('b1', 'k2', { data: [{ id: 'd2', size: 3 }] }));
      assert.equal(await s.isDataReferenced('d1'), true);
      await s.putObject(objectRecord('b1', 'k', { data: [{ id: 'd3', size: 3 }] }));
      assert.equal(await s.isDataReferenced('d1'), false);
      assert.equal(await s.isDataReferenced('d3'), true);
      await s.deleteObject('b1', 'k');
      assert.equal(await s.isDataReferenced('d3'), false);
      assert.equal(await s.isDataReferenced('d2'), true);
    });

    it('Keys › odd keys round-trip exactly', async () => {
      for (const k of TRICKY_KEYS) await s.putObject(objectRecord('b1', k));
      for (const k of TRICKY_KEYS) assert.equal((await s.getObject('b1', k))?.key, k);
      assert.equal(await s.getObject('b1', 'dir'), undefined);
    });

    it('ScanObjects › orders by UTF-8 bytes, not UTF-16 (U+E000 before U+10000)', async () => {
      for (const k of [...TRICKY_KEYS].reverse()) await s.putObject(objectRecord('b1', k));
      const keys = (await s.scanObjects('b1', '', '', 1000)).map((r) => r.key);
      assert.deepEqual(keys, [...TRICKY_KEYS].sort(bytesOrder));
      assert.ok(keys.indexOf('\u{E000}') < keys.indexOf('\u{10000}'));
      const ys = (await s.scanObjects('b1', 'y'.repeat(1000), '', 10)).map((r) => r.key.slice(1000));
      assert.deepEqual(ys, ['\u{E000}', '\u{10000}']);
    });

    it('ScanObjects › prefix, after, from and limit bound the result', async () => {
      for (const k of TRICKY_KEYS) await s.putObject(objectRecord('b1', k));
      const scan = async (p: string, a: string, l: number, f?: string) => (await s.scanObjects('b1', p, a, l, f)).map((r) => r.key);
      assert.deepEqual(await scan('dir', '', 10), ['dir/', 'dir/x', 'dir/x/y', 'dirx']);
      assert.deepEqual(await scan('dir/', '', 10), ['dir/', 'dir/x', 'dir/x/y']);
      assert.deepEqual(await scan('dir', 'dir/', 2), ['dir/x', 'dir/x/y']);
      assert.deepEqual(await scan('dir', '', 10, 'dir0'), ['dirx']);
      assert.deepEqual(await scan('dir', 'dir/x', 10, 'dir/'), ['dir/x/y', 'dirx']);
      assert.deepEqual(await scan('dir', 'a', 10, 'dir/x/'), ['dir/x/y', 'dirx']);
      assert.deepEqual(await scan('', '\u{E000}', 3), ['\u{FFFD}', '\u{10000}', '😀']);
      assert.deepEqual(await scan('😀', '', 10), ['😀', '😀/a']);
      assert.deepEqual(await scan('dir', '', 0), []);
      assert.deepEqual(await scan('nothing', '', 10), []);
      // Every non-ASCII key sorts after 'zzzz...' (lead bytes >= 0xC2 > 'z').
      assert.deepEqual(await scan('', 'zzzz', 10), ['z'.repeat(1024), 'é', '\u{E000}', '\u{FFFD}', '\u{10000}', '😀', '😀/a']);
    });

    it('ScanObjects › skips delete markers and non-latest versions', async () => {
      await s.putObject(objectRecord('b1', 'a'));
      await s.putObject(objectRecord('b1', 'b', { versionId: 'v1' }));
      await s.putObject(objectRecord('b1', 'b', { versionId: 'v2', isDeleteMarker: true, size: 0, etag: '', data: [] }));
      await s.putObject(objectRecord('b1', 'c', { versionId: 'v1' }));
      await s.putObject(objectRecord('b1', 'c', { versionId: 'v2' }));
      const got = await s.scanObjects('b1', '', '', 10);
      assert.deepEqual(
        got.map((r) => [r.key, r.versionId]),
        [
          ['a', 'null'],
          ['c', 'v2'],
        ],
      );
    });

    it('ScanObjects › missing bucket → NoSuchBucket', async () => {
      await rejectsWith(() => s.scanObjects('nope', '', '', 10), 'NoSuchBucket');
    });

    it('Records › returned objects are copies, not the stored state', async () => {
      await s.putObject(objectRecord('b1', 'k'));
      const a = (await s.getObject('b1', 'k'))!;
      a.meta.user['a'] = 'changed';
      a.data.push({ id: 'x', size: 1 });
      const b = (await s.getObject('b1', 'k'))!;
      assert.equal(b.meta.user['a'], '1');
      assert.equal(b.data.length, 1);
    });

    // ---- multipart uploads ----------------------------------------------------------------------

    it('BucketConfig › put, get, replace, remove; per bucket and name; missing bucket → NoSuchBucket', async () => {
      await s.createBucket(bucket('b2'));
      assert.equal(await s.getBucketConfig('b1', 'cors'), undefined);
      await s.putBucketConfig('b1', 'cors', '{"rules":[1]}');
      await s.putBucketConfig('b1', 'tagging', '{}');
      assert.equal(await s.getBucketConfig('b1', 'cors'), '{"rules":[1]}');
      assert.equal(await s.getBucketConfig('b2', 'cors'), undefined);
      await s.putBucketConfig('b1', 'cors', '{"rules":[2]}');
      assert.equal(await s.getBucketConfig('b1', 'cors'), '{"rules":[2]}');
      await s.putBucketConfig('b1', 'cors', undefined);
      assert.equal(await s.getBucketConfig('b1', 'cors'), undefined);
      assert.equal(await s.getBucketConfig('b1', 'tagging'), '{}');
      await s.putBucketConfig('b1', 'cors', undefined); // removing nothing is fine
      await rejectsWith(() => s.getBucketConfig('nope', 'cors'), 'NoSuchBucket');
      await rejectsWith(() => s.putBucketConfig('nope', 'cors', '{}'), 'NoSuchBucket');
      await rejectsWith(() => s.putBucketConfig('nope', 'cors', undefined), 'NoSuchBucket');
    });

    persistentIt('Restart › close and reopen → buckets, objects and references kept', async () => {
      assert.ok(h.reopen, 'a persistent store harness must provide reopen()');
      await s.createBucket(bucket('b2'));
      const r = objectRecord('b1', '😀/a', { parts: [1, 2] });
      await s.putObject(r);
      s = await h.reopen!();
      assert.deepEqual(
        (await s.listBuckets()).map((b) => b.name),
        ['b1', 'b2'],
      );
      assert.deepEqual(await s.getObject('b1', '😀/a'), r);
      assert.equal(await s.isDataReferenced(r.data[0]!.id), true);
      await rejectsWith(() => s.createBucket(bucket('b2')), 'BucketAlreadyExists');
    });
  });
}
