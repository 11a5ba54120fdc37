// Behavioural contract of the per-bucket usage counters (MetaStore.usage, format 10): after every
// kind of write the figures are exactly what a full count of the bucket's versions gives. Run
// against every MetaStore implementation next to contract.ts.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type Maybe, type MetaHarness, objectRecord, partRecord, rejectsWith, toHarness, uploadRecord } from './contract.js';
import { ROOT_USER_ID, type MetaStore, type ObjectRecord } from './types.js';
import type { BucketUsage } from './usage.js';

const T = 1_700_000_000_000;

export function runUsageContract(name: string, newStore: () => Maybe<MetaStore | MetaHarness>): void {
  describe(`MetaStore usage contract: ${name}`, () => {
    let h: MetaHarness;
    let s: MetaStore;
    const bucket = (n: string) => ({ name: n, region: 'us-east-1', createdAt: T, versioning: '' as const, owner: ROOT_USER_ID, objectLock: false });

    beforeEach(async () => {
      h = toHarness<MetaStore, MetaHarness>(await newStore());
      s = h.store;
      await s.createBucket(bucket('b1'));
    });
    afterEach(async () => {
      await s.close();
      await h.dispose?.();
    });

    const usageOf = async (name = 'b1'): Promise<Omit<BucketUsage, 'bucket'> | undefined> => {
      const u = (await s.usage.listUsage()).find((x) => x.bucket === name);
      if (u === undefined) return undefined;
      const { bucket: _, ...figures } = u;
      return figures;
    };

    /** The figures by a full count of every version (the oracle the counters must equal). */
    const recount = async (name = 'b1'): Promise<Omit<BucketUsage, 'bucket'>> => {
      const all = await s.scanVersions(name, '', '', '', 1_000_000);
      const live = all.filter((v) => !v.isDeleteMarker);
      return {
        objects: live.filter((v) => v.isLatest).length,
        versions: live.length,
        deleteMarkers: all.length - live.length,
        bytes: live.reduce((n, v) => n + v.size, 0),
      };
    };

    const expectUsage = async (want: Omit<BucketUsage, 'bucket'>, name = 'b1'): Promise<void> => {
      assert.deepEqual(await usageOf(name), want);
      assert.deepEqual(await recount(name), want, 'the oracle agrees');
    };

    const v = (key: string, versionId: string, at: number, over: Partial<ObjectRecord> = {}) =>
      objectRecord('b1', key, { versionId, lastModified: T + at, size: 10, ...over });
    const marker = (key: string, versionId: string, at: number) => v(key, versionId, at, { isDeleteMarker: true, size: 0, data: [] });

    it('Usage › a new bucket → listed with zeros; every bucket listed by name', async () => {
      await s.createBucket(bucket('a0'));
      assert.deepEqual(await s.usage.listUsage(), [
        { bucket: 'a0', objects: 0, versions: 0, deleteMarkers: 0, bytes: 0 },
        { bucket: 'b1', objects: 0, versions: 0, deleteMarkers: 0, bytes: 0 },
      ]);
    });

    it('Usage › puts count objects and bytes; an overwrite of the null version replaces its bytes', async () => {
      await s.putObject(objectRecord('b1', 'a', { size: 100 }));
      await s.putObject(objectRecord('b1', 'b', { size: 7 }));
      await expectUsage({ objects: 2, versions: 2, deleteMarkers: 0, bytes: 107 });
      await s.putObject(objectRecord('b1', 'a', { size: 40 }));
      await expectUsage({ objects: 2, versions: 2, deleteMarkers: 0, bytes: 47 });
      await s.putObject(objectRecord('b1', 'empty', { size: 0, data: [] }));
      await expectUsage({ objects: 3, versions: 3, deleteMarkers: 0, bytes: 47 });
    });

    it('Usage › a delete removes the object and its bytes; deleting what is not there changes nothing', async () => {
      await s.putObject(objectRecord('b1', 'a', { size: 100 }));
      await s.putObject(objectRecord('b1', 'b', { size: 7 }));
      await s.deleteObject('b1', 'a');
      await expectUsage({ objects: 1, versions: 1, deleteMarkers: 0, bytes: 7 });
      await s.deleteObject('b1', 'a');
      await s.deleteObject('b1', 'nope', 'v9');
      await expectUsage({ objects: 1, versions: 1, deleteMarkers: 0, bytes: 7 });
    });

    it('Usage › versions: each counts its bytes, one object per key; removing the latest promotes the next', async () => {
      await s.putObject(v('k', 'v1', 1));
      await s.putObject(v('k', 'v2', 2, { size: 20 }));
      await s.putObject(v('k', 'v3', 3, { size: 30 }));
      await expectUsage({ objects: 1, versions: 3, deleteMarkers: 0, bytes: 60 });
      await s.deleteObject('b1', 'k', 'v1'); // noncurrent
      await expectUsage({ objects: 1, versions: 2, deleteMarkers: 0, bytes: 50 });
      await s.deleteObject('b1', 'k', 'v3'); // latest: v2 takes over
      await expectUsage({ objects: 1, versions: 1, deleteMarkers: 0, bytes: 20 });
      await s.deleteObject('b1', 'k', 'v2');
      await expectUsage({ objects: 0, versions: 0, deleteMarkers: 0, bytes: 0 });
    });

    it('Usage › delete markers: the key stops counting as an object, its versions keep their bytes; removing the marker brings it back', async () => {
      await s.putObject(v('k', 'v1', 1));
      await s.putObject(marker('k', 'dm1', 2));
      await expectUsage({ objects: 0, versions: 1, deleteMarkers: 1, bytes: 10 });
      await s.putObject(marker('k', 'dm2', 3)); // a marker on a marker
      await expectUsage({ objects: 0, versions: 1, deleteMarkers: 2, bytes: 10 });
      await s.deleteObject('b1', 'k', 'dm2'); // latest marker removed: dm1 latest again
      await expectUsage({ objects: 0, versions: 1, deleteMarkers: 1, bytes: 10 });
      await s.deleteObject('b1', 'k', 'dm1'); // v1 latest again
      await expectUsage({ objects: 1, versions: 1, deleteMarkers: 0, bytes: 10 });
      // A suspended bucket's 'null' delete marker replacing a 'null' version.
      await s.putObject(v('n', 'null', 5, { size: 5 }));
      await s.putObject(marker('n', 'null', 6));
      await expectUsage({ objects: 1, versions: 1, deleteMarkers: 1, bytes: 10 });
      await s.putObject(v('n', 'null', 7, { size: 6 }));
      await expectUsage({ objects: 2, versions: 2, deleteMarkers: 0, bytes: 16 });
    });

    it("Usage › a 'null' version rewritten while noncurrent: the latest stays counted once", async () => {
      await s.putObject(v('k', 'null', 1, { size: 4 }));
      await s.putObject(v('k', 'v2', 2, { size: 8 }));
      // Suspended versioning writes 'null' again: it replaces the noncurrent one and becomes latest.
      await s.putObject(v('k', 'null', 3, { size: 16 }));
      await expectUsage({ objects: 1, versions: 2, deleteMarkers: 0, bytes: 24 });
    });

    it('Usage › multipart complete counts the object once with its size; abort and open uploads count nothing', async () => {
      const u = uploadRecord('b1', 'mp');
      await s.createUpload(u);
      const [p1, p2] = [partRecord(1, { size: 5 }), partRecord(2, { size: 3 })];
      for (const p of [p1, p2]) await s.putPart('b1', 'mp', u.uploadId, p);
      const other = uploadRecord('b1', 'open');
      await s.createUpload(other);
      await s.putPart('b1', 'open', other.uploadId, partRecord(1));
      await expectUsage({ objects: 0, versions: 0, deleteMarkers: 0, bytes: 0 });
      await s.putObject(objectRecord('b1', 'mp', { size: 1000 }));
      await s.completeUpload('b1', 'mp', u.uploadId, objectRecord('b1', 'mp', { data: [p1.data, p2.data], size: 8, parts: [5, 3] }));
      await expectUsage({ objects: 1, versions: 1, deleteMarkers: 0, bytes: 8 });
      await s.abortUpload('b1', 'open', other.uploadId);
      await expectUsage({ objects: 1, versions: 1, deleteMarkers: 0, bytes: 8 });
    });

    it('Usage › a refused write changes nothing (failed condition, missing bucket)', async () => {
      await s.putObject(objectRecord('b1', 'a', { size: 9 }));
      await rejectsWith(() => s.putObject(objectRecord('b1', 'a', { size: 50 }), { mustNotExist: true }), 'PreconditionFailed');
      await rejectsWith(() => s.putObject(objectRecord('nope', 'a')), 'NoSuchBucket');
      await rejectsWith(() => s.deleteObject('b1', 'a', 'null', undefined, 1), 'PreconditionFailed');
      await expectUsage({ objects: 1, versions: 1, deleteMarkers: 0, bytes: 9 });
    });

    it('Usage › lifecycle expiry (a removal of the version it evaluated) counts like a delete', async () => {
      const rec = objectRecord('b1', 'old', { size: 33 });
      await s.putObject(rec);
      await s.putObject(v('keep', 'v1', 1));
      await s.deleteObject('b1', 'old', 'null', undefined, rec.lastModified);
      await expectUsage({ objects: 1, versions: 1, deleteMarkers: 0, bytes: 10 });
      // Expiry of a versioned object's current version: a delete marker on top.
      await s.putObject(marker('keep', 'dm', 2));
      await expectUsage({ objects: 0, versions: 1, deleteMarkers: 1, bytes: 10 });
    });

    it('Usage › buckets are counted apart; a deleted bucket leaves the list, a new one of the same name starts at zero', async () => {
      await s.createBucket(bucket('b2'));
      await s.putObject(objectRecord('b1', 'a', { size: 1 }));
      await s.putObject(objectRecord('b2', 'a', { size: 2 }));
      await s.putObject(objectRecord('b2', 'b', { size: 3 }));
      await expectUsage({ objects: 1, versions: 1, deleteMarkers: 0, bytes: 1 });
      await expectUsage({ objects: 2, versions: 2, deleteMarkers: 0, bytes: 5 }, 'b2');
      await s.deleteObject('b2', 'a');
      await s.deleteObject('b2', 'b');
      await s.deleteBucket('b2');
      assert.equal(await usageOf('b2'), undefined);
      await s.createBucket(bucket('b2'));
      await expectUsage({ objects: 0, versions: 0, deleteMarkers: 0, bytes: 0 }, 'b2');
    });
  });
}
