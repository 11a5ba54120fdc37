// PgCoordination on a throw-away PostgreSQL cluster: the coordination contract, and two stores (two
// pools) on one database: a lease held by one is not taken by the other before it expires (and
// exactly one of many racing takers wins); pending frees taken by one are never taken by the other.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PostgresCluster, startPostgres } from '../../../../test/helpers/postgres.js';
import { runCoordinationContract } from '../../contract-coord.js';
import { PgCoordination } from './coord.js';
import { openPgDb } from './open.js';

let cluster: PostgresCluster;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster?.dispose();
});

runCoordinationContract('postgres', async () => {
  const db = await openPgDb(await cluster.createDatabase(), { poolSize: 4 });
  return { c: new PgCoordination(db), close: () => db.close() };
});

describe('PgCoordination: two stores on one database', () => {
  it('leases › held by one, refused to the other until it expires; of 20 racing takers exactly one wins', async () => {
    const url = await cluster.createDatabase();
    const [da, db] = [await openPgDb(url, { poolSize: 4 }), await openPgDb(url, { poolSize: 4 })];
    const [a, b] = [new PgCoordination(da), new PgCoordination(db)];
    try {
      assert.equal(await a.tryLease('jobs', 'A', 1000, 500), true);
      assert.equal(await b.tryLease('jobs', 'B', 1499, 500), false, 'not yet expired');
      assert.equal(await b.leaseHolder('jobs', 1499), 'A');
      assert.equal(await b.tryLease('jobs', 'B', 1500, 500), true, 'expired');
      assert.equal(await a.tryLease('jobs', 'A', 1600, 500), false);
      const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).tryLease('race', `P${i}`, 5000, 1000)));
      assert.equal(wins.filter(Boolean).length, 1);
    } finally {
      await da.close();
      await db.close();
    }
  });

  it('pending frees › taken concurrently by two stores, each free goes to exactly one; a pin in one holds the free in the other', async () => {
    const url = await cluster.createDatabase();
    const [da, db] = [await openPgDb(url, { poolSize: 4 }), await openPgDb(url, { poolSize: 4 })];
    const [a, b] = [new PgCoordination(da), new PgCoordination(db)];
    try {
      const ids = Array.from({ length: 200 }, (_, i) => `piece-${i}`);
      await a.addPendingFrees(ids, 1000);
      await b.pin('reader', ['piece-7'], 9000);
      const takes: Array<Promise<string[]>> = [];
      for (let i = 0; i < 10; i++) takes.push((i % 2 ? a : b).takeDueFrees(2000, 3000, 25, () => false));
      const taken = (await Promise.all(takes)).flat();
      taken.push(...(await a.takeDueFrees(2000, 3000, 1000, () => false)), ...(await b.takeDueFrees(2000, 3000, 1000, () => false)));
      assert.equal(new Set(taken).size, taken.length, 'no free taken twice');
      assert.deepEqual([...taken].sort(), ids.filter((id) => id !== 'piece-7').sort());
      assert.equal(await b.pendingFrees(), 1, 'the pinned one stays');
      await b.unpin('reader');
      assert.deepEqual(await a.takeDueFrees(2000, 3000, 10, () => false), ['piece-7']);
    } finally {
      await da.close();
      await db.close();
    }
  });
});
