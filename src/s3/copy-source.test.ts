// The source side of CopyObject and UploadPartCopy passes the one decision point: a principal the
// authorize function does not allow gets AccessDenied naming s3:GetObject (s3:GetObjectVersion for
// a version) on the source, before the source is read; the root principal reads it.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Principal } from '../iam/principal.js';
import { MemoryDataStore } from '../store/data/memory.js';
import { memoryMetaStore } from '../store/meta/memory.js';
import { Store } from '../store/store.js';
import { ROOT_USER_ID } from '../store/types.js';
import { denialOf } from './access.js';
import type { BucketRequest } from './context.js';
import { loadCopySource, parseCopySource } from './copy-source.js';
import { S3Error } from './errors.js';

const ROOT: Principal = { accessKeyId: 'AKROOT', userId: ROOT_USER_ID, kind: 'root' };
const STRANGER = { accessKeyId: 'AKUSER', userId: 'alice', kind: 'user' } as unknown as Principal;

describe('copy source authorization', () => {
  let store: Store;
  beforeEach(async () => {
    store = new Store(memoryMetaStore(), new MemoryDataStore());
    await store.createBucket('dst', 'us-east-1');
    await store.createBucket('src', 'us-east-1');
    async function* body() {
      yield Buffer.from('source bytes');
    }
    const ref = await store.writeData(body());
    await store.commitObject({
      bucket: 'src',
      key: 'k',
      size: 12,
      etag: '"e"',
      storageClass: 'STANDARD',
      meta: { user: {} },
      data: [ref],
    });
  });

  function ctxOf(principal: Principal): BucketRequest {
    const bucketRecord = { name: 'dst', region: 'us-east-1', createdAt: 0, versioning: '', owner: ROOT_USER_ID, objectLock: false };
    return {
      store,
      principal,
      method: 'PUT',
      op: 'CopyObject',
      bucket: 'dst',
      key: 'copy',
      bucketRecord,
      headers: {},
      query: new Map(),
      req: { socket: {} },
    } as unknown as BucketRequest;
  }

  it('CopyObject › a principal authorize does not allow → AccessDenied for s3:GetObject on the source', async () => {
    const ctx = ctxOf(STRANGER);
    await assert.rejects(loadCopySource(ctx, parseCopySource('/src/k')), (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied');
    assert.deepEqual(
      { ...denialOf(ctx), reason: undefined },
      { by: 'authorize', action: 's3:GetObject', resource: 'object', principal: 'user', reason: undefined },
    );
  });

  it('CopyObject › a source version → the check names s3:GetObjectVersion', async () => {
    const ctx = ctxOf(STRANGER);
    await assert.rejects(loadCopySource(ctx, parseCopySource('/src/k?versionId=null')), (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied');
    assert.equal(denialOf(ctx)?.action, 's3:GetObjectVersion');
  });

  it('CopyObject › the root principal → the source record', async () => {
    const ctx = ctxOf(ROOT);
    const source = await loadCopySource(ctx, parseCopySource('/src/k'));
    assert.equal(source.record.size, 12);
    source.release();
    assert.equal(denialOf(ctx), undefined);
  });
});
