// The one decision point's table: who may do what today (root: everything; anonymous and any other
// kind: nothing), for each kind of resource.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from './authorize.js';
import { authorize, resourceArn } from './authorize.js';
import type { Principal } from './principal.js';
import { ANONYMOUS, rootCredentials } from './principal.js';
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

  it('authorize › the reasons tell anonymous from an unknown principal (logged with the request)', () => {
    assert.match(authorize(ANONYMOUS, 's3:GetObject', RESOURCES[3]!).reason, /anonymous/);
    assert.doesNotMatch(authorize(STRANGER, 's3:GetObject', RESOURCES[3]!).reason, /anonymous/);
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
