// Snapshot.write (snapshot.ts): a write that committed is reported as done even when the reload
// after it fails (PostgreSQL lost just after the commit), and a later refresh brings the change in.
// On a throw-away PostgreSQL cluster; the snapshot's load is the test's own, failing on demand.

import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { startPostgres, type PostgresCluster } from '../../../../test/helpers/postgres.js';
import { PgDb } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { readGeneration, Snapshot } from './snapshot.js';

let cluster: PostgresCluster | undefined;
after(async () => {
  await cluster?.dispose();
});

it('a committed write whose reload fails resolves; the next refresh loads the change', async () => {
  cluster = await startPostgres();
  const db = PgDb.create(await cluster.createDatabase(), { poolSize: 2 });
  try {
    await db.migrate(MIGRATIONS);
    await db.query('CREATE TABLE t (v integer NOT NULL)');
    let failLoads = false;
    const snap = new Snapshot(
      db,
      'identity',
      async (c) => {
        if (failLoads) throw new Error('connection lost (simulated)');
        const rows = await c.query<{ v: number }>('SELECT v FROM t ORDER BY v');
        return { generation: await readGeneration(c, 'identity'), values: rows.rows.map((r) => r.v) };
      },
      { generation: -1, values: [] as number[] },
    );
    await snap.refresh();
    assert.deepEqual(snap.current.values, []);

    await snap.write(async (c) => {
      await c.query('INSERT INTO t (v) VALUES (1)');
    });
    assert.deepEqual(snap.current.values, [1], 'own write: read at once');

    failLoads = true;
    const out = await snap.write(async (c) => {
      await c.query('INSERT INTO t (v) VALUES (2)');
      return 'committed';
    });
    assert.equal(out, 'committed', 'the write resolves although its reload failed');
    assert.deepEqual(
      (await db.query<{ v: number }>('SELECT v FROM t ORDER BY v')).map((r) => r.v),
      [1, 2],
      'and it is in the database',
    );
    assert.deepEqual(snap.current.values, [1], 'the snapshot is behind until a reload succeeds');

    failLoads = false;
    await snap.refresh();
    assert.deepEqual(snap.current.values, [1, 2]);

    failLoads = true;
    await assert.rejects(
      snap.write(async (c) => {
        await c.query('INSERT INTO t (v) VALUES (NULL)');
      }),
      /null value/,
      'a write that fails before its commit is still reported as failed',
    );
  } finally {
    await db.close();
  }
});
