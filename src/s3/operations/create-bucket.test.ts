// CreateBucket's ownership answers, with a second principal (only root exists on a running server):
// a name taken by another owner → BucketAlreadyExists, by the caller → BucketAlreadyOwnedByYou.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Principal } from '../../iam/principal.js';
import { MemoryDataStore } from '../../store/data/memory.js';
import { memoryMetaStore } from '../../store/meta/memory.js';
import { Store } from '../../store/store.js';
import { ROOT_USER_ID } from '../../store/types.js';
import type { NamedBucketRequest } from '../context.js';
import { S3Error, toS3Error } from '../errors.js';
import { createBucket } from './create-bucket.js';

const ROOT: Principal = { accessKeyId: 'AKROOT', userId: ROOT_USER_ID, kind: 'root' };
const OTHER = { accessKeyId: 'AKOTHER', userId: 'other-user', kind: 'user' } as unknown as Principal;

function ctxOf(store: Store, bucket: string, principal: Principal, headers: Record<string, string> = {}): NamedBucketRequest {
  return { store, bucket, principal, headers, query: new Map(), req: {}, config: { region: 'us-east-1' }, bodyText: '' } as unknown as NamedBucketRequest;
}

async function codeOf(p: Promise<unknown>, bucket: string): Promise<string> {
  try {
    await p;
  } catch (err) {
    const s3 = toS3Error(err, { bucket });
    assert.ok(s3 instanceof S3Error, String(err));
    assert.equal(s3.fields.BucketName, bucket);
    return s3.code;
  }
  assert.fail('expected an error');
}

describe('CreateBucket ownership', () => {
  let store: Store;
  beforeEach(() => {
    store = new Store(memoryMetaStore(), new MemoryDataStore());
  });

  it("CreateBucket › records the caller as the bucket's owner", async () => {
    await createBucket(ctxOf(store, 'mine', ROOT));
    await createBucket(ctxOf(store, 'theirs', OTHER));
    assert.equal((await store.getBucket('mine'))?.owner, ROOT_USER_ID);
    assert.equal((await store.getBucket('theirs'))?.owner, 'other-user');
  });

  it('CreateBucket › name of a bucket owned by someone else → 409 BucketAlreadyExists', async () => {
    await createBucket(ctxOf(store, 'taken', OTHER));
    assert.equal(await codeOf(createBucket(ctxOf(store, 'taken', ROOT)), 'taken'), 'BucketAlreadyExists');
    assert.equal((await store.getBucket('taken'))?.owner, 'other-user', 'the bucket stays its owner’s');
  });

  it("CreateBucket › name of one's own bucket → 409 BucketAlreadyOwnedByYou", async () => {
    await createBucket(ctxOf(store, 'again', ROOT));
    assert.equal(await codeOf(createBucket(ctxOf(store, 'again', ROOT)), 'again'), 'BucketAlreadyOwnedByYou');
    await createBucket(ctxOf(store, 'theirs', OTHER));
    assert.equal(await codeOf(createBucket(ctxOf(store, 'theirs', OTHER)), 'theirs'), 'BucketAlreadyOwnedByYou');
  });

  it('CreateBucket › x-amz-bucket-object-lock-enabled: true → object lock and versioning Enabled; it also needs s3:PutBucketObjectLockConfiguration and s3:PutBucketVersioning', async () => {
    const lock = { 'x-amz-bucket-object-lock-enabled': 'true' };
    await createBucket(ctxOf(store, 'locked', ROOT, lock));
    const b = await store.getBucket('locked');
    assert.deepEqual([b?.objectLock, b?.versioning], [true, 'Enabled']);
    await createBucket(ctxOf(store, 'plain', ROOT, { 'x-amz-bucket-object-lock-enabled': 'false' }));
    assert.equal((await store.getBucket('plain'))?.objectLock, false);
    // A principal the decision point refuses those actions gets AccessDenied, and no bucket.
    await assert.rejects(createBucket(ctxOf(store, 'theirs-locked', OTHER, lock)), (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied');
    assert.equal(await store.getBucket('theirs-locked'), undefined);
  });
});
