// A gateway lost while PostgreSQL still holds its work: a statement its backend runs after the
// client died (late, behind a newer acknowledged write of the same key), and a transaction left
// open by a gateway that froze or was cut off (its row locks). The stores are PgMetaStores on one
// database, as two gateways; "gateway X" is killed or frozen by acting on its connection.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startPostgres, type PostgresCluster } from '../../../../test/helpers/postgres.js';
import { objectRecord } from '../../contract.js';
import type { ObjectRecord } from '../../types.js';
import { STALE_WRITE } from './core-sql.js';
import type { PgMetaStore } from './store.js';
import { bucketRecord, openBareStore } from './test-stores.js';

let cluster: Promise<PostgresCluster> | undefined;
const pgCluster = (): Promise<PostgresCluster> => (cluster ??= startPostgres());
after(async () => {
  if (cluster) await (await cluster).dispose();
});

const openStore = openBareStore;
const bucket = (name: string) => bucketRecord(name);

describe('PgMetaStore › a write that reaches PostgreSQL after a newer one', () => {
  it('the one-statement write held back by its guard changes nothing; putObject then writes through the transaction', async () => {
    const store = await openStore(await (await pgCluster()).createDatabase());
    try {
      await store.createBucket(bucket('late'));
      const newer = objectRecord('late', 'k', { lastModified: 2_000_000, data: [{ id: 'newer', size: 5 }], size: 5 });
      await store.putObject(newer);
      // What a SIGKILLed gateway's statement does when its backend runs it late: nothing, and says so.
      const older = objectRecord('late', 'k', { lastModified: 1_000_000, data: [{ id: 'older', size: 5 }], size: 5 });
      const direct = store as unknown as { writeVersion(rec: unknown, checked: boolean, on: unknown): Promise<unknown> };
      await assert.rejects(
        async () => direct.writeVersion(older, false, store.db.pool),
        (e: Error & { code?: string }) => e.code === 'PreconditionFailed' && e.message === STALE_WRITE,
      );
      assert.deepEqual((await store.getObject('late', 'k'))?.data, [{ id: 'newer', size: 5 }], 'the newer write stays');
      const usage = await store.usage.listUsage();
      assert.equal(Number(usage.find((u) => u.bucket === 'late')?.objects), 1, 'usage unchanged');
      // A live caller (e.g. a gateway with a slower clock) still writes: putObject takes the transaction.
      assert.deepEqual(await store.putObject(older), [{ id: 'newer', size: 5 }]);
      assert.deepEqual((await store.getObject('late', 'k'))?.data, [{ id: 'older', size: 5 }]);
    } finally {
      await store.close();
    }
  });
});

