// The store's data-protection core (format 6): bucket versioning and object-lock state, delete
// markers, version extras (tags, retention, legal hold) and the object-lock rules checked inside
// the metadata transactions that remove, replace or change a version.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { MemoryDataStore } from './data/memory.js';
import { StoreError } from './errors.js';
import { memoryMetaStore } from './meta/memory.js';
import { checkRemovable, checkRetentionChange } from './object-lock.js';
import { Store } from './store.js';
import { NULL_VERSION, type ObjectWrite } from './types.js';

const write = (key: string, body: string, extra: Partial<ObjectWrite> = {}): ObjectWrite => ({
  bucket: 'b',
  key,
  size: body.length,
  etag: `"${body}"`,
  storageClass: 'STANDARD',
  meta: { user: {} },
  data: [],
  inline: Buffer.from(body),
  ...extra,
});

const locked = (code: string) => (err: unknown) => err instanceof StoreError && err.code === code;

describe('object-lock rules', () => {
  const now = 1_000;
  it('a legal hold blocks removal whatever the retention', () => {
    assert.throws(() => checkRemovable({ legalHold: true }, { now, bypassGovernance: true }), locked('ObjectLocked'));
  });
  it('COMPLIANCE blocks until its date, bypass or not; GOVERNANCE yields to the bypass only', () => {
    assert.throws(() => checkRemovable({ retention: { mode: 'COMPLIANCE', until: now + 1 } }, { now, bypassGovernance: true }), locked('ObjectLocked'));
    assert.doesNotThrow(() => checkRemovable({ retention: { mode: 'COMPLIANCE', until: now } }, { now }));
    assert.throws(() => checkRemovable({ retention: { mode: 'GOVERNANCE', until: now + 1 } }, { now }), locked('ObjectLocked'));
    assert.doesNotThrow(() => checkRemovable({ retention: { mode: 'GOVERNANCE', until: now + 1 } }, { now, bypassGovernance: true }));
    assert.doesNotThrow(() => checkRemovable({}, { now }));
  });
  it('retention changes: COMPLIANCE only extended; GOVERNANCE shortened, removed or made COMPLIANCE only with the bypass', () => {
    const c = { mode: 'COMPLIANCE' as const, until: now + 100 };
    const g = { mode: 'GOVERNANCE' as const, until: now + 100 };
    assert.doesNotThrow(() => checkRetentionChange(c, { mode: 'COMPLIANCE', until: now + 200 }, { now }));
    assert.throws(() => checkRetentionChange(c, { mode: 'COMPLIANCE', until: now + 50 }, { now, bypassGovernance: true }), locked('ObjectLocked'));
    assert.throws(() => checkRetentionChange(c, { mode: 'GOVERNANCE', until: now + 200 }, { now, bypassGovernance: true }), locked('ObjectLocked'));
    assert.throws(() => checkRetentionChange(c, null, { now, bypassGovernance: true }), locked('ObjectLocked'));
    assert.doesNotThrow(() => checkRetentionChange(g, { mode: 'GOVERNANCE', until: now + 200 }, { now }));
    assert.throws(() => checkRetentionChange(g, { mode: 'COMPLIANCE', until: now + 100 }, { now }), locked('ObjectLocked'));
    assert.throws(() => checkRetentionChange(g, { mode: 'COMPLIANCE', until: now + 200 }, { now }), locked('ObjectLocked'));
    assert.doesNotThrow(() => checkRetentionChange(g, { mode: 'COMPLIANCE', until: now + 100 }, { now, bypassGovernance: true }));
    assert.throws(() => checkRetentionChange(g, { mode: 'GOVERNANCE', until: now + 50 }, { now }), locked('ObjectLocked'));
    assert.throws(() => checkRetentionChange(g, null, { now }), locked('ObjectLocked'));
    assert.doesNotThrow(() => checkRetentionChange(g, null, { now, bypassGovernance: true }));
    // An expired retention binds nothing.
    assert.doesNotThrow(() => checkRetentionChange({ mode: 'COMPLIANCE', until: now - 1 }, null, { now }));
  });
});

