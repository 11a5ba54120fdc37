// The object-tag condition keys: which actions take them, which policies test them (so the object's
// tags are read only then), their context values, and a decision through authorize() with them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorize } from '../iam/authorize.js';
import type { Principal } from '../iam/principal.js';
import { compilePolicy } from '../iam/policy.js';
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
