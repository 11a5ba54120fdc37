#!/usr/bin/env node
// In-process: round trips to PostgreSQL per metadata call of PgMetaStore (counted at the client:
// with named prepared statements one query is one round trip), and µs per call next to
// SqliteMetaStore in the same run (docs/performance.md, "PostgreSQL metadata store: round trips per
// request"). A throw-away cluster from test/helpers/postgres.ts.   node dist/bench/pg-meta-micro.js [CALLS=2000]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from '../test/helpers/postgres.js';
import { PgDb } from '../src/store/meta/postgres/db.js';
import { MIGRATIONS } from '../src/store/meta/postgres/migrations.js';
import { PgMetaStore, type PgSubStores } from '../src/store/meta/postgres/store.js';
import { SqliteMetaStore } from '../src/store/meta/sqlite.js';
import type { MetaStore, ObjectRecord } from '../src/store/types.js';

const calls = Math.max(1, Number(process.argv[2] ?? 2000));
let queries = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  queries++;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

const cluster = await startPostgres();
const dir = mkdtempSync(join(os.tmpdir(), 'strata-pg-micro-'));
try {
  const db = PgDb.create(await cluster.createDatabase('micro'));
  await db.migrate(MIGRATIONS);
  // The calls measured use none of the sub-stores.
  const pgStore = new PgMetaStore(db, {} as PgSubStores);
  const sqlite = SqliteMetaStore.open(join(dir, 'meta.db'));
  const body = Buffer.alloc(4096, 7);
  const rec = (i: number, key = `k${i % 500}`): ObjectRecord => ({
    bucket: 'b',
    key,
    versionId: 'null',
    isLatest: true,
    isDeleteMarker: false,
    size: body.length,
    etag: `"e${i}"`,
    lastModified: Date.now(),
    storageClass: 'STANDARD',
    meta: { contentType: 'application/octet-stream', user: {} },
    data: [],
    inline: body,
  });
  const stores: Array<[string, MetaStore]> = [
    ['postgres', pgStore],
    ['sqlite', sqlite],
  ];
  for (const [, s] of stores) {
    await s.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
    for (let i = 0; i < 600; i++) await s.putObject(rec(i)); // every key exists; statements prepared
  }
  const cells: Array<[string, (s: MetaStore, i: number) => unknown, number]> = [
    ['PUT 4 KiB overwrite, serial', (s, i) => s.putObject(rec(i)), 1],
    ['PUT 4 KiB overwrite, 16 at a time', (s, i) => s.putObject(rec(i)), 16],
    ['HEAD, serial', (s, i) => s.getObject('b', `k${i % 500}`, undefined, false), 1],
    ['GET 4 KiB, serial', (s, i) => s.getObject('b', `k${i % 500}`), 1],
    ['HEAD, 16 at a time', (s, i) => s.getObject('b', `k${i % 500}`, undefined, false), 16],
    ['PUT If-None-Match: * new key, serial', (s, i) => s.putObject(rec(i, `n${i}-${Math.random()}`), { mustNotExist: true }), 1],
    ['DELETE, serial', (s, i) => s.deleteObject('b', `k${i % 500}`), 1],
  ];
  for (const [name, op, width] of cells) {
    const line = [name.padEnd(38)];
    for (const [storeName, s] of stores) {
      const q0 = queries;
      const t0 = process.hrtime.bigint();
      let next = 0;
      await Promise.all(
        Array.from({ length: width }, async () => {
          while (next < calls) await op(s, next++);
        }),
      );
      const us = Number(process.hrtime.bigint() - t0) / 1000 / calls;
      line.push(`${storeName} ${us.toFixed(0).padStart(6)} µs`);
      if (s === pgStore) line.push(`(${((queries - q0) / calls).toFixed(2)} round trips)`);
    }
    console.log(line.join('  '));
  }
  await pgStore.close();
  await sqlite.close();
} finally {
  await cluster.dispose();
  rmSync(dir, { recursive: true, force: true });
}
