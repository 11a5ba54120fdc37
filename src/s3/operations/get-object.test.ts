// GetObject / HeadObject release the read pin of the record they loaded on every path that does not
// stream its data (HEAD, failed conditionals, bad ranges, wrong version), and hand it to the body
// stream otherwise (released when the stream closes).
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { beforeEach, describe, it } from 'node:test';
import { MemoryDataStore } from '../../store/data/memory.js';
import { memoryMetaStore } from '../../store/meta/memory.js';
import { Store } from '../../store/store.js';
import type { ObjectRequest, WithInput } from '../context.js';
import type { GetObjectInput } from '../inputs.js';
import { getObjectInput } from '../inputs.js';
import { S3Error } from '../errors.js';
import { getObject } from './get-object.js';
import { getObjectAttributes } from './get-object-attributes.js';
import { getObjectTagging } from './get-object-tagging.js';

function ctxOf(store: Store, method: string, headers: IncomingHttpHeaders = {}, query: Record<string, string> = {}): WithInput<ObjectRequest, GetObjectInput> {
  const endpoint = { op: method === 'HEAD' ? 'HeadObject' : 'GetObject', bucket: 'b', key: 'k', versionId: query.versionId, partNumber: query.partNumber };
  const bucketRecord = { name: 'b', region: 'us-east-1', createdAt: 0, versioning: '', owner: 'root' };
  const ctx = { store, method, bucket: 'b', key: 'k', bucketRecord, endpoint, headers, query: new Map(Object.entries(query)) } as unknown as ObjectRequest;
  return { ...ctx, input: getObjectInput(ctx) };
}

describe('GetObject / HeadObject read pins', () => {
  let store: Store;
  const none = { pinnedIds: 0, deferredFrees: 0, leases: 0 };

  beforeEach(async () => {
    store = new Store(memoryMetaStore(), new MemoryDataStore());
    await store.createBucket('b', 'us-east-1');
    async function* src() {
      yield Buffer.from('hello world');
    }
    const ref = await store.writeData(src());
    await store.commitObject({
      bucket: 'b',
      key: 'k',
      size: 11,
      etag: '"5eb63bbbe01eeed093cb22bb8f5acdc3"',
      storageClass: 'STANDARD',
      meta: { user: {} },
      data: [ref],
    });
  });

  it('HEAD releases at once', async () => {
    const r = await getObject(ctxOf(store, 'HEAD'));
    assert.equal(r.body, undefined);
    assert.deepEqual(store.pinStats(), none);
  });

  for (const [name, headers, query] of [
    ['If-Match fails (412)', { 'if-match': '"nope"' }, {}],
    ['If-None-Match matches (304)', { 'if-none-match': '"5eb63bbbe01eeed093cb22bb8f5acdc3"' }, {}],
    ['unsatisfiable Range (416)', { range: 'bytes=100-200' }, {}],
    ['bad partNumber', {}, { partNumber: '0' }],
    ['wrong versionId', {}, { versionId: 'v1' }],
  ] as const) {
    it(`${name} releases`, async () => {
      await assert.rejects(getObject(ctxOf(store, 'GET', headers, query)), S3Error);
      assert.deepEqual(store.pinStats(), none);
    });
  }

  it('GetObjectTagging / GetObjectAttributes › metadata only → the pin is released once, nothing left pinned', async () => {
    const tagging = await getObjectTagging(ctxOf(store, 'GET'));
    assert.deepEqual(tagging.body, { root: 'Tagging', content: { TagSet: '' } });
    assert.deepEqual(store.pinStats(), none);
    const attrs = await getObjectAttributes(ctxOf(store, 'GET', { 'x-amz-object-attributes': 'ObjectSize' }));
    assert.equal((attrs.body as unknown as { content: { ObjectSize: number } }).content.ObjectSize, 11);
    assert.deepEqual(store.pinStats(), none);
  });

  it('GET hands the pin to the body stream, released when it closes', async () => {
    const r = await getObject(ctxOf(store, 'GET', { range: 'bytes=0-4' }));
    assert.ok(r.body instanceof Readable);
    assert.deepEqual(store.pinStats(), { pinnedIds: 1, deferredFrees: 0, leases: 0 });
    const chunks: Buffer[] = [];
    for await (const c of r.body) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'hello');
    await new Promise((resolve) => setImmediate(resolve)); // 'close' follows 'end'
    assert.deepEqual(store.pinStats(), none);
  });
});
