// PgMetaStore: the shared MetaStore contracts on a throw-away PostgreSQL cluster (one per test
// file, a fresh database per store), the listing's query plan, and conditional writes racing from
// two stores on two pools (as two gateways).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startPostgres, type PostgresCluster } from '../../../../test/helpers/postgres.js';
import { objectRecord, partRecord, runMetaStoreContract, uploadRecord } from '../../contract.js';
import { runUploadsContract } from '../../contract-uploads.js';
import { runInlineContract } from '../../contract-inline.js';
import { runVersionsContract } from '../../contract-versions.js';
import { runUsageContract } from '../../contract-usage.js';
import { StoreError } from '../../errors.js';
import { LISTING, PACKED_LISTING, VERSIONS } from './core-sql.js';
import type { PgMetaStore } from './store.js';
import { bucketRecord, openBareStore } from './test-stores.js';

let cluster: Promise<PostgresCluster> | undefined;
const pgCluster = (): Promise<PostgresCluster> => (cluster ??= startPostgres());
after(async () => {
  if (cluster) await (await cluster).dispose();
});

const openStore = (url: string, poolSize?: number): Promise<PgMetaStore> => openBareStore(url, { poolSize });

/** A store on a fresh database; reopen() = a new pool and store on the same database. */
async function pgHarness() {
  const url = await (await pgCluster()).createDatabase();
  let current = await openStore(url);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await openStore(url);
      return current;
    },
  };
}

runMetaStoreContract('postgres', pgHarness, { persistent: true });
runUploadsContract('postgres', pgHarness, { persistent: true });
runInlineContract('postgres', pgHarness);
runVersionsContract('postgres', pgHarness);
runUsageContract('postgres', pgHarness);

const bucket = (name: string) => bucketRecord(name);

describe('PgMetaStore › listing plan', () => {
  let url: string;
  let store: PgMetaStore;
  let raw: pg.Client;
  before(async () => {
    url = await (await pgCluster()).createDatabase();
    store = await openStore(url);
    await store.createBucket(bucket('small'));
    await store.createBucket(bucket('big'));
    raw = new pg.Client({ connectionString: url });
    await raw.connect();
    // 20 000 keys in one bucket (one INSERT … SELECT: the plan, not the write path, is under test).
    await raw.query(
      `INSERT INTO objects (bucket, key, version_id, is_latest, is_delete_marker, size, etag, last_modified, storage_class, meta, data, format)
       SELECT 'big', convert_to('k' || lpad(i::text, 6, '0'), 'UTF8'), 'null', true, false, 1, '"e"', 0, 'STANDARD', '{"user":{}}', '[]', 11
       FROM generate_series(1, 20000) i`,
    );
    for (let i = 0; i < 5; i++) await store.putObject(objectRecord('small', `s${i}`));
    await raw.query('ANALYZE');
  });
  after(async () => {
    await raw.end();
    await store.close();
  });

  it('a page of 1000 (with and without a prefix) → an index scan of objects_live, no sort of the bucket', async () => {
    const plans: string[] = [];
    for (const [sql, params] of [
      [LISTING.open, ['big', Buffer.alloc(0), Buffer.from('k010000'), 1000]],
      [LISTING.bounded, ['big', Buffer.from('k01'), Buffer.alloc(0), 1000, Buffer.from('k02')]],
      // The packed form scanListing sends (the same scan under one Aggregate).
      [PACKED_LISTING.open, ['big', Buffer.alloc(0), Buffer.from('k010000'), 1000]],
      [PACKED_LISTING.bounded, ['big', Buffer.from('k01'), Buffer.alloc(0), 1000, Buffer.from('k02')]],
    ] as const) {
      const res = await raw.query(`EXPLAIN ${sql}`, [...params]);
      const plan = res.rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      plans.push(plan);
      assert.match(plan, /Index Scan using objects_live on objects/, plan);
      assert.match(plan, /Limit/, plan);
      assert.doesNotMatch(plan, /Sort|Seq Scan on objects|Bitmap/, plan);
    }
    // ListObjectVersions: the primary key in key order, each key's versions sorted (an incremental sort), never the bucket.
    const versions = await raw.query(`EXPLAIN ${VERSIONS.open}`, ['big', Buffer.from('k010000'), Buffer.from('k010000'), null, null, 1000]);
    const vplan = versions.rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
    assert.match(vplan, /Index Scan using objects_pkey on objects/, vplan);
    assert.doesNotMatch(vplan, /-> {2}Sort |Seq Scan on objects/, vplan);
    plans.push(vplan);
    // The plan as docs/cluster.md quotes it (printed with the test output).
    console.log(`-- listing plan (open)\n${plans[0]}\n-- listing plan (prefix)\n${plans[1]}\n-- versions plan\n${plans[2]}`);
    // And the statement gives the page it should.
    const page = await store.scanListing('big', '', 'k010000', 3);
    assert.deepEqual(
      page.map((o) => o.key),
      ['k010001', 'k010002', 'k010003'],
    );
  });
});

