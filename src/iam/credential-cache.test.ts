// The credential source's cache of resolved principals (credentials.ts) and the identity generation
// it is tagged with (sqlite-identities.ts): two SqliteMetaStore instances on one database file stand
// for two processes sharing a data directory (--shared). A change made through either is seen by
// the other's next lookup; with nothing changed, the cached principal is reused without reading
// the user's groups and policies again.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { IdentityStore } from '../store/identities.js';
import { StoreError } from '../store/errors.js';
import { SqliteMetaStore } from '../store/meta/sqlite.js';
import { authorize } from './authorize.js';
import { identityCredentials } from './credentials.js';
import { type CredentialSource, credentialCacheOf } from './principal.js';
import { SecretBox } from './secret-box.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AK = 'AKIAALICE00000000001';
const allow = (action: string, resource = '*') =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] });

/** The identity reads a credential source makes, counted. */
function counted(ids: IdentityStore) {
  const calls = { generation: 0, lookup: 0, groups: 0, attached: 0, policy: 0 };
  return {
    calls,
    identities: {
      identityGeneration: () => (calls.generation++, ids.identityGeneration()),
      lookupAccessKey: (k: string) => (calls.lookup++, ids.lookupAccessKey(k)),
      groupsOfUser: (u: string) => (calls.groups++, ids.groupsOfUser(u)),
      attachedPolicies: (t: Parameters<IdentityStore['attachedPolicies']>[0]) => (calls.attached++, ids.attachedPolicies(t)),
      getPolicy: (n: string) => (calls.policy++, ids.getPolicy(n)),
    },
  };
}

