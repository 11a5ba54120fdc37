// The KmsKeyStore contract (kms-keys.ts): keys with their first version, rotation (a version that
// exists → EntityAlreadyExists), enable/disable, unknown keys → NoSuchEntity, and the generation
// that every write moves. Each implementation's test file calls runKmsKeysContract.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Maybe, rejectsWith } from './contract.js';
import type { KmsKeyStore } from './kms-keys.js';

export function runKmsKeysContract(name: string, open: () => Promise<{ keys: KmsKeyStore; close: () => Maybe<void> }>): void {
  describe(`KmsKeyStore contract: ${name}`, () => {
    it('keys › created with their first version, listed in id order; a duplicate → EntityAlreadyExists; each write moves the generation', async () => {
      const { keys, close } = await open();
      try {
        assert.equal(keys.generation(), 0);
        assert.deepEqual(keys.listKeys(), []);
        const k = { keyId: 'b-key', enabled: true, created: 10, currentVersion: 1, rotated: 10 };
        await keys.createKey(k, { keyId: 'b-key', version: 1, created: 10, rootKeyId: 'root1' });
        await keys.createKey({ ...k, keyId: 'a-key' }, { keyId: 'a-key', version: 1, created: 10, rootKeyId: 'root1', sealed: Buffer.from('m') });
        assert.equal(keys.generation(), 2);
        assert.deepEqual(keys.getKey('b-key'), k);
        assert.deepEqual(
          keys.listKeys().map((x) => x.keyId),
          ['a-key', 'b-key'],
        );
        assert.deepEqual(keys.getVersion('b-key', 1), { keyId: 'b-key', version: 1, created: 10, rootKeyId: 'root1' });
        assert.deepEqual(keys.getVersion('a-key', 1)?.sealed, Buffer.from('m'));
        assert.equal(keys.getVersion('a-key', 2), undefined);
        assert.equal(keys.getKey('nope'), undefined);
        await rejectsWith(() => keys.createKey(k, { keyId: 'b-key', version: 1, created: 10, rootKeyId: 'root1' }), 'EntityAlreadyExists');
        assert.equal(keys.generation(), 2, 'a refused write changes nothing');
      } finally {
        await close();
      }
    });

    it('rotation and state › addVersion makes the version current; an existing version → EntityAlreadyExists; setEnabled; unknown → NoSuchEntity', async () => {
      const { keys, close } = await open();
      try {
        await keys.createKey(
          { keyId: 'k', enabled: true, created: 10, currentVersion: 1, rotated: 10 },
          { keyId: 'k', version: 1, created: 10, rootKeyId: 'r' },
        );
        const rotated = await keys.addVersion({ keyId: 'k', version: 2, created: 50, rootKeyId: 'r', sealed: Buffer.from('two') });
        assert.deepEqual(rotated, { keyId: 'k', enabled: true, created: 10, currentVersion: 2, rotated: 50 });
        assert.deepEqual(keys.getKey('k'), rotated);
        assert.deepEqual(keys.getVersion('k', 2)?.sealed, Buffer.from('two'));
        await rejectsWith(() => keys.addVersion({ keyId: 'k', version: 2, created: 60, rootKeyId: 'r' }), 'EntityAlreadyExists');
        await rejectsWith(() => keys.addVersion({ keyId: 'nope', version: 1, created: 60, rootKeyId: 'r' }), 'NoSuchEntity');
        const before = keys.generation();
        assert.equal((await keys.setEnabled('k', false)).enabled, false);
        assert.equal(keys.getKey('k')?.enabled, false);
        assert.equal(keys.generation(), before + 1);
        assert.equal((await keys.setEnabled('k', true)).enabled, true);
        await rejectsWith(() => keys.setEnabled('nope', true), 'NoSuchEntity');
      } finally {
        await close();
      }
    });
  });
}
