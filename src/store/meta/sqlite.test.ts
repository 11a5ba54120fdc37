// SqliteMetaStore: the shared contract, plus schema, pragmas and query plans.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { objectRecord, partRecord, runMetaStoreContract, uploadRecord } from '../contract.js';
import { runUploadsContract } from '../contract-uploads.js';
import { runInlineContract } from '../contract-inline.js';
import { runVersionsContract } from '../contract-versions.js';
import { runIdentitiesContract } from '../contract-identities.js';
import { META_FORMAT_VERSION, ROOT_USER_ID } from '../types.js';
import type { StoreError } from '../errors.js';
import { storeErrorOf } from './sqlite-busy.js';
import { LISTING_SQL, LIST_UPLOADS_SQL, SCAN_SQL, SqliteMetaStore, VERSIONS_SQL, byteSuccessor } from './sqlite.js';

async function sqliteHarness() {
  const dir = await mkdtemp(join(tmpdir(), 'strata-sqlite-'));
  const path = join(dir, 'meta.db');
  let current = SqliteMetaStore.open(path);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = SqliteMetaStore.open(path);
      return current;
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

runMetaStoreContract('sqlite', sqliteHarness, { persistent: true });
runUploadsContract('sqlite', sqliteHarness, { persistent: true });
runInlineContract('sqlite', sqliteHarness);
runVersionsContract('sqlite', sqliteHarness);
runIdentitiesContract('sqlite', sqliteHarness);

describe('SqliteMetaStore', () => {
  let dir: string;
  let path: string;
  let store: SqliteMetaStore;
  /** A second connection to the same file, to look at what is on disk. */
  let raw: Database.Database;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-sqlite-'));
    path = join(dir, 'sub', 'meta.db');
    store = SqliteMetaStore.open(path);
    await store.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
    await Promise.all(Array.from({ length: 2000 }, (_, i) => store.putObject(objectRecord('b', `k${i}`))));
    raw = new Database(path);
  });
  after(async () => {
    raw.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('Open › new file → WAL journal, format_version row, -wal file beside it', () => {
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.ok(existsSync(`${path}-wal`));
    const row = raw.prepare("SELECT value FROM meta WHERE name = 'format_version'").get() as { value: number };
    assert.equal(row.value, META_FORMAT_VERSION);
  });

  it('Open › reopening an existing file → schema kept, no migration error', () => {
    const again = SqliteMetaStore.open(path);
    assert.equal(again.getObject('b', 'k1')?.key, 'k1');
    again.close();
  });

  it('Open › file written by a newer format → refuses to open', async () => {
    const p = join(dir, 'newer.db');
    SqliteMetaStore.open(p).close();
    const db = new Database(p);
    db.prepare("UPDATE meta SET value = 99 WHERE name = 'format_version'").run();
    db.close();
    assert.throws(() => SqliteMetaStore.open(p), /newer/);
  });

  it('Schema › keys are stored as BLOBs of their UTF-8 bytes', async () => {
    await store.putObject(objectRecord('b', 'é/😀'));
    const row = raw.prepare("SELECT typeof(key) AS t, hex(key) AS h FROM objects WHERE key = x'C3A92FF09F9880'").get() as { t: string; h: string };
    assert.deepEqual(row, { t: 'blob', h: Buffer.from('é/😀').toString('hex').toUpperCase() });
    const obj = raw.prepare('SELECT format, data FROM objects WHERE key = ?').get(Buffer.from('é/😀')) as { format: number; data: string };
    assert.equal(obj.format, META_FORMAT_VERSION);
    assert.ok(Array.isArray(JSON.parse(obj.data)));
  });

  it('Schema › object_data rows follow their object (cascade on delete)', async () => {
    await store.putObject(objectRecord('b', 'gone', { data: [{ id: 'gone-1', size: 1 }] }));
    const count = () => (raw.prepare("SELECT count(*) AS n FROM object_data WHERE data_id = 'gone-1'").get() as { n: number }).n;
    assert.equal(count(), 1);
    await store.deleteObject('b', 'gone');
    assert.equal(count(), 0);
  });

  it('ScanObjects › every query shape is an index range search on objects_live, no sort', () => {
    const shapes = [
      ...Object.entries(SCAN_SQL).map(([n, q]) => [n, q, 'INDEX objects_live'] as const),
      ...Object.entries(LISTING_SQL.latest).map(([n, q]) => [`listing latest ${n}`, q, 'INDEX objects_live'] as const),
      // Buckets that never had versioning: the table's own primary key (bucket, key, version_id).
      ...Object.entries(LISTING_SQL.byKey).map(([n, q]) => [`listing byKey ${n}`, q, 'PRIMARY KEY'] as const),
    ];
    for (const [name, sql, access] of shapes) {
      const params = sql.includes('key < ?') ? ['b', Buffer.from('k1'), Buffer.from('k2'), 10] : ['b', Buffer.from('k1'), 10];
      const plan = (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');
      assert.ok(plan.startsWith(`SEARCH objects USING ${access} (bucket=? AND key>`), `${name}: ${plan}`);
      assert.doesNotMatch(plan, /TEMP B-TREE|SCAN objects/, `${name}: ${plan}`);
    }
  });

  it('ScanObjects › `from` as raw bytes (not valid UTF-8) → seeks by bytes', async () => {
    for (const k of ['é', 'ê']) await store.putObject(objectRecord('b', k));
    assert.deepEqual(
      store.scanObjects('b', '', '', 10, Buffer.from([0xc3])).map((r) => r.key),
      ['é', 'é/😀', 'ê'],
    );
    assert.deepEqual(
      store.scanObjects('b', '', Buffer.from([0xc3, 0xa9, 0x30]), 10).map((r) => r.key),
      ['ê'],
    );
  });

  it('Schema › upload_parts rows follow their upload; uploads and configuration follow their bucket (cascade)', () => {
    const count = (sql: string, ...args: unknown[]) => (raw.prepare(sql).get(...args) as { n: number }).n;
    store.createBucket({ name: 'cascade', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
    const u1 = uploadRecord('cascade', 'k');
    const u2 = uploadRecord('cascade', 'k2');
    store.createUpload(u1);
    store.createUpload(u2);
    store.putPart('cascade', 'k', u1.uploadId, partRecord(1, { data: { id: 'casc-1', size: 5 } }));
    store.putPart('cascade', 'k2', u2.uploadId, partRecord(1, { data: { id: 'casc-2', size: 5 } }));
    store.putBucketConfig('cascade', 'cors', '{}');
    assert.equal(count("SELECT count(*) AS n FROM upload_parts WHERE data_id LIKE 'casc-%'"), 2);
    store.abortUpload('cascade', 'k', u1.uploadId);
    assert.equal(count("SELECT count(*) AS n FROM upload_parts WHERE data_id = 'casc-1'"), 0);
    const key = raw.prepare('SELECT typeof(key) AS t FROM uploads WHERE upload_id = ?').get(u2.uploadId) as { t: string };
    assert.equal(key.t, 'blob', 'upload keys are BLOBs of their UTF-8 bytes too');
    store.deleteBucket('cascade');
    assert.equal(count("SELECT count(*) AS n FROM uploads WHERE bucket = 'cascade'"), 0);
    assert.equal(count("SELECT count(*) AS n FROM upload_parts WHERE bucket = 'cascade'"), 0);
    assert.equal(count("SELECT count(*) AS n FROM bucket_config WHERE bucket = 'cascade'"), 0);
  });

  it("ScanVersions › both shapes are a primary-key range search; only each key's versions are sorted", () => {
    for (const [name, sql] of Object.entries(VERSIONS_SQL)) {
      const params = {
        bucket: 'b',
        lower: Buffer.from('k'),
        keyMarker: Buffer.from('k'),
        lm: null,
        vid: null,
        limit: 10,
        ...(name === 'bounded' ? { upper: Buffer.from('l') } : {}),
      };
      const plan = (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail).join('\n');
      const range = name === 'bounded' ? 'key>? AND key<?' : 'key>?';
      assert.ok(plan.startsWith(`SEARCH objects USING PRIMARY KEY (bucket=? AND ${range})`), `${name}: ${plan}`);
      // A sort of the last two ORDER BY terms only (within one key), never of the whole range.
      assert.match(plan, /USE TEMP B-TREE FOR LAST 2 TERMS OF ORDER BY/, `${name}: ${plan}`);
      assert.doesNotMatch(plan, /SCAN objects|USE TEMP B-TREE FOR ORDER BY/, `${name}: ${plan}`);
    }
  });

  it('ListUploads › the query is an index range search on uploads_order, no sort', () => {
    const params = { bucket: 'b', lower: Buffer.from('k'), upper: Buffer.from('l'), keyMarker: Buffer.from('k'), uploadIdMarker: '', limit: 10 };
    const plan = (raw.prepare(`EXPLAIN QUERY PLAN ${LIST_UPLOADS_SQL}`).all(params) as { detail: string }[]).map((r) => r.detail).join('\n');
    assert.match(plan, /SEARCH uploads USING INDEX uploads_order \(bucket=\? AND key>\?\)/, plan);
    assert.doesNotMatch(plan, /TEMP B-TREE|SCAN uploads/, plan);
  });

  it('Durability › synchronous=NORMAL on the connection; writes resolve after a WAL fdatasync shared by concurrent writes', async () => {
    const p = join(dir, 'group.db');
    const s = SqliteMetaStore.open(p);
    try {
      const conn = (s as unknown as { db: Database.Database }).db;
      assert.equal(conn.pragma('synchronous', { simple: true }), 1, 'NORMAL: no fsync inside the commit');
      await s.createBucket({ name: 'g', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
      const before = s.walSyncs;
      assert.ok(before >= 1, 'createBucket resolved after a sync');
      // 64 writes issued in one turn: each resolves only after a sync that started after its
      // commit, and they share the syncs (one running, at most one queued behind it).
      const results = await Promise.all(Array.from({ length: 64 }, (_, i) => s.putObject(objectRecord('g', `k${i}`))));
      assert.equal(results.length, 64);
      const used = s.walSyncs - before;
      assert.ok(used >= 1 && used <= 2, `64 concurrent writes used ${used} fdatasync calls`);
      // A write issued while a sync runs waits for the next one, not the running one.
      const first = s.putObject(objectRecord('g', 'x1'));
      const second = s.putObject(objectRecord('g', 'x2'));
      const n0 = s.walSyncs;
      await first;
      const afterFirst = s.walSyncs;
      await second;
      assert.ok(afterFirst > n0 && s.walSyncs >= afterFirst);
    } finally {
      await s.close();
    }
  });

  it('Batching › object writes of one turn share one transaction; a failing one is refused alone, the others commit', async () => {
    const s = SqliteMetaStore.open(join(dir, 'batch.db'));
    try {
      await s.createBucket({ name: 'g', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
      await s.putObject(objectRecord('g', 'exists'));
      const before = s.batches;
      const writes = [
        s.putObject(objectRecord('g', 'a')),
        s.putObject(objectRecord('g', 'exists'), { mustNotExist: true }),
        s.putObject(objectRecord('nobucket', 'x')),
        s.deleteObject('g', 'exists'),
        s.putObject(objectRecord('g', 'b')),
      ];
      const settled = await Promise.allSettled(writes);
      assert.equal(s.batches - before, 1, 'one transaction for the five writes');
      assert.deepEqual(
        settled.map((r) => r.status),
        ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled'],
      );
      assert.equal(((settled[1] as PromiseRejectedResult).reason as { code: string }).code, 'PreconditionFailed');
      assert.equal(((settled[2] as PromiseRejectedResult).reason as { code: string }).code, 'NoSuchBucket');
      assert.equal(s.getObject('g', 'a')?.key, 'a');
      assert.equal(s.getObject('g', 'b')?.key, 'b');
      assert.equal(s.getObject('g', 'exists'), undefined, 'the delete after the refused write went through');
      assert.equal(s.getObject('nobucket', 'x'), undefined);
    } finally {
      await s.close();
    }
  });

  it('Durability › durability none → writes return at once (bulk loads), nothing synced by the store', async () => {
    const s = SqliteMetaStore.open(join(dir, 'nosync.db'), { durability: 'none' });
    try {
      assert.equal(s.createBucket({ name: 'n', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false }), undefined);
      assert.deepEqual(s.putObject(objectRecord('n', 'k')), []);
      assert.equal(s.walSyncs, 0);
    } finally {
      await s.close();
    }
  });

  it('Schema › format 2: inline bytes live in object_inline and go with their object row', async () => {
    await store.putObject(objectRecord('b', 'inl', { size: 4, data: [], inline: Buffer.from('abcd') }));
    const row = raw.prepare('SELECT bytes FROM object_inline WHERE bucket = ? AND key = ?').get('b', Buffer.from('inl')) as { bytes: Buffer };
    assert.equal(row.bytes.toString(), 'abcd');
    await store.deleteObject('b', 'inl');
    assert.equal(raw.prepare('SELECT count(*) AS n FROM object_inline WHERE key = ?').get(Buffer.from('inl'))?.constructor, Object);
    assert.deepEqual(raw.prepare('SELECT count(*) AS n FROM object_inline WHERE key = ?').get(Buffer.from('inl')), { n: 0 });
  });

  /** What format 9 added, dropped again: turns a current file back into a format-8 one. */
  const UNDO_V11 = 'DROP TABLE heal_queue; ';
  const UNDO_V10 = `${UNDO_V11}DROP TABLE bucket_usage; `;
  const UNDO_V9 = `${UNDO_V10}DROP TABLE kms_key_versions; DROP TABLE kms_keys; `;

  /** What format 8 changed, undone: iam_roles dropped, iam_attachments back to format 7's (user or group only). */
  const UNDO_V8 = `${UNDO_V9}DROP TABLE iam_roles; DELETE FROM iam_attachments WHERE kind = 'role';
    CREATE TABLE a7 (kind TEXT NOT NULL CHECK (kind IN ('user', 'group')), target TEXT NOT NULL,
      policy TEXT NOT NULL REFERENCES iam_policies(name), PRIMARY KEY (kind, target, policy)) WITHOUT ROWID;
    INSERT INTO a7 SELECT * FROM iam_attachments; DROP TABLE iam_attachments; ALTER TABLE a7 RENAME TO iam_attachments;
    CREATE INDEX iam_attachments_policy ON iam_attachments(policy); `;

  /** What format 7 added, dropped again: turns a current file back into a format-6 one. */
  const UNDO_V7 =
    UNDO_V9 +
    'DROP TABLE iam_roles; ' +
    'DROP TABLE iam_access_keys; DROP TABLE iam_attachments; DROP TABLE iam_policies; DROP TABLE iam_group_members; DROP TABLE iam_groups; DROP TABLE iam_users; ';

  /** What format 6 added, dropped again: turns a current file back into a format-5 one. */
  const UNDO_V6 =
    UNDO_V7 +
    'DROP INDEX objects_live; DROP TABLE job_state; ALTER TABLE buckets DROP COLUMN object_lock; ALTER TABLE objects DROP COLUMN extra; ALTER TABLE uploads DROP COLUMN extra; ';

  it('Open › a format-3 file → migrated to the current format (coordination tables added, buckets owned by root), its objects unchanged', async () => {
    const p = join(dir, 'format3.db');
    const old = SqliteMetaStore.open(p);
    await old.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: ROOT_USER_ID, objectLock: false });
    const rec = objectRecord('b', 'k');
    await old.putObject(rec);
    await old.close();
    const db = new Database(p);
    db.exec(
      UNDO_V6 +
        "DROP TABLE leases; DROP TABLE write_intents; DROP TABLE pending_frees; DROP TABLE read_pins; ALTER TABLE buckets DROP COLUMN owner; UPDATE meta SET value = 3 WHERE name = 'format_version'",
    );
    db.close();
    const migrated = SqliteMetaStore.open(p);
    try {
      const check = new Database(p, { readonly: true });
      assert.deepEqual(check.prepare("SELECT value FROM meta WHERE name = 'format_version'").get(), { value: META_FORMAT_VERSION });
      assert.deepEqual(check.prepare("SELECT owner FROM buckets WHERE name = 'b'").get(), { owner: ROOT_USER_ID });
      for (const t of ['leases', 'write_intents', 'pending_frees', 'read_pins'])
        assert.ok(check.prepare('SELECT name FROM sqlite_master WHERE name = ?').get(t), t);
      check.close();
      assert.deepEqual(migrated.getObject('b', 'k'), rec);
      assert.equal(await migrated.coord.tryLease('jobs', 'me', 1000, 100), true);
    } finally {
      await migrated.close();
    }
  });

  /**
   * A file made by the current code with `fill`, turned back into format `version` by `undo`, then
   * opened: the migrated store, its format checked to be the current one.
   */
  async function downgradedThenOpened(name: string, fill: (s: SqliteMetaStore) => Promise<void>, undo: string, version: number): Promise<SqliteMetaStore> {
    const p = join(dir, name);
    const old = SqliteMetaStore.open(p);
    await fill(old);
    await old.close();
    const db = new Database(p);
    db.exec(`${undo}UPDATE meta SET value = ${version} WHERE name = 'format_version'`);
    db.close();
    const migrated = SqliteMetaStore.open(p);
    const check = new Database(p, { readonly: true });
    assert.deepEqual(check.prepare("SELECT value FROM meta WHERE name = 'format_version'").get(), { value: META_FORMAT_VERSION });
    check.close();
    return migrated;
  }

  it('Open › a format-10 file → migrated to format 11 (heal_queue added, empty), its objects unchanged; shards can be queued', async () => {
    const rec = objectRecord('b', 'k');
    const migrated = await downgradedThenOpened(
      'format10.db',
      async (s) => {
        await s.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: ROOT_USER_ID, objectLock: false });
        await s.putObject(rec);
      },
      UNDO_V11,
      10,
    );
    try {
      assert.deepEqual(migrated.getObject('b', 'k'), rec);
      assert.equal(migrated.healQueue.counts().shards, 0);
      assert.equal(await migrated.healQueue.add([{ pieceId: rec.data[0]!.id, drive: 2, reason: 'missing', at: 1 }]), 1);
      assert.deepEqual(migrated.healQueue.degraded(10)[0]?.object, { bucket: 'b', key: 'k', versionId: rec.versionId });
    } finally {
      await migrated.close();
    }
  });

  it('Open › a format-8 file → migrated to format 9 (key service tables added, empty), its identities unchanged; keys can be stored', async () => {
    const bob = { name: 'bob', userId: 'U2', status: 'enabled', created: 1 } as const;
    const migrated = await downgradedThenOpened('format8.db', async (s) => s.identities.createUser(bob), UNDO_V9, 8);
    try {
      assert.equal(migrated.identities.getUser('bob')?.userId, 'U2');
      assert.deepEqual(migrated.kmsKeys.listKeys(), []);
      await migrated.kmsKeys.createKey(
        { keyId: 'k', enabled: true, created: 1, currentVersion: 1, rotated: 1 },
        { keyId: 'k', version: 1, created: 1, rootKeyId: 'r', sealed: Buffer.from('x') },
      );
      assert.deepEqual(migrated.kmsKeys.getVersion('k', 1)?.sealed, Buffer.from('x'));
    } finally {
      await migrated.close();
    }
  });

  it('Open › a format-6 file → migrated to format 7 (identity tables added), its buckets unchanged, no identities', async () => {
    const bucket = { name: 'b', region: 'r', createdAt: 0, versioning: 'Enabled', owner: ROOT_USER_ID, objectLock: true } as const;
    const migrated = await downgradedThenOpened('format6.db', async (s) => s.createBucket(bucket), UNDO_V7, 6);
    try {
      assert.equal((await migrated.getBucket('b'))?.objectLock, true);
      assert.deepEqual(migrated.identities.listUsers(), []);
      await migrated.identities.createUser({ name: 'alice', userId: 'U1', status: 'enabled', created: 1 });
      assert.equal(migrated.identities.getUser('alice')?.userId, 'U1');
    } finally {
      await migrated.close();
    }
  });

  it("Open › a format-7 file → migrated to format 8 (roles), the users' attachments kept, roles attachable", async () => {
    const p = join(dir, 'format7.db');
    const old = SqliteMetaStore.open(p);
    await old.identities.createUser({ name: 'alice', userId: 'U1', status: 'enabled', created: 1 });
    await old.identities.putPolicy('ro', '{}', 1);
    await old.identities.attachPolicy('ro', { user: 'alice' });
    await old.close();
    const db = new Database(p);
    db.exec(`${UNDO_V8}UPDATE meta SET value = 7 WHERE name = 'format_version'`);
    assert.throws(() => db.prepare("INSERT INTO iam_attachments VALUES ('role', 'r', 'ro')").run(), /CHECK/);
    db.close();
    const migrated = SqliteMetaStore.open(p);
    try {
      assert.deepEqual(migrated.identities.attachedPolicies({ user: 'alice' }), ['ro']);
      await migrated.identities.createRole({ name: 'r', roleId: 'AROA1', trustPolicy: '{}', maxSessionDuration: 3600, created: 1 });
      await migrated.identities.attachPolicy('ro', { role: 'r' });
      assert.deepEqual(migrated.identities.policyTargets('ro'), { users: ['alice'], groups: [], roles: ['r'] });
    } finally {
      await migrated.close();
    }
  });

  it('Errors › SQLITE_FULL → StoreError NoSpace, SQLITE_BUSY → Busy, another engine error → Internal; others unchanged', () => {
    const e = (code: string) => Object.assign(new Error(code), { code });
    assert.equal((storeErrorOf(e('SQLITE_FULL')) as StoreError).code, 'NoSpace');
    assert.equal((storeErrorOf(e('SQLITE_BUSY_SNAPSHOT')) as StoreError).code, 'Busy');
    assert.equal((storeErrorOf(e('SQLITE_IOERR_WRITE')) as StoreError).code, 'Internal');
    assert.equal((storeErrorOf(e('SQLITE_CORRUPT')) as StoreError).code, 'Internal');
    const other = new Error('x');
    assert.equal(storeErrorOf(other), other);
  });

  it('Open › a format-2 file → migrated to format 3 (object_multipart added), its objects and uploads unchanged', async () => {
    const p = join(dir, 'format2.db');
    const old = SqliteMetaStore.open(p);
    await old.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
    const rec = objectRecord('b', 'mp', { parts: [5, 5] });
    await old.putObject(rec);
    const u = uploadRecord('b', 'open');
    await old.createUpload(u);
    await old.close();
    // What a format-2 Strata left: no object_multipart table, format_version 2.
    const db = new Database(p);
    db.exec(
      UNDO_V6 +
        "DROP TABLE object_multipart; DROP TABLE leases; DROP TABLE write_intents; DROP TABLE pending_frees; DROP TABLE read_pins; ALTER TABLE buckets DROP COLUMN owner; UPDATE meta SET value = 2 WHERE name = 'format_version'",
    );
    db.close();

    const migrated = SqliteMetaStore.open(p);
    try {
      const check = new Database(p, { readonly: true });
      assert.deepEqual(check.prepare("SELECT value FROM meta WHERE name = 'format_version'").get(), { value: META_FORMAT_VERSION });
      assert.ok(check.prepare("SELECT name FROM sqlite_master WHERE name = 'object_multipart'").get());
      check.close();
      assert.deepEqual(migrated.getObject('b', 'mp'), rec);
      assert.equal(migrated.getCompletedUpload('b', 'mp'), undefined, 'objects completed before format 3 have no details');
      assert.deepEqual(migrated.getUpload('b', 'open', u.uploadId), u);
    } finally {
      await migrated.close();
    }
  });

  it('byteSuccessor › increments the last byte below 0xFF and truncates after it', () => {
    assert.deepEqual(byteSuccessor(Buffer.from([0x61, 0x62])), Buffer.from([0x61, 0x63]));
    assert.deepEqual(byteSuccessor(Buffer.from([0x61, 0xff, 0xff])), Buffer.from([0x62]));
    assert.equal(byteSuccessor(Buffer.from([0xff])), undefined);
    assert.equal(byteSuccessor(Buffer.alloc(0)), undefined);
  });
});
