// The built-in key service over a real (SQLite) metadata store: wrapping and unwrapping data keys,
// contexts, tampering, rotation, disable/enable, restarts with the same and another root key, and two
// services sharing one database.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { memoryMetaStore } from '../store/meta/memory.js';
import { SqliteMetaStore } from '../store/meta/sqlite.js';
import { BuiltinKeyService, DATA_KEY_BYTES, type RootKey } from './builtin.js';
import { keyIdOf, kmsKeyArn } from './arn.js';
import { KmsError, type KmsErrorCode } from './kms.js';

const root = (name = 'strata-root'): RootKey => ({ name, key: randomBytes(32) });
const CTX = { 'aws:s3:arn': 'arn:aws:s3:::bucket/key', purpose: 'test' };

async function kmsCode(p: Promise<unknown>): Promise<KmsErrorCode> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KmsError) return err.code;
    throw err;
  }
  assert.fail('expected a KmsError');
}

async function fresh(r = root()): Promise<BuiltinKeyService> {
  return BuiltinKeyService.open(memoryMetaStore().kmsKeys, r);
}

describe('BuiltinKeyService', () => {
  const dirs: string[] = [];
  const tempDb = () => {
    const d = mkdtempSync(join(tmpdir(), 'strata-kms-'));
    dirs.push(d);
    return join(d, 'meta.db');
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  /** A database file in which a service with root key `r` ran `fill` (closed again), and what `fill` made. */
  async function storedBy<T>(r: RootKey, fill: (kms: BuiltinKeyService) => Promise<T>): Promise<{ path: string; made: T }> {
    const path = tempDb();
    const meta = SqliteMetaStore.open(path);
    const made = await fill(await BuiltinKeyService.open(meta.kmsKeys, r));
    await meta.close();
    return { path, made };
  }

  it('open › the default key (NAME of the root key) exists, enabled, version 1, marked default', async () => {
    const kms = await fresh(root('my-minio-key'));
    assert.equal(kms.defaultKeyId, 'my-minio-key');
    const info = await kms.describeKey('my-minio-key');
    assert.deepEqual([info.keyId, info.enabled, info.currentVersion, info.isDefault], ['my-minio-key', true, 1, true]);
    assert.deepEqual(
      (await kms.listKeys()).map((k) => k.keyId),
      ['my-minio-key'],
    );
  });

  it('wrap/unwrap › a fresh 32-byte data key per call; its ciphertext (format 1, 65 bytes) unwraps to it with the same context in any order', async () => {
    const kms = await fresh();
    const a = await kms.generateDataKey(kms.defaultKeyId, CTX);
    const b = await kms.generateDataKey(kms.defaultKeyId, CTX);
    assert.equal(a.plaintext.length, 32);
    assert.equal(a.keyId, kms.defaultKeyId);
    assert.notDeepEqual(a.plaintext, b.plaintext);
    assert.equal(a.ciphertext.length, DATA_KEY_BYTES);
    assert.equal(a.ciphertext[0], 1);
    assert.equal(a.ciphertext.includes(a.plaintext), false);
    const reordered = { purpose: 'test', 'aws:s3:arn': 'arn:aws:s3:::bucket/key' };
    const unwrapped = await kms.decryptDataKey(kms.defaultKeyId, a.ciphertext, reordered);
    assert.deepEqual(unwrapped, a.plaintext);
    unwrapped.fill(0); // a caller wiping its copy does not wipe what the service remembers
    assert.deepEqual(await kms.decryptDataKey(kms.defaultKeyId, a.ciphertext, CTX), a.plaintext);
    const empty = await kms.generateDataKey(kms.defaultKeyId, {});
    assert.deepEqual(await kms.decryptDataKey(kms.defaultKeyId, empty.ciphertext, {}), empty.plaintext);
  });

  it('wrong context or key › InvalidCiphertextException (another value, a pair more or less, another key)', async () => {
    const kms = await fresh();
    await kms.createKey('other');
    const dk = await kms.generateDataKey(kms.defaultKeyId, CTX);
    const others: Array<Record<string, string>> = [{ ...CTX, purpose: 'other' }, { ...CTX, extra: '1' }, { 'aws:s3:arn': CTX['aws:s3:arn'] }, {}];
    for (const ctx of others) {
      assert.equal(await kmsCode(kms.decryptDataKey(kms.defaultKeyId, dk.ciphertext, ctx)), 'InvalidCiphertextException', JSON.stringify(ctx));
    }
    // A name/value split that concatenates the same must not match either.
    const split = await kms.generateDataKey(kms.defaultKeyId, { ab: 'c' });
    assert.equal(await kmsCode(kms.decryptDataKey(kms.defaultKeyId, split.ciphertext, { a: 'bc' })), 'InvalidCiphertextException');
    assert.equal(await kmsCode(kms.decryptDataKey('other', dk.ciphertext, CTX)), 'InvalidCiphertextException');
    assert.equal(await kmsCode(kms.decryptDataKey('missing', dk.ciphertext, CTX)), 'NotFoundException');
    assert.equal(await kmsCode(kms.generateDataKey('missing', CTX)), 'NotFoundException');
  });

  it('cache › a data key unwrapped (and remembered) under one context is still refused under another, or under another key id; the same pairs in another order hit', async () => {
    const kms = await fresh();
    await kms.createKey('other');
    const dk = await kms.generateDataKey(kms.defaultKeyId, CTX);
    assert.deepEqual(await kms.decryptDataKey(kms.defaultKeyId, dk.ciphertext, CTX), dk.plaintext, 'unwrapped: now remembered');
    // What another object presenting this object's wrapped key would give: its own ARN.
    const others: Array<Record<string, string>> = [
      { ...CTX, 'aws:s3:arn': 'arn:aws:s3:::bucket/other-key' },
      { ...CTX, purpose: 'other' },
      { ...CTX, extra: '1' },
      { 'aws:s3:arn': CTX['aws:s3:arn'] },
      {},
      Object.assign(Object.create({ purpose: 'test' }) as Record<string, string>, { 'aws:s3:arn': CTX['aws:s3:arn'] }),
    ];
    for (const ctx of others) {
      assert.equal(await kmsCode(kms.decryptDataKey(kms.defaultKeyId, dk.ciphertext, ctx)), 'InvalidCiphertextException', JSON.stringify(ctx));
    }
    assert.equal(await kmsCode(kms.decryptDataKey('other', dk.ciphertext, CTX)), 'InvalidCiphertextException');
    assert.deepEqual(await kms.decryptDataKey(kms.defaultKeyId, dk.ciphertext, { purpose: 'test', 'aws:s3:arn': CTX['aws:s3:arn'] }), dk.plaintext);
    // The refusals did not evict or replace what the right context unwrapped.
    assert.deepEqual(await kms.decryptDataKey(kms.defaultKeyId, dk.ciphertext, CTX), dk.plaintext);
  });

  it('tampering › every single flipped bit position of each byte, a truncated or extended ciphertext → InvalidCiphertextException, never other bytes', async () => {
    const kms = await fresh();
    const dk = await kms.generateDataKey(kms.defaultKeyId, CTX);
    for (let i = 0; i < dk.ciphertext.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const t = Buffer.from(dk.ciphertext);
        t[i]! ^= bit;
        assert.equal(await kmsCode(kms.decryptDataKey(kms.defaultKeyId, t, CTX)), 'InvalidCiphertextException', `byte ${i} bit ${bit}`);
      }
    }
    for (const t of [dk.ciphertext.subarray(0, -1), Buffer.concat([dk.ciphertext, Buffer.alloc(1)]), Buffer.alloc(0)]) {
      assert.equal(await kmsCode(kms.decryptDataKey(kms.defaultKeyId, t, CTX)), 'InvalidCiphertextException');
    }
  });

  it('rotation › a new current version; data keys wrapped under every older version keep unwrapping; an unknown version → InvalidCiphertextException', async () => {
    const kms = await fresh();
    await kms.createKey('k1');
    const v1 = await kms.generateDataKey('k1', CTX);
    const info = await kms.rotateKey('k1');
    assert.equal(info.currentVersion, 2);
    const v2 = await kms.generateDataKey('k1', CTX);
    assert.equal(v2.ciphertext.readUInt32BE(1), 2);
    assert.equal((await kms.rotateKey('k1')).currentVersion, 3);
    assert.deepEqual(await kms.decryptDataKey('k1', v1.ciphertext, CTX), v1.plaintext);
    assert.deepEqual(await kms.decryptDataKey('k1', v2.ciphertext, CTX), v2.plaintext);
    const future = Buffer.from(v2.ciphertext);
    future.writeUInt32BE(9, 1);
    assert.equal(await kmsCode(kms.decryptDataKey('k1', future, CTX)), 'InvalidCiphertextException');
    // The default key rotates too; its derived first version keeps unwrapping.
    const d1 = await kms.generateDataKey(kms.defaultKeyId, CTX);
    await kms.rotateKey(kms.defaultKeyId);
    assert.deepEqual(await kms.decryptDataKey(kms.defaultKeyId, d1.ciphertext, CTX), d1.plaintext);
    assert.equal(await kmsCode(kms.rotateKey('missing')), 'NotFoundException');
  });

  it('disable/enable › a disabled key neither wraps nor unwraps nor rotates (DisabledException); enabled again, old data keys unwrap', async () => {
    const kms = await fresh();
    const dk = await kms.generateDataKey(kms.defaultKeyId, CTX);
    assert.deepEqual(await kms.decryptDataKey(kms.defaultKeyId, dk.ciphertext, CTX), dk.plaintext, 'unwrapped once: remembered');
    assert.equal((await kms.setKeyEnabled(kms.defaultKeyId, false)).enabled, false);
    assert.equal(await kmsCode(kms.generateDataKey(kms.defaultKeyId, CTX)), 'DisabledException');
    assert.equal(await kmsCode(kms.decryptDataKey(kms.defaultKeyId, dk.ciphertext, CTX)), 'DisabledException');
    assert.equal(await kmsCode(kms.rotateKey(kms.defaultKeyId)), 'DisabledException');
    assert.equal((await kms.describeKey(kms.defaultKeyId)).enabled, false);
    assert.equal((await kms.setKeyEnabled(kms.defaultKeyId, true)).enabled, true);
    assert.deepEqual(await kms.decryptDataKey(kms.defaultKeyId, dk.ciphertext, CTX), dk.plaintext);
    assert.equal(await kmsCode(kms.setKeyEnabled('missing', false)), 'NotFoundException');
  });

  it('createKey › AlreadyExistsException for an existing id (the default included); ValidationException for a malformed id; describe of a missing key → NotFoundException', async () => {
    const kms = await fresh();
    const made = await kms.createKey('app-key.1');
    assert.deepEqual([made.keyId, made.enabled, made.currentVersion, made.isDefault], ['app-key.1', true, 1, false]);
    assert.equal(await kmsCode(kms.createKey('app-key.1')), 'AlreadyExistsException');
    assert.equal(await kmsCode(kms.createKey(kms.defaultKeyId)), 'AlreadyExistsException');
    for (const bad of ['', '-x', 'a/b', 'a:b', 'x'.repeat(65), 'spa ce', 'é']) {
      assert.equal(await kmsCode(kms.createKey(bad)), 'ValidationException', bad);
    }
    assert.equal(await kmsCode(kms.describeKey('nope')), 'NotFoundException');
    assert.deepEqual(
      (await kms.listKeys()).map((k) => k.keyId),
      ['app-key.1', kms.defaultKeyId].sort(),
    );
  });

  it('context › a non-string value or a context over 8192 characters → ValidationException', async () => {
    const kms = await fresh();
    assert.equal(await kmsCode(kms.generateDataKey(kms.defaultKeyId, { a: 1 as unknown as string })), 'ValidationException');
    assert.equal(await kmsCode(kms.generateDataKey(kms.defaultKeyId, { a: 'x'.repeat(8200) })), 'ValidationException');
  });

  it('restart › the same root key reads every key and version (sealed and derived)', async () => {
    const r = root('restart-key');
    const { path, made } = await storedBy(r, async (kms) => {
      await kms.createKey('app');
      const a1 = await kms.generateDataKey('app', CTX);
      await kms.rotateKey('app');
      return { a1, a2: await kms.generateDataKey('app', CTX), d: await kms.generateDataKey('restart-key', CTX) };
    });
    const { a1, a2, d } = made;
    const meta2 = SqliteMetaStore.open(path);
    const kms2 = await BuiltinKeyService.open(meta2.kmsKeys, { name: r.name, key: Buffer.from(r.key) });
    assert.deepEqual(await kms2.decryptDataKey('app', a1.ciphertext, CTX), a1.plaintext);
    assert.deepEqual(await kms2.decryptDataKey('app', a2.ciphertext, CTX), a2.plaintext);
    assert.deepEqual(await kms2.decryptDataKey('restart-key', d.ciphertext, CTX), d.plaintext);
    assert.equal((await kms2.describeKey('app')).currentVersion, 2);
    await meta2.close();
  });

  it('another NAME, the same bytes › a new default key; the former default stays an ordinary key and keeps unwrapping', async () => {
    const r = root('first-name');
    const { path, made: old } = await storedBy(r, (kms) => kms.generateDataKey('first-name', CTX));
    const meta = SqliteMetaStore.open(path);
    const kms = await BuiltinKeyService.open(meta.kmsKeys, { name: 'second-name', key: r.key });
    assert.equal(kms.defaultKeyId, 'second-name');
    assert.deepEqual(
      (await kms.listKeys()).map((k) => [k.keyId, k.isDefault]),
      [
        ['first-name', false],
        ['second-name', true],
      ],
    );
    assert.deepEqual(await kms.decryptDataKey('first-name', old.ciphertext, CTX), old.plaintext);
    await meta.close();
  });

  it('another root key › KMSInternalException for every stored key (generate and decrypt), logged once per key version naming --kms-secret-key; never other bytes', async () => {
    const { path, made } = await storedBy(root('same-name'), async (kms) => {
      await kms.createKey('app');
      return { a: await kms.generateDataKey('app', CTX), d: await kms.generateDataKey('same-name', CTX) };
    });
    const { a, d } = made;
    const meta2 = SqliteMetaStore.open(path);
    const logged: Array<{ obj: object; msg: string }> = [];
    const kms2 = await BuiltinKeyService.open(meta2.kmsKeys, root('same-name'), { log: { error: (obj, msg) => logged.push({ obj, msg }) } });
    assert.equal(logged.length, 2, 'open reports both unreadable keys');
    assert.match(logged[0]!.msg, /--kms-secret-key/);
    assert.equal(await kmsCode(kms2.decryptDataKey('app', a.ciphertext, CTX)), 'KMSInternalException');
    assert.equal(await kmsCode(kms2.decryptDataKey('same-name', d.ciphertext, CTX)), 'KMSInternalException');
    assert.equal(await kmsCode(kms2.generateDataKey('app', CTX)), 'KMSInternalException');
    assert.equal(logged.length, 2, 'not one line per request');
    // Keys it creates itself work.
    await kms2.createKey('new');
    const n = await kms2.generateDataKey('new', CTX);
    assert.deepEqual(await kms2.decryptDataKey('new', n.ciphertext, CTX), n.plaintext);
    await meta2.close();
  });

  it('damaged material › a sealed version whose bytes changed → KMSInternalException, never a wrong key', async () => {
    const r = root();
    const { path, made: a } = await storedBy(r, async (kms) => {
      await kms.createKey('app');
      return kms.generateDataKey('app', CTX);
    });
    const raw = new (await import('better-sqlite3')).default(path);
    raw.prepare("UPDATE kms_key_versions SET material = ? WHERE key_id = 'app'").run(randomBytes(60));
    raw.close();
    const meta2 = SqliteMetaStore.open(path);
    const kms2 = await BuiltinKeyService.open(meta2.kmsKeys, r);
    assert.equal(await kmsCode(kms2.decryptDataKey('app', a.ciphertext, CTX)), 'KMSInternalException');
    await meta2.close();
  });

  it("two services on one database › each sees the other's disable, enable, rotation and new keys within a second (administration at once)", async () => {
    const path = tempDb();
    const r = root('shared-key');
    const metaA = SqliteMetaStore.open(path);
    const metaB = SqliteMetaStore.open(path);
    let clock = 1_000_000;
    const now = () => clock;
    const a = await BuiltinKeyService.open(metaA.kmsKeys, r, { now });
    const b = await BuiltinKeyService.open(metaB.kmsKeys, r, { now });
    const dk = await b.generateDataKey('shared-key', CTX);
    assert.deepEqual(await b.decryptDataKey('shared-key', dk.ciphertext, CTX), dk.plaintext); // b caches state, material, data key
    await a.setKeyEnabled('shared-key', false);
    assert.equal(
      await a.decryptDataKey('shared-key', dk.ciphertext, CTX).catch((e: { code: string }) => e.code),
      'DisabledException',
      'at once where it was made',
    );
    clock += 999;
    assert.deepEqual(await b.decryptDataKey('shared-key', dk.ciphertext, CTX), dk.plaintext, 'b trusts its state for up to a second');
    assert.equal((await b.describeKey('shared-key')).enabled, false, 'administration reads the current state');
    clock += 1000;
    assert.equal(await kmsCode(b.decryptDataKey('shared-key', dk.ciphertext, CTX)), 'DisabledException');
    assert.equal(await kmsCode(b.generateDataKey('shared-key', CTX)), 'DisabledException');
    await a.setKeyEnabled('shared-key', true);
    await a.rotateKey('shared-key');
    // A data key a wraps under the version it just made opens in b at once (a newer version makes b look again).
    const fromA = await a.generateDataKey('shared-key', CTX);
    assert.deepEqual(await b.decryptDataKey('shared-key', fromA.ciphertext, CTX), fromA.plaintext);
    clock += 1000;
    const rotated = await b.generateDataKey('shared-key', CTX);
    assert.equal(rotated.ciphertext.readUInt32BE(1), 2, 'b wraps under the version a made');
    assert.deepEqual(await a.decryptDataKey('shared-key', rotated.ciphertext, CTX), rotated.plaintext);
    // Concurrent rotations: each lands on its own version.
    const [x, y] = await Promise.all([a.rotateKey('shared-key'), b.rotateKey('shared-key')]);
    assert.deepEqual([x.currentVersion, y.currentVersion].sort(), [3, 4]);
    await a.createKey('from-a');
    assert.equal((await b.describeKey('from-a')).enabled, true);
    await metaA.close();
    await metaB.close();
  });

  it('two services on one database, recheckMs 0 (workers, --shared) › a disable or enable through one is seen by the other at its next data-key call', async () => {
    const path = tempDb();
    const r = root('worker-key');
    const metaA = SqliteMetaStore.open(path);
    const metaB = SqliteMetaStore.open(path);
    const now = () => 1_000_000; // the clock never moves: only recheckMs 0 makes b look again
    const a = await BuiltinKeyService.open(metaA.kmsKeys, r, { now, recheckMs: 0 });
    const b = await BuiltinKeyService.open(metaB.kmsKeys, r, { now, recheckMs: 0 });
    const dk = await b.generateDataKey('worker-key', CTX);
    assert.deepEqual(await b.decryptDataKey('worker-key', dk.ciphertext, CTX), dk.plaintext);
    await a.setKeyEnabled('worker-key', false);
    assert.equal(await kmsCode(b.decryptDataKey('worker-key', dk.ciphertext, CTX)), 'DisabledException');
    assert.equal(await kmsCode(b.generateDataKey('worker-key', CTX)), 'DisabledException');
    await a.setKeyEnabled('worker-key', true);
    assert.deepEqual(await b.decryptDataKey('worker-key', dk.ciphertext, CTX), dk.plaintext);
    await metaA.close();
    await metaB.close();
  });

  it('two services on one database, perRequest (workers, --shared) › a disable or enable through one is refused or taken by the other from its next request, with no read of the generation per call', async () => {
    const path = tempDb();
    const r = root('request-key');
    const metaA = SqliteMetaStore.open(path);
    const metaB = SqliteMetaStore.open(path);
    const a = await BuiltinKeyService.open(metaA.kmsKeys, r, { perRequest: true });
    const b = await BuiltinKeyService.open(metaB.kmsKeys, r, { perRequest: true });
    let reads = 0;
    const generation = metaB.kmsKeys.generation.bind(metaB.kmsKeys);
    metaB.kmsKeys.generation = () => {
      reads++;
      return generation();
    };
    metaB.requestArrived();
    const dk = await b.generateDataKey('request-key', CTX);
    assert.deepEqual(await b.decryptDataKey('request-key', dk.ciphertext, CTX), dk.plaintext);
    metaB.requestArrived();
    const checks = metaB.hot.checks;
    for (let i = 0; i < 3; i++) assert.deepEqual(await b.decryptDataKey('request-key', dk.ciphertext, CTX), dk.plaintext);
    await b.generateDataKey('request-key', CTX);
    assert.equal(reads, 0, 'the generation came with the per-request check');
    assert.equal(metaB.hot.checks, checks + 1, 'one check for the request');
    await a.setKeyEnabled('request-key', false);
    assert.equal(await kmsCode(a.generateDataKey('request-key', CTX)), 'DisabledException', 'at once where it was made');
    metaB.requestArrived();
    assert.equal(await kmsCode(b.decryptDataKey('request-key', dk.ciphertext, CTX)), 'DisabledException', 'the next request of the other');
    assert.equal(await kmsCode(b.generateDataKey('request-key', CTX)), 'DisabledException');
    await a.setKeyEnabled('request-key', true);
    metaB.requestArrived();
    assert.deepEqual(await b.decryptDataKey('request-key', dk.ciphertext, CTX), dk.plaintext, 'enabled again: taken from the next request');
    // A change made through b itself counts at once, within the same request (its write is newer than the check).
    await b.setKeyEnabled('request-key', false);
    assert.equal(await kmsCode(b.decryptDataKey('request-key', dk.ciphertext, CTX)), 'DisabledException');
    await b.setKeyEnabled('request-key', true);
    assert.deepEqual(await b.decryptDataKey('request-key', dk.ciphertext, CTX), dk.plaintext);
    // A rotation elsewhere: a data key wrapped under the new version opens here (a newer version makes b read again).
    await a.rotateKey('request-key');
    const fromA = await a.generateDataKey('request-key', CTX);
    assert.deepEqual(await b.decryptDataKey('request-key', fromA.ciphertext, CTX), fromA.plaintext);
    await metaA.close();
    await metaB.close();
  });

  it("arn › kmsKeyArn names the key in the account; keyIdOf takes an id or this account's key ARN", () => {
    assert.equal(kmsKeyArn('k1', 'eu-west-1'), 'arn:aws:kms:eu-west-1:000000000000:key/k1');
    assert.equal(keyIdOf('k1'), 'k1');
    assert.equal(keyIdOf(kmsKeyArn('k1', 'us-east-1')), 'k1');
    assert.equal(keyIdOf('arn:aws:kms:us-east-1:123456789012:key/k1'), undefined);
    assert.equal(keyIdOf('alias/foo'), undefined);
  });
});
