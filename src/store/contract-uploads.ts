// The MetaStore contract's multipart half: uploads, parts, completion, abort, and what they do to
// buckets and data references. Run next to runMetaStoreContract (contract.ts) by every MetaStore's tests.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type MetaHarness, type Maybe, objectRecord, partRecord, rejectsWith, toHarness, uploadRecord } from './contract.js';
import type { MetaStore } from './types.js';

export function runUploadsContract(name: string, newStore: () => Maybe<MetaStore | MetaHarness>, opts: { persistent?: boolean } = {}): void {
  // Restart tests exist only for stores that persist (registered, never skipped).
  const persistentIt = opts.persistent ? it : () => undefined;
  describe(`MetaStore contract, multipart uploads: ${name}`, () => {
    let h: MetaHarness;
    let s: MetaStore;
    const bucket = (n = 'b1') => ({ name: n, region: 'us-east-1', createdAt: 1_700_000_000_000, versioning: '' as const, owner: 'root', objectLock: false });

    beforeEach(async () => {
      h = toHarness<MetaStore, MetaHarness>(await newStore());
      s = h.store;
      await s.createBucket(bucket());
    });
    afterEach(async () => {
      await s.close();
      await h.dispose?.();
    });

    it('CreateUpload › then GetUpload returns it, all fields kept; other key or bucket → undefined', async () => {
      const u = uploadRecord('b1', '😀/k', {
        meta: { contentType: 'x/y', cacheControl: 'no-cache', user: { z: '1', a: '2' } },
        storageClass: 'STANDARD_IA',
        checksumAlgorithm: 'crc32',
        checksumType: 'FULL_OBJECT',
      });
      await s.createUpload(u);
      const got = await s.getUpload('b1', '😀/k', u.uploadId);
      assert.deepEqual(got, u);
      assert.deepEqual(Object.keys(got!.meta.user), ['z', 'a'], 'user metadata keeps arrival order');
      const plain = uploadRecord('b1', 'k');
      await s.createUpload(plain);
      assert.deepEqual(await s.getUpload('b1', 'k', plain.uploadId), plain, 'no checksum fields when absent');
      assert.equal(await s.getUpload('b1', 'other', u.uploadId), undefined);
      assert.equal(await s.getUpload('nope', '😀/k', u.uploadId), undefined);
      assert.equal(await s.getUpload('b1', '😀/k', 'nope'), undefined);
    });

    it('CreateUpload › missing bucket → NoSuchBucket', async () => {
      await rejectsWith(() => s.createUpload(uploadRecord('nope', 'k')), 'NoSuchBucket');
    });

    it("PutPart › add, then replace → returns the replaced part's data; ListParts shows the new part", async () => {
      const u = uploadRecord('b1', 'k');
      await s.createUpload(u);
      const p1 = partRecord(1, { checksums: { crc32: 'AAAAAA==' } });
      const p2 = partRecord(2);
      assert.deepEqual(await s.putPart('b1', 'k', u.uploadId, p2), []);
      assert.deepEqual(await s.putPart('b1', 'k', u.uploadId, p1), []);
      assert.deepEqual(await s.listParts('b1', 'k', u.uploadId, 0, 10), [p1, p2]);
      const p1b = partRecord(1, { size: 7 });
      assert.deepEqual(await s.putPart('b1', 'k', u.uploadId, p1b), [p1.data]);
      assert.deepEqual(await s.listParts('b1', 'k', u.uploadId, 0, 10), [p1b, p2]);
      assert.equal(await s.isDataReferenced(p1.data.id), false);
      assert.equal(await s.isDataReferenced(p1b.data.id), true);
      // Re-putting the same piece (same id) frees nothing.
      assert.deepEqual(await s.putPart('b1', 'k', u.uploadId, { ...p1b, etag: '"again"' }), []);
      assert.equal(await s.isDataReferenced(p1b.data.id), true);
    });

    it('PutPart / ListParts › unknown upload, other key or bucket → NoSuchUpload', async () => {
      const u = uploadRecord('b1', 'k');
      await s.createUpload(u);
      await rejectsWith(() => s.putPart('b1', 'k', 'nope', partRecord(1)), 'NoSuchUpload');
      await rejectsWith(() => s.putPart('b1', 'other', u.uploadId, partRecord(1)), 'NoSuchUpload');
      await rejectsWith(() => s.putPart('nope', 'k', u.uploadId, partRecord(1)), 'NoSuchUpload');
      await rejectsWith(() => s.listParts('b1', 'other', u.uploadId, 0, 10), 'NoSuchUpload');
      assert.deepEqual(await s.listParts('b1', 'k', u.uploadId, 0, 10), []);
    });

    it('ListParts › pages by part number: after and limit', async () => {
      const u = uploadRecord('b1', 'k');
      await s.createUpload(u);
      for (const n of [10, 3, 7, 1, 10000]) await s.putPart('b1', 'k', u.uploadId, partRecord(n));
      const nums = async (after: number, limit: number) => (await s.listParts('b1', 'k', u.uploadId, after, limit)).map((p) => p.partNumber);
      assert.deepEqual(await nums(0, 1000), [1, 3, 7, 10, 10000]);
      assert.deepEqual(await nums(0, 2), [1, 3]);
      assert.deepEqual(await nums(3, 2), [7, 10]);
      assert.deepEqual(await nums(10, 2), [10000]);
      assert.deepEqual(await nums(10000, 2), []);
      assert.deepEqual(await nums(0, 0), []);
    });

    it('ListUploads › key bytes, then initiation order; prefix; markers exclusive', async () => {
      // Same key twice: the earlier initiation comes first although its id sorts later.
      const a2 = uploadRecord('b1', 'a', { uploadId: 'u-late', initiated: 2 });
      const a1 = uploadRecord('b1', 'a', { uploadId: 'u-zearly', initiated: 1 });
      const e000 = uploadRecord('b1', '\u{E000}');
      const astral = uploadRecord('b1', '\u{10000}');
      const dir1 = uploadRecord('b1', 'dir/x');
      const dir2 = uploadRecord('b1', 'dir/y');
      for (const u of [astral, dir2, a2, e000, dir1, a1]) await s.createUpload(u);
      await s.createBucket(bucket('b2'));
      await s.createUpload(uploadRecord('b2', 'a'));
      const list = async (prefix: string, keyMarker: string, uploadIdMarker: string, limit = 100) =>
        (await s.listUploads({ bucket: 'b1', prefix, keyMarker, uploadIdMarker, limit })).map((u) => `${u.key}:${u.uploadId}`);
      const all = [a1, a2, dir1, dir2, e000, astral].map((u) => `${u.key}:${u.uploadId}`);
      assert.deepEqual(await list('', '', ''), all);
      assert.deepEqual(await s.listUploads({ bucket: 'b1', prefix: 'a', keyMarker: '', uploadIdMarker: '', limit: 1 }), [a1]);
      assert.deepEqual(await list('dir/', '', ''), all.slice(2, 4));
      assert.deepEqual(await list('', 'a', ''), all.slice(2), 'key marker alone: keys after it');
      // With an upload id marker, that key's uploads whose ids sort after it come first (S3:
      // "lexicographically greater"; Strata's ids sort in initiation order, these do not on purpose).
      assert.deepEqual(await list('', 'a', 'u-late'), [all[0]!, ...all.slice(2)]);
      assert.deepEqual(await list('', 'a', 'u-zearly'), all.slice(2));
      assert.deepEqual(await list('', 'dir/x', '', 2), all.slice(3, 5));
      assert.deepEqual(await list('dir/', 'b', ''), all.slice(2, 4), 'marker before the prefix');
      assert.deepEqual(await list('dir/', 'dir/y', ''), []);
      assert.deepEqual(await list('', '', '', 0), []);
      await rejectsWith(() => s.listUploads({ bucket: 'nope', prefix: '', keyMarker: '', uploadIdMarker: '', limit: 10 }), 'NoSuchBucket');
    });

    it('CompleteUpload › subset of parts → object committed, upload gone, unlisted parts and old object data returned', async () => {
      const old = objectRecord('b1', 'k', { data: [{ id: 'old-1', size: 3 }] });
      await s.putObject(old);
      const u = uploadRecord('b1', 'k');
      await s.createUpload(u);
      const [p1, p2, p3] = [partRecord(1), partRecord(2), partRecord(3)];
      for (const p of [p1, p2, p3]) await s.putPart('b1', 'k', u.uploadId, p);
      const rec = objectRecord('b1', 'k', { data: [p1.data, p3.data], size: 10, parts: [5, 5], etag: '"x-2"' });
      const freed = await s.completeUpload('b1', 'k', u.uploadId, rec);
      assert.deepEqual(
        [...freed].sort((x, y) => x.id.localeCompare(y.id)),
        [p2.data, old.data[0]!].sort((x, y) => x.id.localeCompare(y.id)),
      );
      assert.deepEqual(await s.getObject('b1', 'k'), rec);
      assert.equal(await s.getUpload('b1', 'k', u.uploadId), undefined);
      await rejectsWith(() => s.listParts('b1', 'k', u.uploadId, 0, 10), 'NoSuchUpload');
      assert.equal(await s.isDataReferenced(p1.data.id), true, "now the object's");
      assert.equal(await s.isDataReferenced(p3.data.id), true);
      assert.equal(await s.isDataReferenced(p2.data.id), false);
      assert.equal(await s.isDataReferenced('old-1'), false);
      assert.deepEqual(await s.listUploads({ bucket: 'b1', prefix: '', keyMarker: '', uploadIdMarker: '', limit: 10 }), []);
      await rejectsWith(() => s.completeUpload('b1', 'k', u.uploadId, rec), 'NoSuchUpload');
    });

    it("CompleteUpload › getCompletedUpload → its upload id and the chosen parts' checksums in object order; gone once overwritten or deleted", async () => {
      assert.equal(await s.getCompletedUpload('b1', 'k'), undefined);
      await rejectsWith(() => s.getCompletedUpload('nope', 'k'), 'NoSuchBucket');
      const u = uploadRecord('b1', 'k', { checksumAlgorithm: 'crc32', checksumType: 'COMPOSITE' });
      await s.createUpload(u);
      const [p1, p2, p3] = [partRecord(1, { checksums: { crc32: 'AAAAAQ==' } }), partRecord(2, { checksums: { crc32: 'AAAAAg==' } }), partRecord(3)];
      for (const p of [p1, p2, p3]) await s.putPart('b1', 'k', u.uploadId, p);
      const rec = objectRecord('b1', 'k', { data: [p1.data, p3.data], size: 10, parts: [5, 5], etag: '"x-2"' });
      await s.completeUpload('b1', 'k', u.uploadId, rec);
      assert.deepEqual(await s.getCompletedUpload('b1', 'k'), { versionId: rec.versionId, uploadId: u.uploadId, partChecksums: [{ crc32: 'AAAAAQ==' }, {}] });
      assert.equal(await s.getCompletedUpload('b1', 'other'), undefined);
      // A later PUT replaces the object and what it kept of its upload.
      await s.putObject(objectRecord('b1', 'k'));
      assert.equal(await s.getCompletedUpload('b1', 'k'), undefined);
      const u2 = uploadRecord('b1', 'k');
      await s.createUpload(u2);
      const q1 = partRecord(1);
      await s.putPart('b1', 'k', u2.uploadId, q1);
      await s.completeUpload('b1', 'k', u2.uploadId, objectRecord('b1', 'k', { data: [q1.data], size: 5, parts: [5] }));
      assert.equal((await s.getCompletedUpload('b1', 'k'))?.uploadId, u2.uploadId);
      await s.deleteObject('b1', 'k');
      assert.equal(await s.getCompletedUpload('b1', 'k'), undefined);
    });

    it('CompleteUpload › failing condition → PreconditionFailed / NoSuchKey, upload and parts intact', async () => {
      const u = uploadRecord('b1', 'k');
      await s.createUpload(u);
      const p1 = partRecord(1);
      await s.putPart('b1', 'k', u.uploadId, p1);
      const rec = objectRecord('b1', 'k', { data: [p1.data], size: 5, parts: [5] });
      await rejectsWith(() => s.completeUpload('b1', 'k', u.uploadId, rec, { etagMatches: '"e"' }), 'NoSuchKey');
      const existing = objectRecord('b1', 'k', { etag: '"e"' });
      await s.putObject(existing);
      await rejectsWith(() => s.completeUpload('b1', 'k', u.uploadId, rec, { mustNotExist: true }), 'PreconditionFailed');
      await rejectsWith(() => s.completeUpload('b1', 'k', u.uploadId, rec, { etagMatches: '"other"' }), 'PreconditionFailed');
      assert.deepEqual(await s.getUpload('b1', 'k', u.uploadId), u);
      assert.deepEqual(await s.listParts('b1', 'k', u.uploadId, 0, 10), [p1]);
      assert.deepEqual(await s.getObject('b1', 'k'), existing);
      assert.equal(await s.isDataReferenced(p1.data.id), true);
      // The matching condition then succeeds.
      assert.deepEqual(await s.completeUpload('b1', 'k', u.uploadId, rec, { etagMatches: '"e"' }), existing.data);
      assert.deepEqual(await s.getObject('b1', 'k'), rec);
    });

    it("CompleteUpload › record with data that is not one of the upload's parts → refused, nothing changes", async () => {
      const u = uploadRecord('b1', 'k');
      await s.createUpload(u);
      const p1 = partRecord(1);
      await s.putPart('b1', 'k', u.uploadId, p1);
      const rec = objectRecord('b1', 'k', { data: [p1.data, { id: 'foreign', size: 1 }], size: 6 });
      await assert.rejects(async () => s.completeUpload('b1', 'k', u.uploadId, rec));
      assert.deepEqual(await s.getUpload('b1', 'k', u.uploadId), u);
      assert.equal(await s.getObject('b1', 'k'), undefined);
    });

    it("AbortUpload › returns every part's data, upload gone; again or unknown → NoSuchUpload", async () => {
      const u = uploadRecord('b1', 'k');
      const other = uploadRecord('b1', 'k');
      await s.createUpload(u);
      await s.createUpload(other);
      const [p1, p2] = [partRecord(1), partRecord(2)];
      await s.putPart('b1', 'k', u.uploadId, p1);
      await s.putPart('b1', 'k', u.uploadId, p2);
      const keep = partRecord(1);
      await s.putPart('b1', 'k', other.uploadId, keep);
      await rejectsWith(() => s.abortUpload('b1', 'other', u.uploadId), 'NoSuchUpload');
      const freed = await s.abortUpload('b1', 'k', u.uploadId);
      assert.deepEqual(
        [...freed].sort((x, y) => x.id.localeCompare(y.id)),
        [p1.data, p2.data].sort((x, y) => x.id.localeCompare(y.id)),
      );
      assert.equal(await s.getUpload('b1', 'k', u.uploadId), undefined);
      assert.equal(await s.isDataReferenced(p1.data.id), false);
      assert.equal(await s.isDataReferenced(keep.data.id), true, 'another upload of the same key is untouched');
      await rejectsWith(() => s.abortUpload('b1', 'k', u.uploadId), 'NoSuchUpload');
      await rejectsWith(() => s.abortUpload('nope', 'k', other.uploadId), 'NoSuchUpload');
      await rejectsWith(() => s.putPart('b1', 'k', u.uploadId, partRecord(3)), 'NoSuchUpload');
    });

    it('DeleteBucket › with only uploads → deleted with them; with objects → BucketNotEmpty, uploads kept', async () => {
      const u = uploadRecord('b1', 'k');
      await s.createUpload(u);
      const p1 = partRecord(1);
      await s.putPart('b1', 'k', u.uploadId, p1);
      await s.putBucketConfig('b1', 'cors', '[]');
      await s.putObject(objectRecord('b1', 'obj'));
      await rejectsWith(() => s.deleteBucket('b1'), 'BucketNotEmpty');
      assert.deepEqual(await s.getUpload('b1', 'k', u.uploadId), u);
      await s.deleteObject('b1', 'obj');
      await s.deleteBucket('b1');
      assert.equal(await s.getBucket('b1'), undefined);
      assert.equal(await s.getUpload('b1', 'k', u.uploadId), undefined);
      assert.equal(await s.isDataReferenced(p1.data.id), false);
      // A new bucket of the same name starts empty: no uploads, no configuration.
      await s.createBucket(bucket('b1'));
      assert.deepEqual(await s.listUploads({ bucket: 'b1', prefix: '', keyMarker: '', uploadIdMarker: '', limit: 10 }), []);
      assert.equal(await s.getBucketConfig('b1', 'cors'), undefined);
    });

    it('IsDataReferenced › covers upload parts, and a piece shared by a part and an object', async () => {
      const u = uploadRecord('b1', 'k');
      await s.createUpload(u);
      const p1 = partRecord(1, { data: { id: 'shared', size: 5 } });
      await s.putPart('b1', 'k', u.uploadId, p1);
      assert.equal(await s.isDataReferenced('shared'), true);
      await s.putObject(objectRecord('b1', 'o', { data: [{ id: 'shared', size: 5 }] }));
      assert.deepEqual(await s.abortUpload('b1', 'k', u.uploadId), [], 'still referenced by the object: not to be freed');
      assert.equal(await s.isDataReferenced('shared'), true);
      assert.deepEqual((await s.deleteObject('b1', 'o'))?.data, [{ id: 'shared', size: 5 }]);
      assert.equal(await s.isDataReferenced('shared'), false);
    });

    persistentIt('Restart › uploads, parts and bucket configuration survive a reopen', async () => {
      assert.ok(h.reopen, 'a persistent store harness must provide reopen()');
      const u = uploadRecord('b1', 'é/k', { checksumAlgorithm: 'sha256', checksumType: 'COMPOSITE' });
      await s.createUpload(u);
      const p = partRecord(2, { checksums: { sha256: 'x' } });
      await s.putPart('b1', 'é/k', u.uploadId, p);
      await s.putBucketConfig('b1', 'cors', '{}');
      s = await h.reopen!();
      assert.deepEqual(await s.getUpload('b1', 'é/k', u.uploadId), u);
      assert.deepEqual(await s.listParts('b1', 'é/k', u.uploadId, 0, 10), [p]);
      assert.equal(await s.isDataReferenced(p.data.id), true);
      assert.equal(await s.getBucketConfig('b1', 'cors'), '{}');
    });

    persistentIt("Restart › a completed upload's id and part checksums survive a reopen", async () => {
      assert.ok(h.reopen, 'a persistent store harness must provide reopen()');
      const u = uploadRecord('b1', 'done');
      await s.createUpload(u);
      const p = partRecord(1, { checksums: { sha256: 'c2hh' } });
      await s.putPart('b1', 'done', u.uploadId, p);
      const rec = objectRecord('b1', 'done', { data: [p.data], size: 5, parts: [5] });
      await s.completeUpload('b1', 'done', u.uploadId, rec);
      s = await h.reopen!();
      assert.deepEqual(await s.getCompletedUpload('b1', 'done'), { versionId: rec.versionId, uploadId: u.uploadId, partChecksums: [{ sha256: 'c2hh' }] });
    });
  });
}
