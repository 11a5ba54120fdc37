// Version assignment (versions.ts) and the Store's use of it: the version id a write gets in each
// bucket versioning state, the shape of new version ids, and the read handle's release rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryDataStore } from './data/memory.js';
import { memoryMetaStore } from './meta/memory.js';
import { Store } from './store.js';
import { NULL_VERSION, ROOT_USER_ID, type BucketRecord, type MetaStore, type ObjectWrite } from './types.js';
import { newVersion, newVersionId, versionIdFor } from './versions.js';

describe('versionIdFor', () => {
  const generate = () => 'generated';
  it("never enabled ('') → the null version", () => assert.equal(versionIdFor('', generate), NULL_VERSION));
  it('Suspended → the null version', () => assert.equal(versionIdFor('Suspended', generate), NULL_VERSION));
  it('Enabled → a new version id', () => {
    assert.equal(versionIdFor('Enabled', generate), 'generated');
    const a = versionIdFor('Enabled');
    const b = versionIdFor('Enabled');
    assert.notEqual(a, b);
    assert.notEqual(a, NULL_VERSION);
  });
});

describe('newVersionId', () => {
  it('32 URL-safe characters; later ids sort after earlier ones by bytes (same or later millisecond)', () => {
    const ids = [newVersionId(1_700_000_000_000), newVersionId(1_700_000_000_000), newVersionId(1_700_000_000_001), newVersionId(4_000_000_000_000)];
    for (const id of ids) assert.match(id, /^[0-9A-Za-z]{32}$/);
    const sorted = [...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(sorted, ids);
  });
});

describe('newVersion', () => {
  it('the latest, non-delete-marker record of the write, with the given id and time', () => {
    const w: ObjectWrite = { bucket: 'b', key: 'k', size: 2, etag: '"e"', storageClass: 'STANDARD', meta: { user: {} }, data: [], inline: Buffer.from('hi') };
    assert.deepEqual(newVersion(w, 'v', 5), { ...w, versionId: 'v', isLatest: true, isDeleteMarker: false, lastModified: 5 });
    assert.equal('parts' in newVersion(w, 'v', 5), false, 'no parts key for a single PUT');
  });
});

describe('Store › version assignment and read handles', () => {
  let store: Store;
  const write = (key: string, body: string): ObjectWrite => ({
    bucket: 'b',
    key,
    size: body.length,
    etag: `"${body}"`,
    storageClass: 'STANDARD',
    meta: { user: {} },
    data: [],
    inline: Buffer.from(body),
  });
  // Buckets cannot be versioned through the API yet: the state is set in the metadata store.
  let meta: MetaStore;
  let data: MemoryDataStore;
  const bucketIn = async (versioning: BucketRecord['versioning']) => {
    meta = memoryMetaStore();
    data = new MemoryDataStore();
    store = new Store(meta, data);
    await meta.createBucket({ name: 'b', region: 'us-east-1', createdAt: 0, versioning, owner: ROOT_USER_ID, objectLock: false });
  };
  const versions = async () => (await store.scanVersions('b', '', '', '', 100)).map((v) => v.versionId);

  it('CommitObject › unversioned bucket → each write replaces the null version', async () => {
    await bucketIn('');
    assert.equal((await store.commitObject(write('k', 'one'))).versionId, NULL_VERSION);
    await store.commitObject(write('k', 'two'));
    assert.deepEqual(await versions(), [NULL_VERSION]);
  });

  it('CommitObject › Enabled → each write adds a version with a new id, newest first', async () => {
    await bucketIn('Enabled');
    const a = await store.commitObject(write('k', 'one'));
    const b = await store.commitObject(write('k', 'two'));
    assert.notEqual(a.versionId, NULL_VERSION);
    assert.notEqual(a.versionId, b.versionId);
    assert.deepEqual(await versions(), [b.versionId, a.versionId]);
    const old = (await store.readObject('b', 'k', { versionId: a.versionId }))!;
    assert.equal(old.record.inline?.toString(), 'one');
    old.release();
  });

  it('CommitObject › Suspended → writes replace the null version and keep the versions made while Enabled', async () => {
    await bucketIn('Suspended');
    // A version from when versioning was enabled (set in the metadata store: not possible through the API yet).
    await meta.putObject(newVersion(write('k', 'old'), 'v-enabled', 1));
    const a = await store.commitObject(write('k', 'two'));
    const b = await store.commitObject(write('k', 'three'));
    assert.equal(a.versionId, NULL_VERSION);
    assert.equal(b.versionId, NULL_VERSION);
    assert.deepEqual(await versions(), [NULL_VERSION, 'v-enabled']);
    const latest = (await store.readObject('b', 'k'))!;
    assert.equal(latest.record.inline?.toString(), 'three');
    latest.release();
  });

  it("CompleteUpload › the built content becomes a version of the bucket's kind; a missing bucket frees the written data", async () => {
    await bucketIn('Enabled');
    const ref = await store.writeData(
      (async function* () {
        yield Buffer.from('x'.repeat(10));
      })(),
    );
    await assert.rejects(store.commitObject({ ...write('k', ''), bucket: 'gone', size: 10, inline: undefined, data: [ref] }));
    const ids: string[] = [];
    for await (const id of data.listIds(Date.now() + 60_000)) ids.push(id);
    assert.deepEqual(ids, [], 'the refused write left no data');
    await store.createUpload({ bucket: 'b', key: 'm', uploadId: 'u1', initiated: 1, meta: { user: {} }, storageClass: 'STANDARD' });
    const part = await store.writeData(
      (async function* () {
        yield Buffer.from('part');
      })(),
    );
    await store.commitPart('b', 'm', 'u1', { partNumber: 1, size: 4, etag: '"p"', lastModified: 1, data: part });
    const rec = await store.completeUpload('b', 'm', 'u1', (_u, parts) => ({
      size: 4,
      etag: '"p-1"',
      storageClass: 'STANDARD',
      meta: { user: {} },
      data: parts.map((p) => p.data),
      parts: [4],
    }));
    assert.notEqual(rec.versionId, NULL_VERSION);
    assert.equal((await store.completedUpload('b', 'm', 'u1'))?.record.versionId, rec.versionId);
  });

  it('ListVersions › versions newest first, common prefixes counted once, pages resume inside a key', async () => {
    await bucketIn('Enabled');
    const ids: Record<string, string[]> = {};
    for (const key of ['a', 'd/1', 'a', 'd/2', 'a', 'e']) {
      (ids[key] ??= []).unshift((await store.commitObject(write(key, key))).versionId);
    }
    const entries: string[] = [];
    let keyMarker = '';
    let versionIdMarker = '';
    for (let pages = 0; pages < 10; pages++) {
      const p = await store.listVersions({ bucket: 'b', prefix: '', delimiter: '/', keyMarker, versionIdMarker, maxKeys: 2 });
      entries.push(...p.versions.map((v) => `${v.key}@${v.versionId}${v.isLatest ? '*' : ''}`), ...p.commonPrefixes);
      if (!p.isTruncated) break;
      keyMarker = p.nextKeyMarker!;
      versionIdMarker = p.nextVersionIdMarker ?? '';
    }
    const [a1, a2, a3] = ids['a']!;
    assert.deepEqual(entries, [`a@${a1}*`, `a@${a2}`, `a@${a3}`, 'd/', `e@${ids['e']![0]}*`]);
  });

  it('ReadObject › release is idempotent, a no-op after stream, and Symbol.dispose releases', async () => {
    await bucketIn('');
    const ref = await store.writeData(
      (async function* () {
        yield Buffer.from('hello');
      })(),
    );
    await store.commitObject({ ...write('k', 'hello'), inline: undefined, data: [ref] });
    const none = { pinnedIds: 0, deferredFrees: 0, leases: 0 };
    const h = (await store.readObject('b', 'k'))!;
    assert.deepEqual(store.pinStats(), { pinnedIds: 1, deferredFrees: 0, leases: 1 });
    h.release();
    h.release();
    assert.deepEqual(store.pinStats(), none);
    const d = (await store.readObject('b', 'k'))!;
    d[Symbol.dispose]();
    assert.deepEqual(store.pinStats(), none);
    const s = (await store.readObject('b', 'k'))!;
    const stream = s.stream();
    s.release(); // the stream holds the pin now
    assert.deepEqual(store.pinStats(), { pinnedIds: 1, deferredFrees: 0, leases: 0 });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'hello');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(store.pinStats(), none);
    assert.equal(await store.readObject('b', 'k', { versionId: 'other' }), undefined);
  });
});
