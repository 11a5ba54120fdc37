// Secrets at rest (secret-box.ts) and the per-request credential source (credentials.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryMetaStore } from '../store/meta/memory.js';
import { identityCredentials, identityPolicies } from './credentials.js';
import { keyMaterial, SecretBox, SecretUnreadableError } from './secret-box.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('SecretBox', () => {
  it('seal/open › round trip; the sealed bytes hold no plaintext; bound to its access key id', () => {
    const box = new SecretBox({ rootSecret: 'root-secret-1' });
    const s = box.seal(SECRET, 'AKIAUSER000000000001');
    assert.equal(s.keyId, box.keyId);
    assert.equal(s.sealed.includes(Buffer.from(SECRET)), false);
    assert.equal(box.open(s, 'AKIAUSER000000000001'), SECRET);
    assert.throws(() => box.open(s, 'AKIAUSER000000000002'), SecretUnreadableError);
    const tampered = Buffer.from(s.sealed);
    tampered[20]! ^= 1;
    assert.throws(() => box.open({ ...s, sealed: tampered }, 'AKIAUSER000000000001'), SecretUnreadableError);
  });

  it('keys › another root secret → another key id and a loud refusal; the old root secret as master key opens it', () => {
    const old = new SecretBox({ rootSecret: 'root-secret-1' });
    const s = old.seal(SECRET, 'AK1');
    const changed = new SecretBox({ rootSecret: 'root-secret-2' });
    assert.notEqual(changed.keyId, old.keyId);
    assert.throws(
      () => changed.open(s, 'AK1'),
      (e: Error) => e instanceof SecretUnreadableError && /--master-key/.test(e.message),
    );
    const recovered = new SecretBox({ rootSecret: 'root-secret-2', masterKey: 'root-secret-1' });
    assert.equal(recovered.open(s, 'AK1'), SECRET);
  });

  it('keyMaterial › NAME:BASE64 and BASE64 of 32 bytes → the bytes (the name does not matter); other text → its UTF-8', () => {
    const b64 = Buffer.alloc(32, 7).toString('base64');
    assert.deepEqual(keyMaterial(`my-key:${b64}`), Buffer.alloc(32, 7));
    assert.deepEqual(keyMaterial(b64), Buffer.alloc(32, 7));
    assert.equal(new SecretBox({ masterKey: `a:${b64}`, rootSecret: 'x' }).keyId, new SecretBox({ masterKey: `b:${b64}`, rootSecret: 'y' }).keyId);
    assert.deepEqual(keyMaterial('passphrase'), Buffer.from('passphrase'));
  });
});

describe('identityCredentials', () => {
  it('lookup › root from config; a user key from the store with its principal; disabled, expired, deleted → undefined', async () => {
    const meta = memoryMetaStore();
    const box = new SecretBox({ rootSecret: 'rootsecret' });
    let now = 1000;
    const source = identityCredentials({ rootAccessKey: 'ROOT', rootSecretKey: 'rootsecret', identities: meta.identities, box, now: () => now });
    const ids = meta.identities;
    await ids.createUser({ name: 'alice', userId: 'UA', status: 'enabled', created: 1 });
    const ak = 'AKIAALICE00000000001';
    await ids.createAccessKey({ accessKeyId: ak, userName: 'alice', secret: box.seal(SECRET, ak), status: 'enabled', created: 1, expires: 5000 });
    assert.equal((await source('ROOT'))?.principal.kind, 'root');
    const found = await source(ak);
    assert.deepEqual(found?.principal, { accessKeyId: ak, userId: 'UA', kind: 'user', userName: 'alice', policies: { identity: [] } });
    assert.equal(found?.secretKey, SECRET);
    await ids.setUserStatus('alice', 'disabled');
    assert.equal(await source(ak), undefined);
    await ids.setUserStatus('alice', 'enabled');
    await ids.setAccessKeyStatus(ak, 'disabled');
    assert.equal(await source(ak), undefined);
    await ids.setAccessKeyStatus(ak, 'enabled');
    assert.equal((await source(ak))?.secretKey, SECRET);
    now = 5000;
    assert.equal(await source(ak), undefined, 'expired');
    now = 1000;
    await ids.deleteAccessKey(ak);
    assert.equal(await source(ak), undefined);
    assert.equal(await source('NOPE'), undefined);
    meta.close();
  });

  it('lookup › a secret sealed under another key → throws SecretUnreadableError (not "unknown key")', async () => {
    const meta = memoryMetaStore();
    const other = new SecretBox({ rootSecret: 'another-root' });
    await meta.identities.createUser(
      { name: 'bob', userId: 'UB', status: 'enabled', created: 1 },
      {
        accessKeyId: 'AKB',
        userName: 'bob',
        secret: other.seal(SECRET, 'AKB'),
        status: 'enabled',
        created: 1,
      },
    );
    const source = identityCredentials({
      rootAccessKey: 'ROOT',
      rootSecretKey: 'rootsecret',
      identities: meta.identities,
      box: new SecretBox({ rootSecret: 'rootsecret' }),
    });
    await assert.rejects(async () => source('AKB'), SecretUnreadableError);
    meta.close();
  });

  it('identityPolicies › the groups of the user and the documents attached to it and to its groups, each once', async () => {
    const meta = memoryMetaStore();
    const ids = meta.identities;
    await ids.createUser({ name: 'alice', userId: 'UA', status: 'enabled', created: 1 });
    await ids.createGroup('devs', 1);
    await ids.updateGroupMembers('devs', ['alice'], []);
    await ids.putPolicy('mine', '{"Statement":[{"Sid":"mine"}]}', 1);
    await ids.putPolicy('team', '{"Statement":[{"Sid":"team"}]}', 1);
    await ids.attachPolicy('mine', { user: 'alice' });
    await ids.attachPolicy('team', { group: 'devs' });
    await ids.attachPolicy('mine', { group: 'devs' });
    const found = identityPolicies(ids, 'alice');
    assert.deepEqual(found.groups, ['devs']);
    assert.deepEqual([...found.policies.keys()], ['mine', 'team']);
    assert.equal(found.policies.get('team'), '{"Statement":[{"Sid":"team"}]}');
    meta.close();
  });
});
