// The Store façade's multipart protocol over the in-memory stores: which pieces exist after each
// step (written, replaced, discarded, aborted, completed, bucket deleted), the upload lock, and
// the ListMultipartUploads page algorithm.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { MemoryDataStore } from './data/memory.js';
import { StoreError } from './errors.js';
import { memoryMetaStore } from './meta/memory.js';
import type { SqliteMetaStore } from './meta/sqlite.js';
import { Store } from './store.js';
import { SWEEP_MARGIN_MS } from './write-intents.js';

async function count(it: AsyncIterable<boolean>): Promise<number> {
  let n = 0;
  for await (const orphan of it) if (orphan) n++;
  return n;
}
import { NULL_VERSION, type ObjectRecord, type PartRecord, type UploadRecord } from './types.js';

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

async function readAll(s: AsyncIterable<Buffer | string>): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(Buffer.from(c as Buffer));
  return Buffer.concat(out).toString();
}

async function pieceIds(data: MemoryDataStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of data.listIds(Date.now() + 60_000)) ids.push(id);
  return ids.sort();
}

const storeError = (code: string) => (e: unknown) => e instanceof StoreError && e.code === code;

let idSeq = 0;
function upload(bucket: string, key: string, initiated = 1000 + ++idSeq): UploadRecord {
  return { bucket, key, uploadId: `${String(initiated).padStart(12, '0')}-${idSeq}`, initiated, meta: { user: {} }, storageClass: 'STANDARD' };
}

function recordFrom(u: UploadRecord, parts: PartRecord[]): ObjectRecord {
  return {
    bucket: u.bucket,
    key: u.key,
    versionId: NULL_VERSION,
    isLatest: true,
    isDeleteMarker: false,
    size: parts.reduce((n, p) => n + p.size, 0),
    etag: '"x-' + parts.length + '"',
    lastModified: Date.now(),
    storageClass: u.storageClass,
    meta: u.meta,
    data: parts.map((p) => p.data),
    parts: parts.map((p) => p.size),
  };
}

