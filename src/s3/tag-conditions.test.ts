// The object-tag condition keys: which actions take them, which policies test them (so the object's
// tags are read only then), their context values, and a decision through authorize() with them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorize } from '../iam/authorize.js';
import type { Principal } from '../iam/principal.js';
import { compilePolicy } from '../iam/policy.js';
import { checkAccess, checkDeferredAccess } from './access.js';
import type { RequestContext } from './context.js';
import { formTags, policiesTest, tagValues, takesExistingTags, takesRequestTags } from './tag-conditions.js';

const doc = (condition: object) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*', Condition: condition }],
});
const user = (...docs: object[]): Principal => ({
  accessKeyId: 'AK',
  userId: 'U1',
  kind: 'user',
  userName: 'u',
  policies: { identity: docs.map((d, i) => compilePolicy(d, { kind: 'identity', name: `p${i}` })) },
});

describe('tag condition keys', () => {
  it('actions › ExistingObjectTag on reads, tagging, ACLs and lock reads, never on PutObject / DeleteObject; RequestObjectTag on PutObject and the tagging writes', () => {
    for (const a of [
      's3:GetObject',
      's3:GetObjectVersion',
      's3:GetObjectTagging',
      's3:PutObjectTagging',
      's3:DeleteObjectTagging',
      's3:PutObjectAcl',
      's3:GetObjectRetention',
    ] as const) {
      assert.equal(takesExistingTags(a), true, a);
    }
    for (const a of ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:ListBucket'] as const) assert.equal(takesExistingTags(a), false, a);
    for (const a of ['s3:PutObject', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'] as const) assert.equal(takesRequestTags(a), true, a);
    for (const a of ['s3:GetObject', 's3:DeleteObjectTagging'] as const) assert.equal(takesRequestTags(a), false, a);
  });

  it('policiesTest › true only when a policy (identity, key, bucket) names the keys; the key prefix is case-insensitive', () => {
    const plain = user(doc({ StringLike: { 's3:prefix': 'x/*' } }));
    assert.equal(policiesTest(plain, {}, 'existing'), false);
    assert.equal(policiesTest(plain, {}, 'request'), false);
    const existing = user(doc({}), doc({ StringEquals: { 'S3:EXISTINGOBJECTTAG/Public': 'yes' } }));
    assert.equal(policiesTest(existing, {}, 'existing'), true);
    assert.equal(policiesTest(existing, {}, 'request'), false);
    const keysOnly = user(doc({ 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['a'] } }));
    assert.equal(policiesTest(keysOnly, {}, 'request'), true);
    const bucketPolicy = compilePolicy(
      {
        Statement: [
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::b/*',
            Condition: { StringEquals: { 's3:ExistingObjectTag/x': 'y' } },
          },
        ],
      },
      { kind: 'resource', bucket: 'b' },
    );
    assert.equal(policiesTest(plain, { policy: bucketPolicy }, 'existing'), true);
  });

  it('tagValues › one key per tag (the tag key as written), RequestObjectTagKeys the list; none for no tags', () => {
    assert.deepEqual(tagValues('existing', [{ key: 'Team', value: 'blue' }]), { 's3:ExistingObjectTag/Team': 'blue' });
    assert.deepEqual(
      tagValues('request', [
        { key: 'a', value: '1' },
        { key: 'b', value: '' },
      ]),
      {
        's3:RequestObjectTag/a': '1',
        's3:RequestObjectTag/b': '',
        's3:RequestObjectTagKeys': ['a', 'b'],
      },
    );
    assert.deepEqual(tagValues('request', []), {});
    assert.deepEqual(tagValues('existing', undefined), {});
  });

  it('formTags › a POST form’s Tagging document; an absent or refused one gives none', () => {
    assert.deepEqual(formTags(new Map([['tagging', '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>']])), [
      { key: 'k', value: 'v' },
    ]);
    assert.equal(formTags(new Map()), undefined);
    assert.equal(formTags(new Map([['tagging', '<Nope/>']])), undefined);
  });

  it('authorize › a tag-keyed tag value is compared case-sensitively in its key; absent keys deny', () => {
    const p = user(doc({ StringEquals: { 's3:ExistingObjectTag/public': 'yes' } }));
    const res = { kind: 'object' as const, bucket: 'b', key: 'k' };
    assert.equal(authorize(p, 's3:GetObject', res, { values: tagValues('existing', [{ key: 'public', value: 'yes' }]) }).allowed, true);
    assert.equal(authorize(p, 's3:GetObject', res, { values: tagValues('existing', [{ key: 'Public', value: 'yes' }]) }).allowed, false);
    assert.equal(authorize(p, 's3:GetObject', res, { values: tagValues('existing', [{ key: 'public', value: 'no' }]) }).allowed, false);
    assert.equal(authorize(p, 's3:GetObject', res, {}).allowed, false);
  });
});

describe('checkAccess with tag keys', () => {
  /** A request context with just what checkAccess reads, and a store that counts its reads. */
  const ctxOf = (principal: Principal, op: string, headers: Record<string, string> = {}) => {
    const reads: string[] = [];
    const store = {
      versionRecord: (bucket: string, key: string) => {
        reads.push(`${bucket}/${key}`);
        return Promise.resolve({ isDeleteMarker: false, tags: [{ key: 'public', value: key === 'yes' ? 'yes' : 'no' }] });
      },
    };
    const ctx = { op, headers, query: new Map(), req: { socket: { remoteAddress: '127.0.0.1' } }, principal, bucket: 'b', store } as unknown as RequestContext;
    return { ctx, reads };
  };
  const obj = (key: string) => ({ kind: 'object' as const, bucket: 'b', key });
  const denied = (p: Promise<unknown> | undefined) =>
    Promise.resolve(p).then(
      () => 'OK',
      (e: { code?: string }) => e.code ?? 'thrown',
    );

  it('ExistingObjectTag › the object is read only when a policy tests the key, and only for the actions that take it', async () => {
    const tagged = user(doc({ StringEquals: { 's3:ExistingObjectTag/public': 'yes' } }));
    const a = ctxOf(tagged, 'GetObject');
    assert.equal(await denied(checkAccess(a.ctx, ['s3:GetObject'], obj('yes'))), 'OK');
    assert.equal(await denied(checkAccess(a.ctx, ['s3:GetObject'], obj('no'))), 'AccessDenied');
    assert.deepEqual(a.reads, ['b/yes', 'b/no']);
    const b = ctxOf(tagged, 'PutObject');
    assert.equal(await denied(checkAccess(b.ctx, ['s3:PutObject'], obj('yes'))), 'AccessDenied', 'PutObject has no ExistingObjectTag');
    assert.deepEqual(b.reads, [], 'not read for PutObject');
    const c = ctxOf(user(doc({})), 'GetObject');
    assert.equal(await denied(checkAccess(c.ctx, ['s3:GetObject'], obj('no'))), 'OK');
    assert.deepEqual(c.reads, [], 'no policy tests the key: no read');
    const d = ctxOf(tagged, 'GetObject');
    assert.equal(await denied(checkAccess(d.ctx, ['s3:GetObject'], obj('no'), undefined, { existingTags: [{ key: 'public', value: 'yes' }] })), 'OK');
    assert.deepEqual(d.reads, [], 'tags given by the caller: no read');
  });

  it('RequestObjectTag › from x-amz-tagging on PutObject; PutObjectTagging defers to its handler, which completes with the body’s tags', async () => {
    const blue = user(doc({ StringEquals: { 's3:RequestObjectTag/team': 'blue' } }));
    assert.equal(await denied(checkAccess(ctxOf(blue, 'PutObject', { 'x-amz-tagging': 'team=blue' }).ctx, ['s3:PutObject'], obj('k'))), 'OK');
    assert.equal(await denied(checkAccess(ctxOf(blue, 'PutObject', { 'x-amz-tagging': 'team=red' }).ctx, ['s3:PutObject'], obj('k'))), 'AccessDenied');
    assert.equal(await denied(checkAccess(ctxOf(blue, 'PutObject', { 'x-amz-tagging': '=bad' }).ctx, ['s3:PutObject'], obj('k'))), 'AccessDenied');
    const ok = ctxOf(blue, 'PutObjectTagging').ctx;
    assert.equal(await denied(checkAccess(ok, ['s3:PutObjectTagging'], obj('k'))), 'OK', 'deferred');
    assert.equal(await denied(checkDeferredAccess(ok, [{ key: 'team', value: 'blue' }])), 'OK');
    const red = ctxOf(blue, 'PutObjectTagging').ctx;
    await checkAccess(red, ['s3:PutObjectTagging'], obj('k'));
    assert.equal(await denied(checkDeferredAccess(red, [{ key: 'team', value: 'red' }])), 'AccessDenied');
    const unparsed = ctxOf(blue, 'PutObjectTagging').ctx;
    await checkAccess(unparsed, ['s3:PutObjectTagging'], obj('k'));
    assert.equal(await denied(checkDeferredAccess(unparsed, undefined)), 'AccessDenied', 'a body that is no Tagging: no tags');
    // Without a policy testing the requested tags, nothing is deferred: the stage decides.
    assert.equal(await denied(checkAccess(ctxOf(user(), 'PutObjectTagging').ctx, ['s3:PutObjectTagging'], obj('k'))), 'AccessDenied');
    assert.equal(await denied(checkDeferredAccess(ctxOf(blue, 'PutObjectTagging').ctx, [])), 'OK', 'nothing deferred: a no-op');
  });
});
