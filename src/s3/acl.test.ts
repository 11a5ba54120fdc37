// The ACL check authorize() asks (aclAccess) against a real in-memory store: bucket grants for
// bucket actions and object writes, the version's own ACL (stored in its record's extras) for
// object reads, IgnorePublicAcls, BucketOwnerEnforced; and checkAccess-style use through authorize.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { authorize } from '../iam/authorize.js';
import { ANONYMOUS, type Principal } from '../iam/principal.js';
import { MemoryDataStore } from '../store/data/memory.js';
import { memoryMetaStore } from '../store/meta/memory.js';
import { Store } from '../store/store.js';
import type { BucketRecord, ObjectWrite, StoredAcl } from '../store/types.js';
import { cannedAcl } from './acl-grants.js';
import { aclAccess, newObjectAcl } from './acl.js';
import { BUCKET_ACL_CONFIG_NAME, loadBucketAccess, readBucketAccessConfigs } from './bucket-access.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';
import { canonicalUserOf } from './owner.js';

const user = (userId: string, name: string): Principal => ({ accessKeyId: `AK${name}`, userId, kind: 'user', userName: name, policies: { identity: [] } });
const alice = user('UALICE', 'alice');
const carol = user('UCAROL', 'carol');
const owner = user('UOWNER', 'owner');
const aliceId = canonicalUserOf('AKROOT', alice.userId, 'alice');
const ownerId = canonicalUserOf('AKROOT', owner.userId, 'owner');

const write = (key: string, acl?: StoredAcl): ObjectWrite => ({
  bucket: 'b',
  key,
  size: 1,
  etag: '"x"',
  storageClass: 'STANDARD',
  meta: { user: {} },
  data: [],
  inline: Buffer.from('x'),
  ...(acl !== undefined && { acl }),
});

describe('aclAccess', () => {
  let store: Store;
  let bucket: BucketRecord;
  const check = async (p: Principal, action: `s3:${string}`, key?: string, versionId?: string) => {
    const acl = aclAccess(store, bucket, await readBucketAccessConfigs(store, 'b'));
    if (acl === undefined) return 'disabled';
    return acl(p, action, key === undefined ? { kind: 'bucket', bucket: 'b' } : { kind: 'object', bucket: 'b', key, versionId });
  };

  beforeEach(async () => {
    store = new Store(memoryMetaStore(), new MemoryDataStore());
    await store.createBucket('b', 'us-east-1', owner.userId);
    bucket = (await store.getBucket('b'))!;
  });

  it('without a stored ACL the bucket owner alone has FULL_CONTROL', async () => {
    await store.commitObject(write('k'));
    assert.equal(await check(owner, 's3:ListBucket'), true);
    assert.equal(await check(owner, 's3:GetObject', 'k'), true);
    assert.equal(await check(alice, 's3:ListBucket'), false);
    assert.equal(await check(alice, 's3:GetObject', 'k'), false);
    assert.equal(await check(ANONYMOUS, 's3:GetObject', 'k'), false);
    assert.equal(await check(owner, 's3:PutBucketPolicy'), false, 'no ACL permission grants bucket configuration');
  });

  it('bucket grants decide listing and writes; the object version’s ACL decides its reads, per version', async () => {
    const bucketAcl = cannedAcl('private', ownerId);
    bucketAcl.grants.push({ id: aliceId.ID, permission: 'WRITE' }, { uri: 'http://acs.amazonaws.com/groups/global/AllUsers', permission: 'READ' });
    await store.putBucketConfig('b', BUCKET_ACL_CONFIG_NAME, JSON.stringify(bucketAcl));
    await store.updateBucket('b', { versioning: 'Enabled' });
    const v1 = (await store.commitObject(write('k', cannedAcl('public-read', ownerId)))).versionId;
    await store.commitObject(write('k'));
    assert.equal(await check(alice, 's3:PutObject', 'new'), true);
    assert.equal(await check(alice, 's3:DeleteObject', 'k'), true);
    assert.equal(await check(carol, 's3:PutObject', 'new'), false);
    assert.equal(await check(ANONYMOUS, 's3:ListBucket'), true);
    assert.equal(await check(ANONYMOUS, 's3:GetObject', 'k'), false, 'the latest version is private');
    assert.equal(await check(ANONYMOUS, 's3:GetObjectVersion', 'k', v1), true);
    assert.equal(await check(ANONYMOUS, 's3:GetObject', 'absent'), false);
    assert.equal(await check(alice, 's3:GetObjectAcl', 'k', v1), false, 'READ is not READ_ACP');
  });

  it('IgnorePublicAcls makes AllUsers / AuthenticatedUsers grants count for nothing; BucketOwnerEnforced disables ACLs', async () => {
    await store.commitObject(write('pub', cannedAcl('authenticated-read', ownerId)));
    assert.equal(await check(alice, 's3:GetObject', 'pub'), true);
    await store.putBucketConfig('b', 'public-access-block', JSON.stringify({ IgnorePublicAcls: true }));
    assert.equal(await check(alice, 's3:GetObject', 'pub'), false);
    assert.equal(await check(owner, 's3:GetObject', 'pub'), true);
    await store.putBucketConfig('b', 'ownership-controls', JSON.stringify({ ObjectOwnership: 'BucketOwnerEnforced' }));
    assert.equal(await check(owner, 's3:GetObject', 'pub'), 'disabled');
  });

  it('through authorize(): an ACL grant allows only after an implicit deny', async () => {
    await store.commitObject(write('pub', cannedAcl('public-read', ownerId)));
    const access = await loadBucketAccess(store, bucket);
    const resource = { kind: 'object' as const, bucket: 'b', key: 'pub' };
    const first = authorize(ANONYMOUS, 's3:GetObject', resource, {}, access);
    assert.equal(first.allowed, false);
    assert.equal(first.implicit, true);
    assert.equal(await access.acl!(ANONYMOUS, 's3:GetObject', resource), true);
    assert.equal(authorize(ANONYMOUS, 's3:GetObject', resource, {}, access, { aclAllows: true }).allowed, true);
  });
});