describe('Store multipart', () => {
  let data: MemoryDataStore;
  let meta: SqliteMetaStore;
  let store: Store;

  beforeEach(async () => {
    data = new MemoryDataStore();
    meta = memoryMetaStore();
    store = new Store(meta, data);
    await store.createBucket('b', 'us-east-1');
  });

  async function putPart(u: UploadRecord, n: number, body: string): Promise<PartRecord> {
    const ref = await store.writeData(chunks(body));
    const part: PartRecord = { partNumber: n, size: ref.size, etag: `"${body}"`, lastModified: Date.now(), data: ref };
    await store.commitPart(u.bucket, u.key, u.uploadId, part);
    return part;
  }

  it('CommitPart › re-upload of a part number → the old piece is freed', async () => {
    const u = upload('b', 'k');
    await store.createUpload(u);
    const first = await putPart(u, 1, 'aaa');
    const second = await putPart(u, 1, 'bbbb');
    assert.deepEqual(await pieceIds(data), [second.data.id]);
    assert.deepEqual(
      (await store.listParts('b', 'k', u.uploadId, 0, 10)).map((p) => p.size),
      [4],
    );
    assert.notEqual(first.data.id, second.data.id);
  });

  it('CommitPart › unknown upload → NoSuchUpload and the written piece is removed', async () => {
    const ref = await store.writeData(chunks('zz'));
    await assert.rejects(store.commitPart('b', 'k', 'nope', { partNumber: 1, size: 2, etag: '"z"', lastModified: 0, data: ref }), storeError('NoSuchUpload'));
    assert.deepEqual(await pieceIds(data), []);
  });

  it('CompleteUpload › subset → object reads the listed parts in order; unlisted and replaced pieces freed', async () => {
    const old = await store.writeData(chunks('old object'));
    await store.commitObject({ ...recordFrom(upload('b', 'k'), []), data: [old], size: old.size, parts: undefined, etag: '"o"' });
    const u = upload('b', 'k');
    await store.createUpload(u);
    const p1 = await putPart(u, 1, 'one-');
    const p2 = await putPart(u, 2, 'two-');
    const p3 = await putPart(u, 3, 'three');
    const rec = await store.completeUpload('b', 'k', u.uploadId, (_u, parts) => {
      assert.deepEqual(
        parts.map((p) => p.partNumber),
        [1, 2, 3],
        'build sees every uploaded part',
      );
      return recordFrom(u, [parts[0]!, parts[2]!]);
    });
    assert.equal(await readAll(store.openRead(rec)), 'one-three');
    assert.deepEqual(await pieceIds(data), [p1.data.id, p3.data.id].sort());
    assert.equal(await store.getUpload('b', 'k', u.uploadId), undefined);
    assert.deepEqual((await store.getObject('b', 'k'))?.parts, [4, 5]);
    assert.ok(!(await pieceIds(data)).includes(p2.data.id));
  });

  it('CompleteUpload › build throws → upload, parts and pieces intact', async () => {
    const u = upload('b', 'k');
    await store.createUpload(u);
    const p1 = await putPart(u, 1, 'x');
    await assert.rejects(
      store.completeUpload('b', 'k', u.uploadId, () => {
        throw new Error('InvalidPart');
      }),
      /InvalidPart/,
    );
    assert.ok(await store.getUpload('b', 'k', u.uploadId));
    assert.deepEqual(await pieceIds(data), [p1.data.id]);
  });

  it('CompleteUpload › failing If-None-Match → PreconditionFailed; nothing freed, upload intact', async () => {
    const existing = await store.writeData(chunks('existing'));
    await store.commitObject({ ...recordFrom(upload('b', 'k'), []), data: [existing], size: 8, parts: undefined });
    const u = upload('b', 'k');
    await store.createUpload(u);
    const p1 = await putPart(u, 1, 'new');
    await assert.rejects(
      store.completeUpload('b', 'k', u.uploadId, (_u, parts) => recordFrom(u, parts), { mustNotExist: true }),
      storeError('PreconditionFailed'),
    );
    assert.deepEqual(await pieceIds(data), [existing.id, p1.data.id].sort());
    assert.equal((await store.listParts('b', 'k', u.uploadId, 0, 10)).length, 1);
  });

  it('CompleteUpload › a part committed while completing waits for the lock, then finds no upload', async () => {
    const u = upload('b', 'k');
    await store.createUpload(u);
    await putPart(u, 1, 'a');
    let late: Promise<unknown> | undefined;
    const done = store.completeUpload('b', 'k', u.uploadId, async (_u, parts) => {
      // A re-upload of part 1 arrives while the completion holds the upload's lock.
      const ref = await store.writeData(chunks('late'));
      late = store.commitPart('b', 'k', u.uploadId, { partNumber: 1, size: 4, etag: '"late"', lastModified: 0, data: ref }).catch((e) => e);
      await new Promise((r) => setTimeout(r, 10));
      return recordFrom(u, parts);
    });
    const rec = await done;
    assert.ok((await late) instanceof StoreError, 'the late part fails with NoSuchUpload');
    assert.equal(await readAll(store.openRead(rec)), 'a', 'the object has the validated part, not the late one');
    assert.deepEqual(await pieceIds(data), [rec.data[0]!.id]);
  });

  it('AbortUpload › every part piece freed; again → NoSuchUpload', async () => {
    const u = upload('b', 'k');
    await store.createUpload(u);
    await putPart(u, 1, 'a');
    await putPart(u, 2, 'b');
    await store.abortUpload('b', 'k', u.uploadId);
    assert.deepEqual(await pieceIds(data), []);
    await assert.rejects(store.abortUpload('b', 'k', u.uploadId), storeError('NoSuchUpload'));
    await assert.rejects(store.requireUpload('b', 'k', u.uploadId), storeError('NoSuchUpload'));
    await assert.rejects(store.requireUpload('nope', 'k', u.uploadId), storeError('NoSuchBucket'));
  });

  it('DeleteBucket › only incomplete uploads → bucket deleted, their pieces freed', async () => {
    const u1 = upload('b', 'k1');
    const u2 = upload('b', 'k2');
    await store.createUpload(u1);
    await store.createUpload(u2);
    await putPart(u1, 1, 'a');
    await putPart(u2, 1, 'b');
    await putPart(u2, 2, 'c');
    await store.deleteBucket('b');
    assert.equal(await store.getBucket('b'), undefined);
    assert.deepEqual(await pieceIds(data), []);
  });

  it('DeleteBucket › with an object → BucketNotEmpty, uploads and pieces kept', async () => {
    const u = upload('b', 'k');
    await store.createUpload(u);
    const p = await putPart(u, 1, 'a');
    const ref = await store.writeData(chunks('obj'));
    await store.commitObject({ ...recordFrom(upload('b', 'o'), []), data: [ref], size: 3, parts: undefined });
    await assert.rejects(store.deleteBucket('b'), storeError('BucketNotEmpty'));
    assert.deepEqual(await pieceIds(data), [p.data.id, ref.id].sort());
    assert.ok(await store.getUpload('b', 'k', u.uploadId));
  });

  it('SweepOrphans › part pieces are referenced → kept; an unreferenced piece → removed', async () => {
    const u = upload('b', 'k');
    await store.createUpload(u);
    const p = await putPart(u, 1, 'a');
    const orphan = await store.writeData(chunks('orphan'));
    await new Promise((r) => setTimeout(r, 5));
    const restarted = new Store(meta, data); // a restart: the earlier process's intents are gone
    await restarted.takeOverAlone();
    await new Promise((r) => setTimeout(r, SWEEP_MARGIN_MS + 5));
    assert.equal(await count(restarted.sweepOrphans()), 1);
    assert.deepEqual(await pieceIds(data), [p.data.id]);
    assert.notEqual(orphan.id, p.data.id);
  });
});

