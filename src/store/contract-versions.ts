// Behavioural contract of the version-aware MetaStore methods (getObject by version id, delete of
// one version, scanVersions, updateObject), run against every implementation like contract.ts.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { StoreError } from './errors.js';
import { type Maybe, type MetaHarness, objectRecord, toHarness } from './contract.js';
import { ROOT_USER_ID, type ListedVersion, type MetaStore, type ObjectRecord } from './types.js';

const T = 1_700_000_000_000;

export function runVersionsContract(name: string, newStore: () => Maybe<MetaStore | MetaHarness>): void {
  describe(`MetaStore versions contract: ${name}`, () => {
    let h: MetaHarness;
    let s: MetaStore;

    beforeEach(async () => {
      h = toHarness<MetaStore, MetaHarness>(await newStore());
      s = h.store;
      await s.createBucket({ name: 'b1', region: 'us-east-1', createdAt: T, versioning: '', owner: ROOT_USER_ID, objectLock: false });
    });
    afterEach(async () => {
      await s.close();
      await h.dispose?.();
    });

    const version = (key: string, versionId: string, lastModified: number, over: Partial<ObjectRecord> = {}) =>
      objectRecord('b1', key, { versionId, lastModified, ...over });
    const brief = (v: ListedVersion) => `${v.key}@${v.versionId}${v.isLatest ? '*' : ''}${v.isDeleteMarker ? 'D' : ''}`;
    const noSuchBucket = (err: unknown) => err instanceof StoreError && err.code === 'NoSuchBucket';

    /** Three keys, several versions each, written oldest first (the last write of a key is latest). */
    async function history(): Promise<void> {
      await s.putObject(version('a', 'v1', T + 1));
      await s.putObject(version('a', 'v2', T + 2));
      await s.putObject(version('a', 'null', T + 3));
      await s.putObject(version('b', 'w1', T + 5));
      await s.putObject(version('b', 'w2', T + 5)); // same millisecond: the greater version id is newer
      await s.putObject(version('b', 'dm', T + 6, { isDeleteMarker: true, size: 0, data: [] }));
      await s.putObject(version('é', 'x1', T + 7)); // sorts after 'b' by UTF-8 bytes
    }

    it('GetObject › by version id → that version (latest flag as stored); unknown version → undefined', async () => {
      const v1 = version('k', 'v1', T + 1);
      const v2 = version('k', 'v2', T + 2);
      await s.putObject(v1);
      await s.putObject(v2);
      assert.deepEqual(await s.getObject('b1', 'k', 'v1'), { ...v1, isLatest: false });
      assert.deepEqual(await s.getObject('b1', 'k', 'v2'), v2);
      assert.deepEqual(await s.getObject('b1', 'k'), v2);
      assert.equal(await s.getObject('b1', 'k', 'null'), undefined);
      assert.equal(await s.getObject('b1', 'other', 'v1'), undefined);
    });

    it('DeleteObject › one version: an older one → latest unchanged; the latest → the newest remaining takes over', async () => {
      await history();
      const removed = await s.deleteObject('b1', 'a', 'v1');
      assert.equal(removed?.versionId, 'v1');
      assert.equal(await s.isDataReferenced(removed!.data[0]!.id), false, 'its data is no longer referenced');
      assert.equal((await s.getObject('b1', 'a'))?.versionId, 'null');
      assert.equal((await s.deleteObject('b1', 'a', 'null'))?.versionId, 'null');
      const latest = await s.getObject('b1', 'a');
      assert.equal(latest?.versionId, 'v2');
      assert.equal(latest?.isLatest, true);
      assert.equal(await s.deleteObject('b1', 'a', 'null'), undefined, 'already gone');
      assert.equal(await s.deleteObject('b1', 'a', 'nope'), undefined);
      // b: removing the delete marker makes the newer of the two same-millisecond versions latest.
      assert.equal((await s.deleteObject('b1', 'b', 'dm'))?.isDeleteMarker, true);
      assert.equal((await s.getObject('b1', 'b'))?.versionId, 'w2');
      assert.deepEqual(
        (await s.scanObjects('b1', '', '', 10)).map((r) => `${r.key}@${r.versionId}`),
        ['a@v2', 'b@w2', 'é@x1'],
      );
      await assert.rejects(async () => s.deleteObject('nope', 'a', 'v1'), noSuchBucket);
    });

    it('ScanVersions › key bytes ascending, newest first, delete markers and latest flags included', async () => {
      await history();
      assert.deepEqual((await s.scanVersions('b1', '', '', '', 100)).map(brief), ['a@null*', 'a@v2', 'a@v1', 'b@dm*D', 'b@w2', 'b@w1', 'é@x1*']);
      const [first] = await s.scanVersions('b1', '', '', '', 1);
      assert.deepEqual(first, {
        key: 'a',
        versionId: 'null',
        size: 3,
        etag: first!.etag,
        lastModified: T + 3,
        storageClass: 'STANDARD',
        checksumAlgorithms: '',
        isLatest: true,
        isDeleteMarker: false,
      });
    });

    it('ScanVersions › prefix, key marker, version-id marker and limit bound the result', async () => {
      await history();
      const scan = async (prefix: string, km: string, vm: string, limit = 100) => (await s.scanVersions('b1', prefix, km, vm, limit)).map(brief);
      assert.deepEqual(await scan('b', '', ''), ['b@dm*D', 'b@w2', 'b@w1']);
      assert.deepEqual(await scan('', 'a', ''), ['b@dm*D', 'b@w2', 'b@w1', 'é@x1*'], 'a key marker alone skips that key');
      assert.deepEqual(await scan('', 'a', 'v2'), ['a@v1', 'b@dm*D', 'b@w2', 'b@w1', 'é@x1*'], 'after that version of the key');
      assert.deepEqual(await scan('', 'b', 'w2'), ['b@w1', 'é@x1*'], 'same millisecond: by version id');
      assert.deepEqual(await scan('', 'a', 'gone'), ['b@dm*D', 'b@w2', 'b@w1', 'é@x1*'], 'an unknown version: the next key');
      assert.deepEqual(await scan('', '', '', 2), ['a@null*', 'a@v2']);
      assert.deepEqual(await scan('', '', '', 0), []);
      assert.deepEqual(await scan('z', '', ''), []);
      const from = async (f: string, km = '', vm = '') => (await s.scanVersions('b1', '', km, vm, 100, f)).map(brief);
      assert.deepEqual(await from('b'), ['b@dm*D', 'b@w2', 'b@w1', 'é@x1*'], 'from: keys at or after it');
      assert.deepEqual(await from('b', 'b', 'w2'), ['b@w1', 'é@x1*'], 'the markers when they are further');
      assert.deepEqual(await from('c', 'a', 'v2'), ['é@x1*'], 'from when it is further');
      // Paging one at a time with the markers of the last entry visits every version once, in order.
      const seen: string[] = [];
      let km = '';
      let vm = '';
      for (;;) {
        const page = await s.scanVersions('b1', '', km, vm, 1);
        if (page.length === 0) break;
        seen.push(brief(page[0]!));
        km = page[0]!.key;
        vm = page[0]!.versionId;
      }
      assert.deepEqual(seen, await scan('', '', ''));
      await assert.rejects(async () => s.scanVersions('nope', '', '', '', 10), noSuchBucket);
    });

    it('UpdateObject › metadata only: meta replaced; data, ETag, size, time and latest kept; by version id', async () => {
      const v1 = version('k', 'v1', T + 1);
      const v2 = version('k', 'v2', T + 2, { meta: { contentType: 'a/b', user: { x: '1' }, checksums: { crc32: 'AAAAAA==' } } });
      await s.putObject(v1);
      await s.putObject(v2);
      const meta = { contentType: 'c/d', user: { y: '2' } };
      assert.deepEqual(await s.updateObject('b1', 'k', undefined, { meta }), { ...v2, meta });
      assert.deepEqual(await s.getObject('b1', 'k'), { ...v2, meta });
      assert.deepEqual(await s.updateObject('b1', 'k', 'v1', { meta }), { ...v1, meta, isLatest: false });
      assert.equal((await s.getObject('b1', 'k'))?.versionId, 'v2', 'the latest version is still v2');
      assert.equal(await s.isDataReferenced(v1.data[0]!.id), true);
      assert.equal(await s.isDataReferenced(v2.data[0]!.id), true);
      assert.deepEqual(await s.updateObject('b1', 'k', 'v2', {}), { ...v2, meta }, 'an empty patch changes nothing');
      assert.equal(await s.updateObject('b1', 'k', 'v3', { meta }), undefined);
      assert.equal(await s.updateObject('b1', 'missing', undefined, { meta }), undefined);
      await s.putObject(version('k', 'dm', T + 3, { isDeleteMarker: true, size: 0, data: [] }));
      assert.equal(await s.updateObject('b1', 'k', undefined, { meta }), undefined, 'a delete marker has no metadata to update');
      await assert.rejects(async () => s.updateObject('nope', 'k', undefined, { meta }), noSuchBucket);
    });

    it('UpdateObject › an inline object keeps its bytes', async () => {
      const bytes = Buffer.from('inline bytes');
      await s.putObject(objectRecord('b1', 'small', { size: bytes.length, data: [], inline: bytes }));
      await s.updateObject('b1', 'small', undefined, { meta: { user: { z: '3' } } });
      const got = await s.getObject('b1', 'small');
      assert.deepEqual(got?.inline, bytes);
      assert.deepEqual(got?.meta, { user: { z: '3' } });
    });

    it('GetObject › an older version stored inline → its own bytes', async () => {
      await s.putObject(objectRecord('b1', 'small', { versionId: 'v1', lastModified: T + 1, size: 3, data: [], inline: Buffer.from('one') }));
      await s.putObject(objectRecord('b1', 'small', { versionId: 'v2', lastModified: T + 2, size: 3, data: [], inline: Buffer.from('two') }));
      assert.equal((await s.getObject('b1', 'small', 'v1'))?.inline?.toString(), 'one');
      assert.equal((await s.getObject('b1', 'small'))?.inline?.toString(), 'two');
      assert.equal((await s.getObject('b1', 'small', 'v1', false))?.inline, undefined);
    });
  });
}