describe('newObjectAcl (the ACL a write gives a new version)', () => {
  let store: Store;
  let bucket: BucketRecord;
  const ctxAs = (principal: Principal) => ({ store, principal, config: { accessKey: 'AKROOT' } }) as unknown as RequestContext;
  const codeOf = async (p: Promise<unknown>) =>
    p.then(
      () => 'no error',
      (e: unknown) => (e instanceof S3Error ? e.code : String(e)),
    );

  beforeEach(async () => {
    store = new Store(memoryMetaStore(), new MemoryDataStore());
    await store.createBucket('b', 'us-east-1', owner.userId);
    bucket = (await store.getBucket('b'))!;
  });

  it('nothing stored for the bucket owner’s private write; the writer owns another user’s object', async () => {
    assert.equal(await newObjectAcl(ctxAs(owner), bucket, undefined), undefined);
    assert.equal(await newObjectAcl(ctxAs(owner), bucket, { canned: 'private' }), undefined);
    const byAlice = await newObjectAcl(ctxAs(alice), bucket, undefined);
    assert.equal(byAlice?.owner.id, aliceId.ID);
    assert.equal((await newObjectAcl(ctxAs(alice), bucket, { canned: 'bucket-owner-full-control' }))?.owner.id, aliceId.ID, 'ObjectWriter keeps the writer');
    await store.putBucketConfig('b', 'ownership-controls', JSON.stringify({ ObjectOwnership: 'BucketOwnerPreferred' }));
    assert.equal(
      await newObjectAcl(ctxAs(alice), bucket, { canned: 'bucket-owner-full-control' }),
      undefined,
      'BucketOwnerPreferred: the bucket owner’s, default ACL',
    );
  });

  it('BlockPublicAcls refuses public ACLs with AccessDenied, also for the bucket owner; others pass', async () => {
    await store.putBucketConfig('b', 'public-access-block', JSON.stringify({ BlockPublicAcls: true }));
    assert.equal(await codeOf(newObjectAcl(ctxAs(owner), bucket, { canned: 'public-read' })), 'AccessDenied');
    assert.equal(
      await codeOf(newObjectAcl(ctxAs(alice), bucket, { grants: [{ uri: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers', permission: 'READ' }] })),
      'AccessDenied',
    );
    assert.equal(await codeOf(newObjectAcl(ctxAs(owner), bucket, { grants: [{ id: aliceId.ID, permission: 'READ' }] })), 'no error');
  });

  it('BucketOwnerEnforced: AccessControlListNotSupported for other ACLs, nothing stored for the accepted ones', async () => {
    await store.putBucketConfig('b', 'ownership-controls', JSON.stringify({ ObjectOwnership: 'BucketOwnerEnforced' }));
    assert.equal(await codeOf(newObjectAcl(ctxAs(alice), bucket, { canned: 'public-read' })), 'AccessControlListNotSupported');
    assert.equal(await newObjectAcl(ctxAs(alice), bucket, { canned: 'bucket-owner-full-control' }), undefined);
    assert.equal(await newObjectAcl(ctxAs(alice), bucket, undefined), undefined);
  });
});
