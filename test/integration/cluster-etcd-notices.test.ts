// Cache invalidation through etcd (issue 17: "IAM and bucket configuration changes reach every
// gateway within a second"): two PostgreSQL metadata stores on one database, as two gateways, with
// PostgreSQL's own notifications off and its generation poll once a minute, so that only etcd can
// carry a change in time. Each store is attached to its own etcd client (src/cluster/etcd.ts), as
// serve.ts attaches it with --etcd. A third store, not attached, shows what the others would see
// without etcd: the stale cache until its poll. Real PostgreSQL and etcd from Debian's packages.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdCluster } from '../../src/cluster/etcd.js';
import { openPgMetaStore } from '../../src/store/meta/postgres/open.js';
import type { PgMetaStore } from '../../src/store/meta/postgres/store.js';
import { ROOT_USER_ID } from '../../src/store/types.js';
import { type EtcdCluster as EtcdServers, startEtcd } from '../helpers/etcd.js';
import { type PostgresCluster, startPostgres } from '../helpers/postgres.js';

/** No LISTEN, a poll once a minute: PostgreSQL cannot deliver a change within the test's waits. */
const QUIET_FEED = { listen: false, pollMs: 60_000 } as const;

/** Polls `cond` every 10 ms for up to `ms`; the time it took, or undefined if it never held. */
async function within(ms: number, cond: () => boolean | Promise<boolean>): Promise<number | undefined> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (await cond()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  return (await cond()) ? performance.now() - t0 : undefined;
}

describe('etcd change notices: IAM and bucket configuration reach every gateway within a second', () => {
  let pg: PostgresCluster;
  let etcd: EtcdServers;
  let a: PgMetaStore;
  let b: PgMetaStore;
  let lone: PgMetaStore;
  const clients: EtcdCluster[] = [];
  const publishErrors: string[] = [];

  before(async () => {
    [pg, etcd] = await Promise.all([startPostgres(), startEtcd()]);
    const url = await pg.createDatabase();
    a = await openPgMetaStore(url, { poolSize: 3, feed: QUIET_FEED });
    b = await openPgMetaStore(url, { poolSize: 3, feed: QUIET_FEED });
    lone = await openPgMetaStore(url, { poolSize: 3, feed: QUIET_FEED });
    for (const [i, s] of [a, b].entries()) {
      const c = new EtcdCluster({ endpoints: etcd.endpoints, id: `gw-${i}` });
      clients.push(c);
      s.attachChangeNotices(c, (name) => publishErrors.push(name));
      await c.changes.ready();
    }
    await a.createBucket({ name: 'shared', region: 'us-east-1', createdAt: 0, versioning: '', owner: ROOT_USER_ID, objectLock: false });
  });

  after(async () => {
    for (const s of [a, b, lone]) await s?.close().catch(() => undefined);
    for (const c of clients) await c.close().catch(() => undefined);
    await Promise.all([pg?.dispose(), etcd?.dispose()]);
  });

  it('a bucket policy and versioning set through A: B drops its cached bucket within a second; the store without etcd keeps it', async () => {
    for (const s of [b, lone]) {
      assert.equal((await s.getBucketWithConfigs('shared', ['policy']))?.configs.has('policy'), false);
      assert.equal((await s.getBucket('shared'))?.versioning, '');
      assert.ok(s.buckets!.row('shared'), 'cached');
    }
    await a.putBucketConfig('shared', 'policy', '{"Version":"2012-10-17","Statement":[]}');
    await a.updateBucket('shared', { versioning: 'Enabled' });
    const ms = await within(1000, async () => {
      const got = await b.getBucketWithConfigs('shared', ['policy']);
      return got?.configs.get('policy') !== undefined && got.bucket.versioning === 'Enabled';
    });
    assert.ok(ms !== undefined, 'B sees the policy and versioning within a second');
    console.log(`# bucket configuration reached the other gateway in ${ms.toFixed(0)} ms through etcd`);
    // The control: the same change, no etcd, no LISTEN — still the cached row.
    assert.equal((await lone.getBucketWithConfigs('shared', ['policy']))?.configs.has('policy'), false, 'without etcd: stale until the poll');
    assert.equal((await lone.getBucket('shared'))?.versioning, '');
  });

  it('a user created and disabled through A is seen by B within a second; the store without etcd does not see it', async () => {
    await a.identities.createUser({ name: 'carol', userId: 'u-carol', status: 'enabled', created: 1 });
    const ms = await within(1000, () => b.identities.getUser('carol')?.status === 'enabled');
    assert.ok(ms !== undefined, 'B knows carol within a second');
    await a.identities.setUserStatus('carol', 'disabled');
    const off = await within(1000, () => b.identities.getUser('carol')?.status === 'disabled');
    assert.ok(off !== undefined, 'B sees carol disabled within a second');
    console.log(`# IAM changes reached the other gateway in ${ms.toFixed(0)} ms and ${off.toFixed(0)} ms through etcd`);
    assert.equal(lone.identities.getUser('carol'), undefined, 'without etcd: not until the poll');
  });

  it('etcd down: writes still commit, and the notice that could not be published is reported', async () => {
    await etcd.kill(0);
    try {
      await a.putBucketConfig('shared', 'policy', '{"Version":"2012-10-17","Statement":[],"Id":"down"}');
      assert.ok((await within(5000, () => publishErrors.includes('buckets'))) !== undefined, 'the failed publish is reported');
      const got = await a.getBucketWithConfigs('shared', ['policy']);
      assert.match(got?.configs.get('policy') ?? '', /"down"/, 'the write itself committed');
    } finally {
      await etcd.restart(0);
    }
  });
});
