// The gateway registry in PostgreSQL, the namespace binding of a data directory, and the cluster
// status assembled from them, against a throw-away PostgreSQL (test/helpers/postgres.ts).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PostgresCluster, startPostgres } from '../../test/helpers/postgres.js';
import { PgDb } from '../store/meta/postgres/db.js';
import { MIGRATIONS } from '../store/meta/postgres/migrations.js';
import { bindNamespace, NAMESPACE_FILE, NamespaceMismatchError, refuseSqliteDir } from './registry-binding.js';
import { PgGatewayRegistry, pgHealth } from './registry-pg.js';
import { clusterStatus } from './registry-status.js';

describe('gateway registry, namespace binding and cluster status on PostgreSQL', () => {
  let pg: PostgresCluster;
  let db: PgDb;
  let dir: string;
  before(async () => {
    pg = await startPostgres();
    db = PgDb.create(await pg.createDatabase(), { poolSize: 2 });
    await db.migrate(MIGRATIONS);
    dir = mkdtempSync(join(tmpdir(), 'strata-registry-'));
  });
  after(async () => {
    await db?.close();
    await pg?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers, heartbeats, lists (live, by start), re-registers a lost row, and deregisters on close', async () => {
    const a = new PgGatewayRegistry(db);
    const b = new PgGatewayRegistry(db);
    await a.register({ id: 'gw-a', address: 'http://10.0.0.1:9000', hostname: 'one', pid: 11 });
    await b.register({ id: 'gw-b', address: 'http://10.0.0.2:9000', hostname: 'two', pid: 22 });
    const list = await a.list();
    assert.deepEqual(
      list.map((g) => [g.id, g.address, g.hostname, g.pid, g.live]),
      [
        ['gw-a', 'http://10.0.0.1:9000', 'one', 11, true],
        ['gw-b', 'http://10.0.0.2:9000', 'two', 22, true],
      ],
    );
    const seen = list[0]!.lastSeen;
    // A gateway last seen long ago is listed as not live.
    await db.query("UPDATE strata_gateways SET last_seen = now() - interval '1 minute' WHERE id = 'gw-a'");
    assert.equal((await b.list()).find((g) => g.id === 'gw-a')?.live, false);
    await a.heartbeat();
    const again = (await b.list()).find((g) => g.id === 'gw-a')!;
    assert.equal(again.live, true);
    assert.ok(again.lastSeen >= seen);
    // Its row lost (a restore): the next heartbeat brings it back.
    await db.query("DELETE FROM strata_gateways WHERE id = 'gw-a'");
    await a.heartbeat();
    assert.ok((await b.list()).some((g) => g.id === 'gw-a'));
    // Gone for over an hour: pruned by anyone's heartbeat.
    await db.query("UPDATE strata_gateways SET last_seen = now() - interval '2 hours' WHERE id = 'gw-a'");
    await b.heartbeat();
    assert.deepEqual(
      (await b.list()).map((g) => g.id),
      ['gw-b'],
    );
    await b.close();
    assert.deepEqual(await a.list(), []);
    await assert.rejects(new PgGatewayRegistry(db).heartbeat(), /heartbeat before register/);
  });

  it('binds a data directory to the database: the first start records it, another database is refused, a SQLite directory too', async () => {
    const id = await bindNamespace(db, dir);
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(JSON.parse(readFileSync(join(dir, NAMESPACE_FILE), 'utf8')).namespace, id);
    assert.equal(await bindNamespace(db, dir), id);
    const other = PgDb.create(await pg.createDatabase(), { poolSize: 1 });
    try {
      await other.migrate(MIGRATIONS);
      await assert.rejects(
        bindNamespace(other, dir),
        (e: unknown) => e instanceof NamespaceMismatchError && /belongs to another metadata database/.test(e.message),
      );
    } finally {
      await other.close();
    }
    const sqliteDir = mkdtempSync(join(tmpdir(), 'strata-sqlite-'));
    try {
      refuseSqliteDir(sqliteDir);
      writeFileSync(join(sqliteDir, 'meta.db'), '');
      assert.throws(() => refuseSqliteDir(sqliteDir), /holds a SQLite metadata database \(meta\.db\)/);
    } finally {
      rmSync(sqliteDir, { recursive: true, force: true });
    }
    assert.ok(!existsSync(join(dir, 'meta.db')));
  });

  it('status: gateways, the leader among them, PostgreSQL reachable with version and migration level, etcd not configured', async () => {
    const r = new PgGatewayRegistry(db);
    await r.register({ id: 'gw-x', address: 'http://h:1', hostname: 'h', pid: 1 });
    const s = await clusterStatus({ registry: r, selfId: 'gw-x', leader: async () => 'gw-x', leaderBy: 'postgres-lease', postgres: () => pgHealth(db) });
    const gws = s.gateways as Array<Record<string, unknown>>;
    assert.deepEqual(
      gws.map((g) => [g.id, g.self, g.leader, g.live]),
      [['gw-x', true, true, true]],
    );
    assert.deepEqual(s.leader, { id: 'gw-x', by: 'postgres-lease', address: 'http://h:1' });
    const p = s.postgres as Record<string, unknown>;
    assert.equal(p.reachable, true);
    assert.match(String(p.serverVersion), /^1\d\./);
    assert.equal(
      p.migrationLevel,
      MIGRATIONS.map((m) => m.id)
        .sort()
        .at(-1),
    );
    assert.equal(typeof p.roundTripMs, 'number');
    assert.deepEqual(s.etcd, { configured: false, status: 'not configured' });
    await r.close();
  });

  it('status with PostgreSQL stopped: answers quickly, saying so (no gateways, leader unknown)', async () => {
    const url = await pg.createDatabase();
    const d = PgDb.create(url, { poolSize: 1, connectTimeoutMs: 1000 });
    try {
      await d.migrate(MIGRATIONS);
      const r = new PgGatewayRegistry(d);
      await r.register({ id: 'gw-y', address: 'http://h:2', hostname: 'h', pid: 2 });
      await pg.stop();
      const s = await clusterStatus({
        registry: r,
        selfId: 'gw-y',
        leader: () => d.query('SELECT 1').then(() => undefined),
        leaderBy: 'postgres-lease',
        postgres: () => pgHealth(d),
      });
      assert.equal((s.postgres as { reachable: boolean }).reachable, false);
      assert.match(String((s.postgres as { error: string }).error), /metadata database unavailable/);
      assert.deepEqual(s.gateways, []);
      assert.ok(typeof s.gatewaysError === 'string');
      assert.equal((s.leader as { id: unknown }).id, null);
    } finally {
      await pg.start();
      await d.close();
    }
  });
});
