// The PostgreSQL store's bucket cache (bucket-cache.ts): the shared MetaStore contract with the
// cache on (the store as a gateway opens it), and two stores on one database playing two gateways:
// a bucket change through one reaches the other's cache through the notification, or through the
// poll when notifications are off; absence is never cached; a stale row cannot write into a
// bucket deleted meanwhile; a read that raced with a clear does not refill the cache.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { eventually } from '../../../../test/helpers/pg-stores.js';
import { startPostgres, type PostgresCluster } from '../../../../test/helpers/postgres.js';
import { objectRecord, runMetaStoreContract } from '../../contract.js';
import { runVersionsContract } from '../../contract-versions.js';
import { ROOT_USER_ID } from '../../types.js';
import { BucketCache } from './bucket-cache.js';
import type { BucketRow } from './core-sql.js';
import type { ChangeFeedOptions } from './snapshot.js';
import { openPgMetaStore } from './open.js';
import type { PgMetaStore } from './store.js';

let cluster: Promise<PostgresCluster> | undefined;
const pgCluster = (): Promise<PostgresCluster> => (cluster ??= startPostgres());
after(async () => {
  if (cluster) await (await cluster).dispose();
});

const open = (url: string, feed?: ChangeFeedOptions): Promise<PgMetaStore> =>
  openPgMetaStore(url, { poolSize: 4, feed: { minBackoffMs: 50, maxBackoffMs: 200, ...feed } });

/** A store as a gateway opens it (bucket cache on), on a fresh database. */
async function cachedHarness() {
  const url = await (await pgCluster()).createDatabase();
  let current = await open(url);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await open(url);
      return current;
    },
  };
}

runMetaStoreContract('postgres, bucket cache on', cachedHarness, { persistent: true });
runVersionsContract('postgres, bucket cache on', cachedHarness);

const bucket = (name: string, owner = ROOT_USER_ID) => ({ name, region: 'us-east-1', createdAt: 0, versioning: '' as const, owner, objectLock: false });

