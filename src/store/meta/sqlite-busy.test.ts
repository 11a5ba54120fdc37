// SqliteMetaStore while another connection holds the database's write lock: reads are served at
// once, writes retry off the event loop and either land when the lock goes or fail with Busy.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { objectRecord, partRecord, uploadRecord } from '../contract.js';
import { StoreError } from '../errors.js';
import { SqliteMetaStore } from './sqlite.js';

const isBusy = (err: unknown): boolean => err instanceof StoreError && err.code === 'Busy';
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Tracks a promise's outcome without awaiting it. */
function watch<T>(p: T | Promise<T>): { settled: () => boolean; result: Promise<{ ok: boolean; value: unknown }> } {
  let done = false;
  const result = Promise.resolve(p).then(
    (value) => ({ ok: true, value }),
    (value: unknown) => ({ ok: false, value }),
  );
  void result.then(() => (done = true));
  return { settled: () => done, result };
}

for (const durability of ['fsync', 'none'] as const) {
  describe(`SqliteMetaStore (durability ${durability}) › another connection holds BEGIN IMMEDIATE`, () => {
    let dir: string;
    let store: SqliteMetaStore;
    let other: Database.Database;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'strata-busy-'));
      const path = join(dir, 'meta.db');
      store = SqliteMetaStore.open(path, { durability, busyRetryMs: 1500 });
      await store.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false });
      await store.putObject(objectRecord('b', 'there'));
      other = new Database(path);
      other.pragma('busy_timeout = 0');
    });
    after(async () => {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('writes held past the retry window → StoreError Busy; reads answered meanwhile; nothing written', async () => {
      other.exec('BEGIN IMMEDIATE');
      try {
        const put = watch(store.putObject(objectRecord('b', 'new')));
        const bucket = watch(store.createBucket({ name: 'c', region: 'r', createdAt: 0, versioning: '', owner: 'root', objectLock: false }));
        const upload = watch(store.createUpload(uploadRecord('b', 'up')));
        // The event loop turns while they retry, and reads see the committed state without waiting.
        await tick(50);
        assert.equal(put.settled(), false, 'the write gave up before its retry window');
        assert.equal(store.getObject('b', 'there')?.key, 'there');
        assert.equal(store.scanListing('b', '', '', 10).length, 1);
        for (const w of [put, bucket, upload]) {
          const r = await w.result;
          assert.equal(r.ok, false);
          assert.ok(isBusy(r.value), `expected StoreError Busy, got ${String(r.value)}`);
        }
        assert.equal(other.inTransaction, true, 'the lock was held throughout');
      } finally {
        other.exec('ROLLBACK');
      }
      assert.equal(store.getObject('b', 'new'), undefined);
      assert.equal(store.getBucket('c'), undefined);
    });

    it('lock released within the retry window → the queued writes land, in order', async () => {
      other.exec('BEGIN IMMEDIATE');
      const first = watch(store.putObject(objectRecord('b', 'k', { etag: '"first"' })));
      const second = watch(store.putObject(objectRecord('b', 'k', { etag: '"second"' })));
      const upload = uploadRecord('b', 'mp');
      const created = watch(store.createUpload(upload));
      await tick(100);
      assert.equal(first.settled(), false);
      other.exec('COMMIT');
      for (const w of [first, second, created]) assert.equal((await w.result).ok, true);
      assert.equal(store.getObject('b', 'k')?.etag, '"second"');
      assert.equal((await store.putPart('b', 'mp', upload.uploadId, partRecord(1))).length, 0);
    });

    it('after the lock is gone → writes work at once again', async () => {
      await store.putObject(objectRecord('b', 'after'));
      assert.equal(store.getObject('b', 'after')?.key, 'after');
    });
  });
}
