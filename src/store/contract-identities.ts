// Behavioural contract of a MetaStore's identity tables (identities.ts): users, groups, policies,
// attachments and access keys. Each implementation's test file calls runIdentitiesContract.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type MetaHarness, rejectsWith, toHarness, type Maybe } from './contract.js';
import type { AccessKeyRecord } from './identities.js';
import type { MetaStore } from './types.js';

const user = (name: string, over: object = {}) => ({ name, userId: `U-${name}`, status: 'enabled' as const, created: 1000, ...over });
const key = (id: string, userName: string, over: Partial<AccessKeyRecord> = {}): AccessKeyRecord => ({
  accessKeyId: id,
  userName,
  secret: { keyId: 'k1', sealed: Buffer.from(`sealed-${id}`) },
  status: 'enabled',
  created: 2000,
  ...over,
});

export function runIdentitiesContract(name: string, make: () => Maybe<MetaStore | MetaHarness>): void {
  describe(`IdentityStore contract: ${name}`, () => {
    let h: MetaHarness;
    let s: MetaStore;
    beforeEach(async () => {
      h = toHarness<MetaStore, MetaHarness>(await make());
      s = h.store;
    });
    afterEach(async () => {
      await s.close?.();
      await h.dispose?.();
    });

    it('Users › create, get, list in name order, enable/disable, duplicate → EntityAlreadyExists', async () => {
      await s.identities.createUser(user('bob'));
      await s.identities.createUser(user('alice'), key('AKIAALICE00000000001', 'alice'));
      assert.deepEqual(s.identities.getUser('alice'), user('alice'));
      assert.deepEqual(
        s.identities.listUsers().map((u) => u.name),
        ['alice', 'bob'],
      );
      await rejectsWith(() => s.identities.createUser(user('alice')), 'EntityAlreadyExists');
      await s.identities.setUserStatus('alice', 'disabled');
      assert.equal(s.identities.getUser('alice')?.status, 'disabled');
      assert.equal(s.identities.getAccessKey('AKIAALICE00000000001')?.userStatus, 'disabled');
      await rejectsWith(() => s.identities.setUserStatus('nobody', 'disabled'), 'NoSuchEntity');
      assert.equal(s.identities.getUser('nobody'), undefined);
    });

    it('Access keys › stored sealed with their key id, expiry and inline policy; status; delete; unknown → NoSuchEntity', async () => {
      await s.identities.createUser(user('alice'));
      const k = key('AKIAALICE00000000001', 'alice', { expires: 5000, policy: '{"Statement":[]}' });
      await s.identities.createAccessKey(k);
      await s.identities.createAccessKey(key('AKIAALICE00000000002', 'alice'));
      assert.deepEqual(s.identities.getAccessKey(k.accessKeyId), { ...k, userId: 'U-alice', userStatus: 'enabled' });
      assert.equal(s.identities.listAccessKeys('alice').length, 2);
      assert.deepEqual(s.identities.secretKeyIds(), ['k1']);
      await rejectsWith(() => s.identities.createAccessKey(key('AKIAALICE00000000002', 'alice')), 'EntityAlreadyExists');
      await rejectsWith(() => s.identities.createAccessKey(key('AKIANOBODY0000000001', 'nobody')), 'NoSuchEntity');
      await s.identities.setAccessKeyStatus(k.accessKeyId, 'disabled');
      assert.equal(s.identities.getAccessKey(k.accessKeyId)?.status, 'disabled');
      await s.identities.deleteAccessKey(k.accessKeyId);
      assert.equal(s.identities.getAccessKey(k.accessKeyId), undefined);
      await rejectsWith(() => s.identities.deleteAccessKey(k.accessKeyId), 'NoSuchEntity');
      await rejectsWith(() => s.identities.setAccessKeyStatus(k.accessKeyId, 'enabled'), 'NoSuchEntity');
    });

    it('Groups › members added and removed, groupsOfUser; deleting a user removes its keys and memberships', async () => {
      await s.identities.createUser(user('alice'), key('AKIAALICE00000000001', 'alice'));
      await s.identities.createUser(user('bob'));
      await s.identities.createGroup('devs', 1);
      await rejectsWith(() => s.identities.createGroup('devs', 1), 'EntityAlreadyExists');
      await s.identities.updateGroupMembers('devs', ['alice', 'bob'], []);
      assert.deepEqual(s.identities.getGroup('devs')?.members, ['alice', 'bob']);
      assert.deepEqual(s.identities.groupsOfUser('alice'), ['devs']);
      await rejectsWith(() => s.identities.updateGroupMembers('devs', ['nobody'], []), 'NoSuchEntity');
      await s.identities.updateGroupMembers('devs', [], ['bob']);
      assert.deepEqual(s.identities.getGroup('devs')?.members, ['alice']);
      await s.identities.deleteUser('alice');
      assert.equal(s.identities.getAccessKey('AKIAALICE00000000001'), undefined);
      assert.deepEqual(s.identities.getGroup('devs')?.members, []);
      await s.identities.deleteGroup('devs');
      assert.deepEqual(s.identities.listGroups(), []);
      await rejectsWith(() => s.identities.deleteGroup('devs'), 'NoSuchEntity');
    });

    it('Policies › put replaces (created kept), attach to user and group, delete while attached → DeleteConflict', async () => {
      await s.identities.createUser(user('alice'));
      await s.identities.createGroup('devs', 1);
      await s.identities.putPolicy('ro', '{"Statement":[1]}', 10);
      await s.identities.putPolicy('ro', '{"Statement":[2]}', 20);
      assert.deepEqual(s.identities.getPolicy('ro'), { name: 'ro', document: '{"Statement":[2]}', created: 10, updated: 20 });
      await s.identities.attachPolicy('ro', { user: 'alice' });
      await s.identities.attachPolicy('ro', { group: 'devs' });
      await rejectsWith(() => s.identities.attachPolicy('nope', { user: 'alice' }), 'NoSuchEntity');
      await rejectsWith(() => s.identities.attachPolicy('ro', { user: 'nobody' }), 'NoSuchEntity');
      assert.deepEqual(s.identities.attachedPolicies({ user: 'alice' }), ['ro']);
      assert.deepEqual(s.identities.policyTargets('ro'), { users: ['alice'], groups: ['devs'], roles: [] });
      await rejectsWith(() => s.identities.deletePolicy('ro'), 'DeleteConflict');
      await s.identities.detachPolicy('ro', { user: 'alice' });
      await rejectsWith(() => s.identities.detachPolicy('ro', { user: 'alice' }), 'NoSuchEntity');
      await s.identities.deleteGroup('devs'); // its attachments go with it
      await s.identities.deletePolicy('ro');
      assert.deepEqual(s.identities.listPolicies(), []);
    });

    it('Roles › create, get, list, attach policies, delete drops the attachments; duplicate → EntityAlreadyExists', async () => {
      const role = { name: 'reader', roleId: 'AROAREADER0000000001', trustPolicy: '{"Statement":[]}', maxSessionDuration: 3600, created: 5 };
      await s.identities.createRole(role);
      await s.identities.createRole({ ...role, name: 'admin', roleId: 'AROAADMIN00000000001' });
      await rejectsWith(() => s.identities.createRole(role), 'EntityAlreadyExists');
      assert.deepEqual(s.identities.getRole('reader'), role);
      assert.equal(s.identities.getRole('nope'), undefined);
      assert.deepEqual(
        s.identities.listRoles().map((r) => r.name),
        ['admin', 'reader'],
      );
      await s.identities.putPolicy('ro', '{"Statement":[1]}', 10);
      await s.identities.attachPolicy('ro', { role: 'reader' });
      await rejectsWith(() => s.identities.attachPolicy('ro', { role: 'nobody' }), 'NoSuchEntity');
      assert.deepEqual(s.identities.attachedPolicies({ role: 'reader' }), ['ro']);
      assert.deepEqual(s.identities.policyTargets('ro'), { users: [], groups: [], roles: ['reader'] });
      await s.identities.deleteRole('reader');
      await rejectsWith(() => s.identities.deleteRole('reader'), 'NoSuchEntity');
      assert.deepEqual(s.identities.attachedPolicies({ role: 'reader' }), []);
      await s.identities.deletePolicy('ro'); // no attachment left
    });
  });
}