describe('identity generation and the credential cache (two stores on one file)', () => {
  let dir: string;
  let a: SqliteMetaStore; // the process serving requests
  let b: SqliteMetaStore; // another process (the admin API of another worker)
  const box = new SecretBox({ rootSecret: 'rootsecret' });
  let now = 1000;
  let source: CredentialSource;
  let reads: ReturnType<typeof counted>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-credcache-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.db`);
    a = SqliteMetaStore.open(path, { durability: 'none' });
    b = SqliteMetaStore.open(path, { durability: 'none' });
    now = 1000;
    await b.identities.createUser({ name: 'alice', userId: 'UA', status: 'enabled', created: 1 });
    await b.identities.createAccessKey({ accessKeyId: AK, userName: 'alice', secret: box.seal(SECRET, AK), status: 'enabled', created: 1, expires: 9000 });
    await b.identities.putPolicy('read', allow('s3:GetObject'), 1);
    await b.identities.attachPolicy('read', { user: 'alice' });
    reads = counted(a.identities);
    source = identityCredentials({ rootAccessKey: 'ROOT', rootSecretKey: 'rootsecret', identities: reads.identities, box, now: () => now });
  });

  const may = async (action: string): Promise<boolean | undefined> => {
    const found = await source(AK);
    return found === undefined ? undefined : authorize(found.principal, action as `s3:${string}`, { kind: 'object', bucket: 'bk', key: 'k' }).allowed;
  };

  it('generation › every identity write adds one, seen by the other store; a refused write adds nothing', async () => {
    const g0 = a.identities.identityGeneration();
    assert.ok(g0 >= 4, 'the set-up made four identity writes');
    await b.identities.createGroup('devs', 1);
    assert.equal(a.identities.identityGeneration(), g0 + 1);
    await b.identities.updateGroupMembers('devs', ['alice'], []);
    await b.identities.setAccessKeyStatus(AK, 'enabled');
    assert.equal(a.identities.identityGeneration(), g0 + 3);
    await assert.rejects(
      async () => b.identities.createGroup('devs', 1),
      (e: unknown) => e instanceof StoreError && e.code === 'EntityAlreadyExists',
    );
    assert.equal(a.identities.identityGeneration(), g0 + 3, 'rolled back with its transaction');
    const found = a.identities.lookupAccessKey(AK);
    assert.equal(found.generation, g0 + 3);
    assert.equal(found.key?.userId, 'UA');
    assert.deepEqual(a.identities.lookupAccessKey('NOPE'), { generation: g0 + 3 });
  });

  it('cache › nothing changed: the same principal object, one generation read per request, key and policies read once', async () => {
    const first = await source(AK);
    assert.deepEqual([reads.calls.lookup, reads.calls.groups], [1, 1]);
    const policyReads = reads.calls.policy;
    for (let i = 0; i < 5; i++) assert.equal(await source(AK), first);
    assert.equal(reads.calls.generation, 5, 'the generation, every request');
    assert.deepEqual([reads.calls.lookup, reads.calls.groups, reads.calls.policy], [1, 1, policyReads]);
    assert.equal(first?.secretKey, SECRET);
    // Any identity change, even one this principal does not depend on, makes the next request resolve it again.
    await b.identities.createGroup('unrelated', 1);
    const again = await source(AK);
    assert.notEqual(again, first);
    assert.deepEqual(again, first);
    assert.equal(reads.calls.lookup, 2);
  });

  it('cache › a policy document replaced, detached or attached through a group by the other store: the next request sees it', async () => {
    assert.equal(await may('s3:GetObject'), true);
    assert.equal(await may('s3:PutObject'), false);
    await b.identities.putPolicy('read', allow('s3:PutObject'), 2);
    assert.equal(await may('s3:GetObject'), false);
    assert.equal(await may('s3:PutObject'), true);
    await b.identities.detachPolicy('read', { user: 'alice' });
    assert.equal(await may('s3:PutObject'), false);
    await b.identities.createGroup('devs', 1);
    await b.identities.attachPolicy('read', { group: 'devs' });
    assert.equal(await may('s3:PutObject'), false, 'not a member yet');
    await b.identities.updateGroupMembers('devs', ['alice'], []);
    assert.equal(await may('s3:PutObject'), true);
    await b.identities.updateGroupMembers('devs', [], ['alice']);
    assert.equal(await may('s3:PutObject'), false);
  });

  it('cache › user or key disabled, key deleted, user deleted by the other store: refused on the next request', async () => {
    assert.equal(await may('s3:GetObject'), true);
    await b.identities.setUserStatus('alice', 'disabled');
    assert.equal(await source(AK), undefined);
    await b.identities.setUserStatus('alice', 'enabled');
    assert.equal(await may('s3:GetObject'), true);
    await b.identities.setAccessKeyStatus(AK, 'disabled');
    assert.equal(await source(AK), undefined);
    await b.identities.setAccessKeyStatus(AK, 'enabled');
    assert.equal(await may('s3:GetObject'), true);
    await b.identities.deleteAccessKey(AK);
    assert.equal(await source(AK), undefined);
    await b.identities.createAccessKey({ accessKeyId: AK, userName: 'alice', secret: box.seal('another-secret', AK), status: 'enabled', created: 2 });
    assert.equal((await source(AK))?.secretKey, 'another-secret', 'a key made again under the same id: its new secret');
    await b.identities.deleteUser('alice');
    assert.equal(await source(AK), undefined);
  });

  it('cache › a cached key past its expiry is refused (the clock, not the generation)', async () => {
    assert.equal(await may('s3:GetObject'), true);
    now = 9000;
    assert.equal(await source(AK), undefined);
  });

  it('credentialCacheOf › answers without a read what a lookup resolved, with its generation; nothing before, nothing once expired', async () => {
    const cache = credentialCacheOf(source);
    assert.ok(cache);
    assert.equal(cache(AK), undefined, 'never looked up');
    assert.equal(cache('ROOT'), undefined, 'root is never cached: the source answers it without a read');
    const found = await source(AK);
    const before = { ...reads.calls };
    assert.deepEqual(cache(AK), { found, generation: a.identities.identityGeneration() });
    assert.deepEqual(reads.calls, before, 'no read');
    await b.identities.setUserStatus('alice', 'disabled');
    assert.equal(cache(AK)?.found, found, 'still cached: the caller confirms the generation (it moved)');
    assert.notEqual(cache(AK)?.generation, a.identities.identityGeneration());
    now = 9000;
    assert.equal(cache(AK), undefined, 'expired');
  });

  it("cache › a change by the serving store's own writes counts too", async () => {
    assert.equal(await may('s3:GetObject'), true);
    await a.identities.setUserStatus('alice', 'disabled');
    assert.equal(await source(AK), undefined);
  });
});