describe('Store.listUploadPage', () => {
  let store: Store;
  const keys = ['a', 'dir/x', 'dir/y', 'dir/y', 'dir2/z', 'e', 'z/1'];
  let uploads: UploadRecord[];

  beforeEach(async () => {
    store = new Store(memoryMetaStore(), new MemoryDataStore());
    await store.createBucket('b', 'us-east-1');
    uploads = [];
    for (const k of keys) {
      const u = upload('b', k);
      uploads.push(u);
      await store.createUpload(u);
    }
  });

  const q = (over: Partial<Parameters<Store['listUploadPage']>[0]> = {}) =>
    store.listUploadPage({ bucket: 'b', prefix: '', delimiter: '', keyMarker: '', uploadIdMarker: '', maxUploads: 1000, ...over });

  it('no delimiter › every upload in key then initiation order', async () => {
    const page = await q();
    assert.deepEqual(
      page.uploads.map((u) => u.uploadId),
      uploads.map((u) => u.uploadId),
    );
    assert.equal(page.isTruncated, false);
  });

  it('delimiter / › common prefixes counted in max-uploads; truncated page names the next markers', async () => {
    const first = await q({ delimiter: '/', maxUploads: 2 });
    assert.deepEqual(
      first.uploads.map((u) => u.key),
      ['a'],
    );
    assert.deepEqual(first.commonPrefixes, ['dir/']);
    assert.equal(first.isTruncated, true);
    assert.equal(first.nextKeyMarker, 'dir/');
    const second = await q({ delimiter: '/', maxUploads: 2, keyMarker: first.nextKeyMarker!, uploadIdMarker: first.nextUploadIdMarker ?? '' });
    assert.deepEqual(second.commonPrefixes, ['dir2/']);
    assert.deepEqual(
      second.uploads.map((u) => u.key),
      ['e'],
    );
    assert.equal(second.isTruncated, true);
    const third = await q({ delimiter: '/', maxUploads: 2, keyMarker: second.nextKeyMarker!, uploadIdMarker: second.nextUploadIdMarker! });
    assert.deepEqual(third.commonPrefixes, ['z/']);
    assert.equal(third.isTruncated, false);
  });

  it("key and upload id markers › the same key's later upload comes next", async () => {
    const page = await q({ maxUploads: 3 });
    assert.equal(page.isTruncated, true);
    assert.equal(page.nextKeyMarker, 'dir/y');
    assert.equal(page.nextUploadIdMarker, uploads[2]!.uploadId);
    const next = await q({ keyMarker: page.nextKeyMarker!, uploadIdMarker: page.nextUploadIdMarker! });
    assert.deepEqual(
      next.uploads.map((u) => u.uploadId),
      uploads.slice(3).map((u) => u.uploadId),
    );
  });

  it('prefix › only keys under it; missing bucket → NoSuchBucket', async () => {
    assert.deepEqual(
      (await q({ prefix: 'dir/' })).uploads.map((u) => u.key),
      ['dir/x', 'dir/y', 'dir/y'],
    );
    assert.deepEqual((await q({ prefix: 'dir', delimiter: '/' })).commonPrefixes, ['dir/', 'dir2/']);
    await assert.rejects(
      store.listUploadPage({ bucket: 'nope', prefix: '', delimiter: '', keyMarker: '', uploadIdMarker: '', maxUploads: 10 }),
      storeError('NoSuchBucket'),
    );
  });
});