describe('PgMetaStore › packed listing', () => {
  it('gives what the row listing gives: storage classes, checksums, version ids, keys it cannot carry (U+001E, astral)', async () => {
    const store = await openStore(await (await pgCluster()).createDatabase());
    try {
      await store.createBucket(bucket('p'));
      const keys = ['a', 'b\x1ec', 'c', 'd\u{E000}', 'd\u{10000}', 'e', 'f'];
      for (const [i, key] of keys.entries()) {
        await store.putObject(
          objectRecord('p', key, {
            versionId: i % 2 === 0 ? 'null' : `v${i}`,
            storageClass: i === 2 ? 'REDUCED_REDUNDANCY' : 'STANDARD',
            meta: { contentType: 'x/y', user: {}, ...(i === 5 && { checksums: { crc32: 'AAAAAA==', sha256: 'x' } }) },
          }),
        );
      }
      const expected = (await store.scanObjects('p', '', '', 100)).map((r) => ({
        key: r.key,
        versionId: r.versionId,
        size: r.size,
        etag: r.etag,
        lastModified: r.lastModified,
        storageClass: r.storageClass,
        checksumAlgorithms: Object.keys(r.meta.checksums ?? {}).join(','),
      }));
      assert.equal(expected.length, keys.length);
      // Whole range (with keys it cannot pack: read as rows), and batches without them (packed).
      assert.deepEqual(await store.scanListing('p', '', '', 100), expected);
      assert.deepEqual(await store.scanListing('p', '', 'd\u{10000}', 100), expected.slice(-2));
      assert.deepEqual(await store.scanListing('p', '', '', 1), expected.slice(0, 1));
      assert.deepEqual(await store.scanListing('p', 'e', '', 10), [expected.find((o) => o.key === 'e')]);
      assert.deepEqual(await store.scanListing('p', 'c', '', 10), [expected.find((o) => o.key === 'c')]);
      assert.equal(expected.find((o) => o.key === 'e')?.checksumAlgorithms, 'crc32,sha256');
      assert.equal(expected.find((o) => o.key === 'c')?.storageClass, 'REDUCED_REDUNDANCY');
      assert.deepEqual(await store.scanListing('p', 'zz', '', 10), [], 'empty batch');
      await assert.rejects(
        async () => store.scanListing('nope', '', '', 10),
        (e: Error & { code?: string }) => e.code === 'NoSuchBucket',
      );
    } finally {
      await store.close();
    }
  });
});