/** Two stores (two gateways) on one fresh database, closed after fn. */
async function twoGateways(fn: (a: PgMetaStore, b: PgMetaStore) => Promise<void>, feed?: ChangeFeedOptions): Promise<void> {
  const url = await (await pgCluster()).createDatabase();
  const a = await open(url, feed);
  const b = await open(url, feed);
  try {
    await fn(a, b);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

describe('PgMetaStore › bucket cache across gateways', () => {
  it('reads a bucket from the cache after the first read; own writes are seen at once', async () => {
    await twoGateways(async (a) => {
      await a.createBucket(bucket('b1'));
      await a.getBucket('b1');
      const hits = a.buckets!.hits;
      assert.equal((await a.getBucket('b1'))?.versioning, '');
      assert.equal(a.buckets!.hits, hits + 1, 'the second read is a hit');
      await a.updateBucket('b1', { versioning: 'Enabled' });
      assert.equal((await a.getBucket('b1'))?.versioning, 'Enabled', 'own write: never the cached row');
      await a.putBucketConfig('b1', 'policy', '{"p":1}');
      const got = await a.getBucketWithConfigs('b1', ['policy']);
      assert.equal(got?.configs.get('policy'), '{"p":1}');
      const again = await a.getBucketWithConfigs('b1', ['policy']);
      assert.equal(again?.configs.get('policy'), '{"p":1}');
      again!.configs.set('policy', 'changed by a caller');
      assert.equal((await a.getBucketWithConfigs('b1', ['policy']))?.configs.get('policy'), '{"p":1}', 'hits are copies');
    });
  });

  it('a change through one gateway reaches the other within a second (notification)', async () => {
    await twoGateways(async (a, b) => {
      await a.createBucket(bucket('b1'));
      await b.getBucketWithConfigs('b1', ['policy']);
      assert.equal((await b.getBucketWithConfigs('b1', ['policy']))?.configs.has('policy'), false);
      const t0 = performance.now();
      await a.putBucketConfig('b1', 'policy', '{"v":2}');
      await a.updateBucket('b1', { versioning: 'Enabled' });
      let seen: string | undefined;
      let versioning: string | undefined;
      for (let i = 0; i < 100 && (seen === undefined || versioning !== 'Enabled'); i++) {
        seen = (await b.getBucketWithConfigs('b1', ['policy']))?.configs.get('policy');
        versioning = (await b.getBucket('b1'))?.versioning;
        if (seen === undefined || versioning !== 'Enabled') await new Promise((r) => setTimeout(r, 10));
      }
      const ms = performance.now() - t0;
      assert.equal(seen, '{"v":2}');
      assert.equal(versioning, 'Enabled');
      assert.ok(ms < 1000, `seen after ${ms.toFixed(0)} ms`);
    });
  });

  it('without notifications, the poll of the generation clears the cache within about a second', async () => {
    await twoGateways(
      async (a, b) => {
        await a.createBucket(bucket('b1'));
        await b.getBucket('b1');
        assert.equal((await b.getBucket('b1'))?.versioning, '', 'cached');
        await a.updateBucket('b1', { versioning: 'Enabled' });
        const t0 = performance.now();
        let v = (await b.getBucket('b1'))?.versioning;
        while (v !== 'Enabled' && performance.now() - t0 < 3000) {
          await new Promise((r) => setTimeout(r, 25));
          v = (await b.getBucket('b1'))?.versioning;
        }
        const ms = performance.now() - t0;
        assert.equal(v, 'Enabled');
        assert.ok(ms < 1600, `seen after ${ms.toFixed(0)} ms (poll every 500 ms)`);
      },
      { listen: false, pollMs: 500 },
    );
  });

  it('absence is never cached: a bucket created through another gateway is there at once', async () => {
    await twoGateways(async (a, b) => {
      assert.equal(await b.getBucket('fresh'), undefined);
      assert.equal(await b.getBucketWithConfigs('fresh', ['policy']), undefined);
      await a.createBucket(bucket('fresh'));
      assert.equal((await b.getBucket('fresh'))?.name, 'fresh');
      assert.equal((await b.getBucketWithConfigs('fresh', ['policy']))?.bucket.name, 'fresh');
    });
  });

  it('a bucket deleted through another gateway: no write lands in it, reads find nothing, the stale row goes', async () => {
    await twoGateways(
      async (a, b) => {
        await a.createBucket(bucket('gone'));
        assert.ok(await b.getBucket('gone'));
        assert.ok(b.buckets!.row('gone'), 'cached in b');
        await a.deleteBucket('gone');
        // Notifications are off: b still holds the row until its poll (a minute here).
        assert.ok(await b.getBucket('gone'), 'b serves its cached row');
        await assert.rejects(
          async () => b.putObject(objectRecord('gone', 'k')),
          (e: Error & { code?: string }) => e.code === 'NoSuchBucket',
        );
        await assert.rejects(
          async () => b.scanListing('gone', '', '', 10),
          (e: Error & { code?: string }) => e.code === 'NoSuchBucket',
        );
        assert.equal(await b.getObject('gone', 'k'), undefined);
        assert.equal(await b.getBucket('gone'), undefined, 'the read that found no bucket cleared the cache');
      },
      { listen: false, pollMs: 60_000 },
    );
  });

  it("HeadBucket's fresh read: a bucket deleted through another gateway is gone at once for it, and the stale row with it", async () => {
    await twoGateways(
      async (a, b) => {
        await a.createBucket(bucket('headed'));
        assert.ok(await b.getBucket('headed'));
        await a.deleteBucket('headed');
        assert.ok(await b.getBucket('headed'), 'b serves its cached row (notifications off)');
        assert.equal(await b.getBucket('headed', { fresh: true }), undefined, 'the fresh read finds no bucket');
        assert.equal(b.buckets!.row('headed'), undefined, 'and drops what was cached');
        await a.createBucket(bucket('kept'));
        assert.equal((await b.getBucket('kept', { fresh: true }))?.name, 'kept');
      },
      { listen: false, pollMs: 60_000 },
    );
  });

  it('a bucket re-created by another owner through another gateway is seen with its new owner', async () => {
    await twoGateways(async (a, b) => {
      await a.createBucket(bucket('again', 'alice'));
      assert.equal((await b.getBucket('again'))?.owner, 'alice');
      await a.deleteBucket('again');
      await a.createBucket(bucket('again', 'bob'));
      assert.ok(await eventually(() => b.buckets!.row('again') === undefined), 'the delete cleared b within the wait');
      assert.equal((await b.getBucket('again'))?.owner, 'bob');
    });
  });
});

describe('BucketCache', () => {
  const row = (versioning: BucketRow['versioning']): BucketRow => ({ name: 'b', region: 'r', created_at: 1, versioning, owner: 'o', object_lock: 0 });
  const noDb = { query: async () => [] as never[] };

  it('a read that started before a clear does not put what it read into the cache', () => {
    const c = new BucketCache(noDb);
    const epoch = c.epoch;
    c.clear();
    c.keepRow('b', row(''), epoch);
    c.keepConfigs('b', ['policy'], row(''), { policy: 'x' }, epoch);
    assert.equal(c.row('b'), undefined);
    assert.equal(c.configs('b', ['policy']), undefined);
    c.keepRow('b', row('Enabled'), c.epoch);
    assert.equal(c.row('b')?.versioning, 'Enabled');
  });

  it('configuration reads are kept per set of names; a changed row drops the reads of the old one', () => {
    const c = new BucketCache(noDb);
    c.keepConfigs('b', ['policy'], row(''), { policy: 'p' }, c.epoch);
    c.keepConfigs('b', ['policy', 'acl'], row(''), { policy: 'p', acl: 'a' }, c.epoch);
    assert.deepEqual(c.configs('b', ['policy'])?.configs, { policy: 'p' });
    assert.deepEqual(c.configs('b', ['policy', 'acl'])?.configs, { policy: 'p', acl: 'a' });
    assert.equal(c.configs('b', ['acl']), undefined);
    c.keepRow('b', row('Enabled'), c.epoch);
    assert.equal(c.configs('b', ['policy']), undefined, 'reads of the old row are gone');
    assert.equal(c.row('b')?.versioning, 'Enabled');
  });

  it('keeps at most 1024 buckets, least recently used out first', () => {
    const c = new BucketCache(noDb);
    for (let i = 0; i < 1030; i++) c.keepRow(`b${i}`, { ...row(''), name: `b${i}` }, c.epoch);
    assert.equal(c.size, 1024);
    assert.equal(c.row('b0'), undefined);
    assert.ok(c.row('b1029'));
  });
});