describe("PgMetaStore › a dead gateway's statement that PostgreSQL runs late (the backend stopped, the client gone)", () => {
  // How cluster-kill's read-after-write failure happens: gateway X sends its one-statement PUT and
  // is SIGKILLed before PostgreSQL's backend for it has read the statement (here: the backend is
  // stopped with SIGSTOP). The client saw a 502 and wrote again through another gateway, which was
  // acknowledged. Then the backend runs — PostgreSQL executes a statement it received in full even
  // though its client is gone — and commits it.
  async function lateWrite(url: string, early: ObjectRecord, acknowledged: ObjectRecord, y: PgMetaStore): Promise<void> {
    const x = await openStore(url, { poolSize: 1 });
    // Pool of one: the connection read here is the one putObject uses next.
    const client = await x.db.pool.connect();
    const socket = (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream;
    const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
    client.release();
    process.kill(pid, 'SIGSTOP');
    try {
      const sent = x.putObject(early).then(
        () => assert.fail('the stopped backend cannot have answered'),
        () => 'lost',
      );
      await new Promise((r) => setTimeout(r, 100)); // the statement is in the backend's socket buffer
      socket.destroy(); // what SIGKILL does to gateway X's connection
      assert.equal(await sent, 'lost');
      await y.putObject(acknowledged); // through gateway Y, acknowledged to the client
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The backend now reads the statement, runs it, finds its client gone and exits.
    for (let i = 0; ; i++) {
      const alive = await y.db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      if (alive.rowCount === 0) break;
      assert.ok(i < 200, 'the late backend exits within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    await x.close();
  }

  it('the late statement does run and commit: on another key, its write appears after its client died', async () => {
    const url = await (await pgCluster()).createDatabase();
    const y = await openStore(url);
    try {
      await y.createBucket(bucket('late'));
      const t = Date.now();
      const early = objectRecord('late', 'a', { lastModified: t, data: [{ id: 'early', size: 5 }], size: 5 });
      const other = objectRecord('late', 'b', { lastModified: t + 5, data: [{ id: 'other', size: 5 }], size: 5 });
      await lateWrite(url, early, other, y);
      assert.deepEqual((await y.getObject('late', 'a'))?.data, [{ id: 'early', size: 5 }], 'a write whose client saw only an error');
      assert.deepEqual((await y.getObject('late', 'b'))?.data, [{ id: 'other', size: 5 }]);
    } finally {
      await y.close();
    }
  });

  it('on the same key, the guard keeps the acknowledged newer write and the usage counts', async () => {
    const url = await (await pgCluster()).createDatabase();
    const y = await openStore(url);
    try {
      await y.createBucket(bucket('late'));
      const t = Date.now();
      const early = objectRecord('late', 'k', { lastModified: t, data: [{ id: 'early', size: 5 }], size: 5 });
      const acked = objectRecord('late', 'k', { lastModified: t + 5, data: [{ id: 'acked', size: 7 }], size: 7 });
      await lateWrite(url, early, acked, y);
      assert.deepEqual((await y.getObject('late', 'k'))?.data, [{ id: 'acked', size: 7 }], 'the acknowledged write stays');
      assert.deepEqual(await y.usage.listUsage(), [{ bucket: 'late', objects: 1, versions: 1, deleteMarkers: 0, bytes: 7 }]);
    } finally {
      await y.close();
    }
  });
});

describe('PgMetaStore › a gateway frozen inside a transaction (its machine lost: no FIN, no rollback)', () => {
  it('PostgreSQL ends the idle transaction and frees its locks: a write of the locked key goes through', async () => {
    const url = await (await pgCluster()).createDatabase();
    const y = await openStore(url);
    const x = await openStore(url, { poolSize: 1, idleInTransactionMs: 1000 });
    // Gateway X takes the key's row lock in a transaction, then never says another word.
    const client = await x.db.pool.connect();
    client.on('error', () => undefined); // PostgreSQL ends the session: expected
    try {
      await y.createBucket(bucket('frozen'));
      await y.putObject(objectRecord('frozen', 'k', { data: [{ id: 'first', size: 5 }], size: 5 }));
      await client.query('BEGIN');
      const locked = await client.query("SELECT 1 FROM objects WHERE bucket = 'frozen' AND is_latest FOR UPDATE");
      assert.equal(locked.rowCount, 1);
      // Gateway Y's write of the same key waits for the lock, then commits once PostgreSQL has
      // ended X's session — well within Y's statement bound (15 s), so the client sees a success.
      await y.putObject(objectRecord('frozen', 'k', { lastModified: Date.now() + 1000, data: [{ id: 'second', size: 6 }], size: 6 }));
      assert.deepEqual((await y.getObject('frozen', 'k'))?.data, [{ id: 'second', size: 6 }]);
      await assert.rejects(client.query('SELECT 1'), "X's session was ended by PostgreSQL");
    } finally {
      client.release(true);
      await x.close();
      await y.close();
    }
  });

  it("the gateways' sessions carry the bound by default: 10 s, under the 15 s statement bound", async () => {
    const y = await openStore(await (await pgCluster()).createDatabase());
    try {
      const [row] = (
        await y.db.pool.query<{ idle: string; stmt: string }>(
          "SELECT current_setting('idle_in_transaction_session_timeout') AS idle, current_setting('statement_timeout') AS stmt",
        )
      ).rows;
      assert.deepEqual(row, { idle: '10s', stmt: '15s' });
    } finally {
      await y.close();
    }
  });
});