describe('Store.writeObjectData (inline small objects)', () => {
  const record = (key: string, size: number, bytes: { data: ObjectRecord['data']; inline?: Buffer }): ObjectRecord => ({
    bucket: 'b',
    key,
    versionId: NULL_VERSION,
    isLatest: true,
    isDeleteMarker: false,
    size,
    etag: '"e"',
    lastModified: Date.now(),
    storageClass: 'STANDARD',
    meta: { user: {} },
    ...bytes,
  });

  it('at most inlineMax bytes → inline (no piece written); GET-style reads and ranges serve them', async () => {
    const data = new MemoryDataStore();
    const store = new Store(memoryMetaStore(), data, undefined, { inlineMax: 10 });
    await store.createBucket('b', 'us-east-1');
    const bytes = await store.writeObjectData(chunks('hello', ' wor', 'l'));
    assert.deepEqual(bytes.data, []);
    assert.equal(bytes.inline?.toString(), 'hello worl');
    assert.deepEqual(await pieceIds(data), []);
    await store.commitObject(record('k', 10, bytes));
    const rec = await store.getObject('b', 'k');
    assert.equal(await readAll(store.openRead(rec!)), 'hello worl');
    assert.equal(await readAll(store.openRead(rec!, { start: 2, end: 4 })), 'llo');
  });

  it('more than inlineMax → one piece with every byte in order (the buffered head first)', async () => {
    const data = new MemoryDataStore();
    const store = new Store(memoryMetaStore(), data, undefined, { inlineMax: 4 });
    const bytes = await store.writeObjectData(chunks('ab', 'cd', 'ef', 'gh', 'ij'));
    assert.equal(bytes.inline, undefined);
    assert.equal(bytes.data.length, 1);
    assert.equal(bytes.data[0]!.size, 10);
    assert.equal(await readAll(data.read(bytes.data[0]!)), 'abcdefghij');
  });

  it('empty source → no data at all; inlineMax 0 → every non-empty object is a piece', async () => {
    const store = new Store(memoryMetaStore(), new MemoryDataStore(), undefined, { inlineMax: 0 });
    assert.deepEqual(await store.writeObjectData(chunks()), { data: [] });
    const one = await store.writeObjectData(chunks('x'));
    assert.equal(one.inline, undefined);
    assert.equal(one.data.length, 1);
  });

  it('source fails before or after the inline limit → rethrown, no piece remains, the source is closed', async () => {
    for (const limit of [100, 2]) {
      const data = new MemoryDataStore();
      const store = new Store(memoryMetaStore(), data, undefined, { inlineMax: limit });
      let closed = false;
      async function* failing(): AsyncGenerator<Buffer> {
        try {
          yield Buffer.from('abc');
          yield Buffer.from('def');
          throw new Error('BadDigest');
        } finally {
          closed = true;
        }
      }
      await assert.rejects(store.writeObjectData(failing()), /BadDigest/);
      assert.ok(closed, `source closed (limit ${limit})`);
      assert.deepEqual(await pieceIds(data), []);
    }
  });

  it('aborted signal while inline bytes are collected → rejects with the reason, source closed', async () => {
    const store = new Store(memoryMetaStore(), new MemoryDataStore(), undefined, { inlineMax: 100 });
    const ac = new AbortController();
    let closed = false;
    async function* slow(): AsyncGenerator<Buffer> {
      try {
        yield Buffer.from('a');
        ac.abort(new Error('client went away'));
        yield Buffer.from('b');
      } finally {
        closed = true;
      }
    }
    await assert.rejects(store.writeObjectData(slow(), ac.signal), /client went away/);
    assert.ok(closed);
  });
});