describe('PgMetaStore › races between two gateways (two stores, two pools, one database)', () => {
  let a: PgMetaStore;
  let b: PgMetaStore;
  before(async () => {
    const url = await (await pgCluster()).createDatabase();
    a = await openStore(url, 10);
    b = await openStore(url, 10);
    await a.createBucket(bucket('race'));
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (err: unknown) => (err instanceof StoreError ? err.code : `unexpected: ${String(err)}`),
    );

  it('20 concurrent PutObject If-None-Match: * on one key → exactly one wins, the rest PreconditionFailed', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        outcome(Promise.resolve((i % 2 ? a : b).putObject(objectRecord('race', 'k', { etag: `"e${i}"` }), { mustNotExist: true }))),
      ),
    );
    assert.equal(results.filter((r) => r === 'ok').length, 1, results.join(','));
    assert.equal(results.filter((r) => r === 'PreconditionFailed').length, 19, results.join(','));
    const winner = results.indexOf('ok');
    assert.equal((await b.getObject('race', 'k'))?.etag, `"e${winner}"`);
    assert.deepEqual(await a.usage.listUsage(), [{ bucket: 'race', objects: 1, versions: 1, deleteMarkers: 0, bytes: 3 }]);
  });

  it('20 concurrent unconditional PutObject on one key → all succeed, one latest version, usage exact', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => outcome(Promise.resolve((i % 2 ? a : b).putObject(objectRecord('race', 'u', { size: 10, etag: `"u${i}"` }))))),
    );
    assert.deepEqual(new Set(results), new Set(['ok']));
    const versions = await a.scanVersions('race', 'u', '', '', 100);
    assert.equal(versions.length, 1);
    assert.equal(versions[0]!.isLatest, true);
    const usage = (await b.usage.listUsage())[0]!;
    assert.deepEqual({ objects: usage.objects, versions: usage.versions, bytes: usage.bytes }, { objects: 2, versions: 2, bytes: 13 });
  });

  it('two concurrent CompleteMultipartUpload of one upload → one wins, the other NoSuchUpload', async () => {
    await a.createUpload(uploadRecord('race', 'mp', { uploadId: 'U1' }));
    const part = partRecord(1, { data: { id: 'mp-piece-1', size: 5 }, size: 5 });
    await b.putPart('race', 'mp', 'U1', part);
    const rec = (etag: string) => objectRecord('race', 'mp', { size: 5, etag, data: [{ id: 'mp-piece-1', size: 5 }] });
    const results = await Promise.all([
      outcome(Promise.resolve(a.completeUpload('race', 'mp', 'U1', rec('"A-1"')))),
      outcome(Promise.resolve(b.completeUpload('race', 'mp', 'U1', rec('"B-1"')))),
    ]);
    assert.deepEqual([...results].sort(), ['NoSuchUpload', 'ok']);
    const got = await a.getObject('race', 'mp');
    assert.equal(got?.etag, results[0] === 'ok' ? '"A-1"' : '"B-1"');
    assert.equal((await b.getCompletedUpload('race', 'mp'))?.uploadId, 'U1');
  });
});

describe('PgMetaStore › generations and database loss', () => {
  let url: string;
  let store: PgMetaStore;
  before(async () => {
    url = await (await pgCluster()).createDatabase();
    store = await openStore(url);
    await store.createBucket(bucket('g'));
    await store.putBucketConfig('g', 'cors', '{"a":1}');
  });
  after(() => store.close());

  it('getBucketWithConfigs → the documents asked for and the identity generation of strata_generations', async () => {
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      assert.deepEqual((await raw.query("SELECT name, value::int AS value FROM strata_generations WHERE name IN ('identity', 'kms') ORDER BY name")).rows, [
        { name: 'identity', value: 0 },
        { name: 'kms', value: 0 },
      ]);
      await raw.query("UPDATE strata_generations SET value = 7 WHERE name = 'identity'");
    } finally {
      await raw.end();
    }
    const got = await store.getBucketWithConfigs('g', ['cors', 'policy']);
    assert.equal(got?.identityGeneration, 7);
    assert.deepEqual([...(got?.configs ?? [])], [['cors', '{"a":1}']]);
    assert.equal(await store.getBucketWithConfigs('nope', ['cors']), undefined);
  });

  it('PostgreSQL stopped → reads and writes fail with Unavailable (no hang); started again → the same store serves', async () => {
    const c = await pgCluster();
    await store.putObject(objectRecord('g', 'before'));
    let t = Date.now();
    await c.stop();
    const stopMs = Date.now() - t;
    t = Date.now();
    try {
      await assert.rejects(
        async () => store.getObject('g', 'before'),
        (err: unknown) => err instanceof StoreError && err.code === 'Unavailable',
      );
      await assert.rejects(
        async () => store.putObject(objectRecord('g', 'during')),
        (err: unknown) => err instanceof StoreError && err.code === 'Unavailable',
      );
      await assert.rejects(
        async () => store.deleteObject('g', 'before'),
        (err: unknown) => err instanceof StoreError && err.code === 'Unavailable',
      );
      console.log(`pg_ctl stop ${stopMs} ms; three refused calls ${Date.now() - t} ms`);
    } finally {
      t = Date.now();
      await c.start();
      console.log(`pg_ctl start ${Date.now() - t} ms`);
    }
    assert.equal((await store.getObject('g', 'before'))?.key, 'before');
    await store.putObject(objectRecord('g', 'after'));
    assert.deepEqual(
      (await store.scanListing('g', '', '', 10)).map((o) => o.key),
      ['after', 'before'],
    );
  });
});