describe('Store › versioning state, delete markers and object lock', () => {
  let store: Store;
  beforeEach(async () => {
    store = new Store(memoryMetaStore(), new MemoryDataStore());
    await store.createBucket('b', 'us-east-1');
  });

  it('versioning: Enabled then Suspended; object lock needs Enabled and then forbids suspending', async () => {
    assert.equal((await store.getBucket('b'))?.versioning, '');
    await assert.rejects(store.updateBucket('b', { objectLock: true }), locked('InvalidBucketState'));
    assert.equal((await store.updateBucket('b', { versioning: 'Enabled' })).versioning, 'Enabled');
    assert.equal((await store.updateBucket('b', { objectLock: true })).objectLock, true);
    await assert.rejects(store.updateBucket('b', { versioning: 'Suspended' }), locked('InvalidBucketState'));
    await assert.rejects(store.updateBucket('nope', { versioning: 'Enabled' }), locked('NoSuchBucket'));
    await store.createBucket('lockd', 'us-east-1', undefined, { objectLock: true });
    const lockd = await store.getBucket('lockd');
    assert.deepEqual([lockd?.versioning, lockd?.objectLock], ['Enabled', true]);
  });

  it('unversioned: DeleteObject removes the null version, no marker', async () => {
    await store.commitObject(write('k', 'a'));
    assert.deepEqual(await store.deleteObject('b', 'k'), { removed: true, deleteMarker: false, versionId: NULL_VERSION });
    assert.deepEqual(await store.deleteObject('b', 'k'), { removed: false, deleteMarker: false });
    assert.equal(await store.versionRecord('b', 'k'), undefined);
  });

  it('Enabled: a delete adds a marker; deleting the marker by id restores the previous version', async () => {
    await store.updateBucket('b', { versioning: 'Enabled' });
    const v1 = await store.commitObject(write('k', 'one'));
    const out = await store.deleteObject('b', 'k');
    assert.equal(out.deleteMarker, true);
    assert.notEqual(out.versionId, NULL_VERSION);
    assert.equal(await store.readObject('b', 'k'), undefined, 'the latest is a marker: nothing to read');
    const marker = await store.versionRecord('b', 'k');
    assert.deepEqual([marker?.isDeleteMarker, marker?.versionId, marker?.isLatest], [true, out.versionId, true]);
    // A second delete adds a second marker (S3 does).
    const again = await store.deleteObject('b', 'k');
    assert.notEqual(again.versionId, out.versionId);
    assert.deepEqual(await store.deleteObject('b', 'k', { versionId: again.versionId! }), { removed: true, deleteMarker: true, versionId: again.versionId });
    assert.deepEqual((await store.deleteObject('b', 'k', { versionId: out.versionId! })).deleteMarker, true);
    const back = await store.readObject('b', 'k');
    assert.equal(back?.record.versionId, v1.versionId);
    back?.release();
    // The bucket is not empty while a version or a marker remains.
    await store.deleteObject('b', 'k');
    await store.deleteObject('b', 'k', { versionId: v1.versionId });
    await assert.rejects(store.deleteBucket('b'), locked('BucketNotEmpty'));
  });

  it('Suspended: writes and deletes replace the null version, older versions stay', async () => {
    await store.updateBucket('b', { versioning: 'Enabled' });
    const kept = await store.commitObject(write('k', 'kept'));
    await store.updateBucket('b', { versioning: 'Suspended' });
    const n1 = await store.commitObject(write('k', 'n1'));
    assert.equal(n1.versionId, NULL_VERSION);
    await store.commitObject(write('k', 'n2'));
    const del = await store.deleteObject('b', 'k');
    assert.deepEqual(del, { removed: true, deleteMarker: true, versionId: NULL_VERSION });
    const versions = await store.scanVersions('b', '', '', '', 10);
    assert.deepEqual(
      versions.map((v) => [v.versionId, v.isDeleteMarker, v.isLatest]),
      [
        [NULL_VERSION, true, true],
        [kept.versionId, false, false],
      ],
    );
  });

  it('extras round-trip on a version; a patch changes them without touching the rest', async () => {
    await store.updateBucket('b', { versioning: 'Enabled' });
    const until = Date.now() + 60_000;
    const v = await store.commitObject(write('k', 'x', { tags: [{ key: 't', value: '1' }], retention: { mode: 'GOVERNANCE', until }, legalHold: true }));
    const rec = await store.versionRecord('b', 'k', v.versionId);
    assert.deepEqual([rec?.tags, rec?.retention, rec?.legalHold], [[{ key: 't', value: '1' }], { mode: 'GOVERNANCE', until }, true]);
    const patched = await store.updateObject('b', 'k', v.versionId, { tags: null, legalHold: false });
    // A lifted legal hold is remembered as OFF (S3 answers GetObjectLegalHold OFF, not "none").
    assert.deepEqual([patched?.tags, patched?.legalHold, patched?.retention?.mode, patched?.etag], [undefined, false, 'GOVERNANCE', '"x"']);
    assert.equal((await store.versionRecord('b', 'k', v.versionId))?.legalHold, false, 'OFF is stored');
    await assert.rejects(store.updateObject('b', 'k', v.versionId, { retention: null }), locked('ObjectLocked'));
    const removed = await store.updateObject('b', 'k', v.versionId, { retention: null, lock: { bypassGovernance: true } });
    assert.equal(removed?.retention, undefined);
    assert.deepEqual((await store.versionRecord('b', 'k'))?.tags, undefined, 'removed tags stay removed');
  });

  it('a protected version cannot be deleted or replaced; the bypass lifts GOVERNANCE only', async () => {
    await store.updateBucket('b', { versioning: 'Enabled' });
    const future = Date.now() + 60_000;
    const gov = await store.commitObject(write('g', 'g', { retention: { mode: 'GOVERNANCE', until: future } }));
    const comp = await store.commitObject(write('c', 'c', { retention: { mode: 'COMPLIANCE', until: future } }));
    const held = await store.commitObject(write('h', 'h', { legalHold: true }));
    await assert.rejects(store.deleteObject('b', 'g', { versionId: gov.versionId }), locked('ObjectLocked'));
    await assert.rejects(store.deleteObject('b', 'c', { versionId: comp.versionId, lock: { bypassGovernance: true } }), locked('ObjectLocked'));
    await assert.rejects(store.deleteObject('b', 'h', { versionId: held.versionId, lock: { bypassGovernance: true } }), locked('ObjectLocked'));
    // A delete marker over a locked version is allowed (the version stays).
    assert.equal((await store.deleteObject('b', 'c')).deleteMarker, true);
    assert.equal((await store.deleteObject('b', 'g', { versionId: gov.versionId, lock: { bypassGovernance: true } })).removed, true);
    // Replacing a protected null version (a suspended bucket) is refused too, in the commit.
    await store.updateBucket('b', { versioning: 'Suspended' });
    await store.commitObject(write('n', 'n', { legalHold: true }));
    await assert.rejects(store.commitObject(write('n', 'n2')), locked('ObjectLocked'));
    await assert.rejects(store.deleteObject('b', 'n'), locked('ObjectLocked'));
    const still = await store.readObject('b', 'n');
    assert.equal(still?.record.etag, '"n"');
    still?.release();
  });

  it('overwriting a null version under retention: GOVERNANCE only with the bypass, COMPLIANCE never, a passed date binds nothing', async () => {
    // Unreachable over HTTP (a lock bucket cannot be suspended); the commit refuses it all the same.
    await store.updateBucket('b', { versioning: 'Enabled' });
    await store.updateBucket('b', { versioning: 'Suspended' });
    const future = Date.now() + 60_000;
    await store.commitObject(write('g', 'g', { retention: { mode: 'GOVERNANCE', until: future } }));
    await assert.rejects(store.commitObject(write('g', 'g2')), locked('ObjectLocked'));
    assert.equal((await store.commitObject(write('g', 'g3'), undefined, { bypassGovernance: true })).etag, '"g3"');
    await store.commitObject(write('c', 'c', { retention: { mode: 'COMPLIANCE', until: future } }));
    await assert.rejects(store.commitObject(write('c', 'c2'), undefined, { bypassGovernance: true }), locked('ObjectLocked'));
    await assert.rejects(store.deleteObject('b', 'c', { lock: { bypassGovernance: true } }), locked('ObjectLocked'));
    await store.commitObject(write('p', 'p', { retention: { mode: 'COMPLIANCE', until: Date.now() - 1 } }));
    assert.equal((await store.commitObject(write('p', 'p2'))).etag, '"p2"', 'a retention whose date passed protects nothing');
    const c = await store.readObject('b', 'c');
    assert.equal(c?.record.etag, '"c"');
    c?.release();
  });

  it('multipart completion onto a protected null version is refused; the upload stays', async () => {
    await store.updateBucket('b', { versioning: 'Enabled' });
    await store.updateBucket('b', { versioning: 'Suspended' });
    await store.commitObject(write('m', 'm', { legalHold: true }));
    await store.createUpload({
      bucket: 'b',
      key: 'm',
      uploadId: 'u1',
      initiated: 0,
      meta: { user: {} },
      storageClass: 'STANDARD',
      tags: [{ key: 'a', value: 'b' }],
    });
    const build = () => ({ size: 0, etag: '"e-0"', storageClass: 'STANDARD', meta: { user: {} }, data: [] });
    await assert.rejects(store.completeUpload('b', 'm', 'u1', build), locked('ObjectLocked'));
    const upload = await store.getUpload('b', 'm', 'u1');
    assert.deepEqual(upload?.tags, [{ key: 'a', value: 'b' }], 'the upload keeps its extras');
  });

  it('job state is stored, replaced and removed', async () => {
    assert.equal(await store.getJobState('lifecycle'), undefined);
    await store.putJobState('lifecycle', '{"at":1}');
    await store.putJobState('lifecycle', '{"at":2}');
    assert.equal(await store.getJobState('lifecycle'), '{"at":2}');
    await store.putJobState('lifecycle', undefined);
    assert.equal(await store.getJobState('lifecycle'), undefined);
  });
});
