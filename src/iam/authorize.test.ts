// The one decision point's table: who may do what without policies (root: everything; anonymous and
// a user without policies: nothing), for each kind of resource; a bucket policy and ACL grants for
// anonymous callers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from './authorize.js';
import { authorize, resourceArn } from './authorize.js';
import type { Principal } from './principal.js';
import { ANONYMOUS, rootCredentials } from './principal.js';
import { compilePolicy } from './policy.js';
import { ROOT_USER_ID } from '../store/types.js';

const ROOT: Principal = { accessKeyId: 'AKROOT', userId: ROOT_USER_ID, kind: 'root' };
/** A kind authorize does not know (a user or role from a later IAM): denied until a policy allows it. */
const STRANGER = { accessKeyId: 'AKUSER', userId: 'alice', kind: 'user' } as unknown as Principal;

const RESOURCES: Resource[] = [
  { kind: 'service' },
  { kind: 'bucket', bucket: 'b', owner: ROOT_USER_ID },
  { kind: 'bucket', bucket: 'new' },
  { kind: 'object', bucket: 'b', key: 'k/é', owner: ROOT_USER_ID },
  { kind: 'object', bucket: 'b', key: 'k', owner: ROOT_USER_ID, versionId: 'null' },
];
const ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 's3:ListAllMyBuckets', 's3:DeleteBucket', 's3:PutBucketCORS'] as const;

describe('authorize', () => {
  const table: Array<[string, Principal, boolean]> = [
    ['root principal', ROOT, true],
    ['anonymous principal', ANONYMOUS, false],
    ['unknown principal kind', STRANGER, false],
  ];
  for (const [name, principal, allowed] of table) {
    it(`authorize › ${name} → ${allowed ? 'allowed' : 'denied'} for every action on every kind of resource`, () => {
      for (const resource of RESOURCES) {
        for (const action of ACTIONS) {
          const d = authorize(principal, action, resource, { secureTransport: false, sourceIp: '127.0.0.1' });
          assert.equal(d.allowed, allowed, `${action} on ${resourceArn(resource)}`);
          assert.ok(d.reason.length > 0);
        }
      }
    });
  }

  it('authorize › a bucket policy naming everyone allows an anonymous GET; nothing else is allowed', () => {
    const policy = compilePolicy(
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] },
      { kind: 'resource', name: 'bucket policy of b' },
    );
    assert.equal(authorize(ANONYMOUS, 's3:GetObject', RESOURCES[3]!, {}, { policy }).allowed, true);
    assert.equal(authorize(ANONYMOUS, 's3:PutObject', RESOURCES[3]!, {}, { policy }).allowed, false);
    assert.equal(authorize(ANONYMOUS, 's3:GetObject', { kind: 'object', bucket: 'c', key: 'k' }, {}, { policy }).allowed, false);
  });

  it('authorize › an implicit deny is marked (an ACL grant may still allow it); with aclAllows it is allowed', () => {
    const d = authorize(ANONYMOUS, 's3:GetObject', RESOURCES[3]!);
    assert.deepEqual([d.allowed, d.implicit], [false, true]);
    assert.equal(authorize(ANONYMOUS, 's3:GetObject', RESOURCES[3]!, {}, {}, { aclAllows: true }).allowed, true);
    // An explicit deny is final: no ACL grant lifts it.
    const deny = compilePolicy(
      { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }] },
      { kind: 'resource', name: 'bucket policy of b' },
    );
    const denied = authorize(ANONYMOUS, 's3:GetObject', RESOURCES[3]!, {}, { policy: deny });
    assert.deepEqual([denied.allowed, denied.implicit], [false, undefined]);
    assert.equal(authorize(ANONYMOUS, 's3:GetObject', RESOURCES[3]!, {}, { policy: deny }, { aclAllows: true }).allowed, false);
  });

  it('resourceArn › service *, bucket arn:aws:s3:::b, object arn:aws:s3:::b/key', () => {
    assert.deepEqual(RESOURCES.slice(0, 4).map(resourceArn), ['*', 'arn:aws:s3:::b', 'arn:aws:s3:::new', 'arn:aws:s3:::b/k/é']);
  });

  it('rootCredentials › the root access key → the root principal and, apart, its secret; any other key → undefined', async () => {
    const source = rootCredentials('AKROOT', 'secret');
    const found = await source('AKROOT');
    assert.deepEqual(found?.principal, ROOT);
    assert.equal(found?.secretKey, 'secret');
    assert.equal(await source('akroot'), undefined);
    assert.equal(await source(''), undefined);
  });
});
