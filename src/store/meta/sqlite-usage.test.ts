// The usage counters on a file-backed SQLite store (the contract, batched group-commit writes
// included), and the format 9 → 10 upgrade that computes them once for an existing directory.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { objectRecord } from '../contract.js';
import { runUsageContract } from '../contract-usage.js';
import { META_FORMAT_VERSION, ROOT_USER_ID } from '../types.js';
import { SqliteMetaStore } from './sqlite.js';

runUsageContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-usage-'));
  return { store: SqliteMetaStore.open(join(dir, 'meta.db')), dispose: () => rm(dir, { recursive: true, force: true }) };
});

describe('SqliteMetaStore usage counters', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-usage-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const bucket = (name: string) => ({ name, region: 'r', createdAt: 0, versioning: 'Enabled' as const, owner: ROOT_USER_ID, objectLock: false });

  it('Batched writes of one turn (one transaction, a savepoint each, one refused) → exact figures', async () => {
    const s = SqliteMetaStore.open(join(dir, 'batch.db'));
    try {
      await s.createBucket(bucket('b'));
      const writes = [];
      for (let i = 0; i < 20; i++) writes.push(s.putObject(objectRecord('b', `k${i}`, { size: i })));
      writes.push(Promise.resolve(s.putObject(objectRecord('b', 'k0', { size: 1000 }), { mustNotExist: true })).catch(() => 'refused'));
      const results = await Promise.all(writes);
      assert.equal(results.at(-1), 'refused');
      assert.ok(s.batches < 21, 'the writes shared transactions');
      assert.deepEqual(s.usage.listUsage(), [{ bucket: 'b', objects: 20, versions: 20, deleteMarkers: 0, bytes: 190 }]);
    } finally {
      await s.close();
    }
  });

  it('Open › a format-9 file → migrated to format 10, the figures computed once from its versions', async () => {
    const p = join(dir, 'format9.db');
    const old = SqliteMetaStore.open(p);
    await old.createBucket(bucket('a'));
    await old.createBucket(bucket('empty'));
    await old.putObject(objectRecord('a', 'x', { versionId: 'v1', size: 5, lastModified: 1 }));
    await old.putObject(objectRecord('a', 'x', { versionId: 'v2', size: 7, lastModified: 2 }));
    await old.putObject(objectRecord('a', 'y', { versionId: 'v1', size: 11, lastModified: 3 }));
    await old.putObject(objectRecord('a', 'y', { versionId: 'dm', size: 0, data: [], isDeleteMarker: true, lastModified: 4 }));
    await old.close();
    const db = new Database(p);
    db.exec("DROP TABLE heal_queue; DROP TABLE bucket_usage; UPDATE meta SET value = 9 WHERE name = 'format_version'");
    db.close();
    const migrated = SqliteMetaStore.open(p);
    try {
      const check = new Database(p, { readonly: true });
      assert.deepEqual(check.prepare("SELECT value FROM meta WHERE name = 'format_version'").get(), { value: META_FORMAT_VERSION });
      check.close();
      assert.deepEqual(migrated.usage.listUsage(), [
        { bucket: 'a', objects: 1, versions: 3, deleteMarkers: 1, bytes: 23 },
        { bucket: 'empty', objects: 0, versions: 0, deleteMarkers: 0, bytes: 0 },
      ]);
      await migrated.deleteObject('a', 'y', 'dm');
      assert.deepEqual(migrated.usage.listUsage()[0], { bucket: 'a', objects: 2, versions: 3, deleteMarkers: 0, bytes: 23 });
    } finally {
      await migrated.close();
    }
  });
});
