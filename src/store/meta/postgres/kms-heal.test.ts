// PgKmsKeys and PgHealQueue on a throw-away PostgreSQL cluster: their contracts, the built-in key
// service on two stores of one database (a disable through one refused by the other once its
// notification arrives), and the heal queue's bounded snapshot (due head, counts) on a queue larger
// than the head.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, openTestSubStores } from '../../../../test/helpers/pg-stores.js';
import { type PostgresCluster, startPostgres } from '../../../../test/helpers/postgres.js';
import { runHealQueueContract } from '../../contract-heal.js';
import { runKmsKeysContract } from '../../contract-kms.js';
import { randomBytes } from 'node:crypto';
import { BuiltinKeyService } from '../../../kms/builtin.js';
import { KmsError } from '../../../kms/kms.js';
import { FakeErasure, round } from '../../../jobs/fake-erasure.js';
import { healJob } from '../../../jobs/heal.js';
import { MemoryDataStore } from '../../data/memory.js';
import { Store } from '../../store.js';
import { HEAD_ROWS } from './heal.js';
import { openPgMetaStore } from './open.js';
import { objectRecord } from '../../contract.js';
import { ROOT_USER_ID } from '../../types.js';

const CTX = { 'aws:s3:arn': 'arn:aws:s3:::bucket/key' };

let cluster: PostgresCluster;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster?.dispose();
});

runKmsKeysContract('postgres', async () => {
  const s = await openTestSubStores(await cluster.createDatabase(), { pollMs: 3_600_000 });
  return { keys: s.kmsKeys, close: s.close };
});
runHealQueueContract('postgres', async () => {
  const s = await openTestSubStores(await cluster.createDatabase(), { pollMs: 3_600_000 });
  return { queue: s.healQueue, close: s.close };
});

describe('PgKmsKeys and PgHealQueue: two stores on one database', () => {
  it('keys › a rotation and a disable through one are served by the writer at once and by the other on the notification', async () => {
    const url = await cluster.createDatabase();
    const a = await openTestSubStores(url, { pollMs: 3_600_000 });
    const b = await openTestSubStores(url, { pollMs: 3_600_000 });
    try {
      await a.kmsKeys.createKey(
        { keyId: 'k', enabled: true, created: 1, currentVersion: 1, rotated: 1 },
        { keyId: 'k', version: 1, created: 1, rootKeyId: 'r' },
      );
      assert.ok(await eventually(() => b.kmsKeys.getKey('k') !== undefined));
      await a.kmsKeys.addVersion({ keyId: 'k', version: 2, created: 5, rootKeyId: 'r', sealed: Buffer.from('v2') });
      await a.kmsKeys.setEnabled('k', false);
      assert.equal(a.kmsKeys.getKey('k')?.enabled, false, 'at once in the writer');
      assert.ok(await eventually(() => b.kmsKeys.getKey('k')?.enabled === false));
      assert.deepEqual(b.kmsKeys.getVersion('k', 2)?.sealed, Buffer.from('v2'));
      assert.equal(b.kmsKeys.generation(), a.kmsKeys.generation());
      // Concurrent rotations to the same version: exactly one wins.
      const tries = await Promise.allSettled([a, b].map((s) => s.kmsKeys.addVersion({ keyId: 'k', version: 3, created: 9, rootKeyId: 'r' })));
      assert.equal(tries.filter((t) => t.status === 'fulfilled').length, 1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('key service › two services on one database: a disable through one is refused by it at once and by the other once notified; a rotation there is used here', async () => {
    const url = await cluster.createDatabase();
    const a = await openTestSubStores(url, { pollMs: 3_600_000 });
    const b = await openTestSubStores(url, { pollMs: 3_600_000 });
    const r = { name: 'shared-root', key: randomBytes(32) };
    try {
      // recheckMs 0: each data-key call looks at the (snapshot's) generation.
      const ka = await BuiltinKeyService.open(a.kmsKeys, r, { recheckMs: 0 });
      const kb = await BuiltinKeyService.open(b.kmsKeys, r, { recheckMs: 0 });
      await ka.createKey('app');
      assert.ok(await eventually(() => b.kmsKeys.getKey('app') !== undefined));
      const dk = await kb.generateDataKey('app', CTX);
      assert.deepEqual(await ka.decryptDataKey('app', dk.ciphertext, CTX), dk.plaintext);
      await ka.setKeyEnabled('app', false);
      await assert.rejects(ka.decryptDataKey('app', dk.ciphertext, CTX), (e: unknown) => e instanceof KmsError && e.code === 'DisabledException');
      assert.ok(await eventually(() => b.kmsKeys.getKey('app')?.enabled === false));
      await assert.rejects(kb.decryptDataKey('app', dk.ciphertext, CTX), (e: unknown) => e instanceof KmsError && e.code === 'DisabledException');
      await ka.setKeyEnabled('app', true);
      await ka.rotateKey('app');
      assert.ok(await eventually(() => b.kmsKeys.getKey('app')?.currentVersion === 2));
      const rotated = await kb.generateDataKey('app', CTX);
      assert.equal(rotated.ciphertext.readUInt32BE(1), 2, 'b wraps under the version a made');
      assert.deepEqual(await ka.decryptDataKey('app', rotated.ciphertext, CTX), rotated.plaintext);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('key service › a data key wrapped under a version another service just made opens before any notification (the service reloads the snapshot)', async () => {
    const url = await cluster.createDatabase();
    const a = await openTestSubStores(url, { pollMs: 3_600_000 });
    const b = await openTestSubStores(url, { pollMs: 3_600_000, listen: false }); // b hears of nothing by itself
    const r = { name: 'shared-root', key: randomBytes(32) };
    try {
      const ka = await BuiltinKeyService.open(a.kmsKeys, r);
      await ka.createKey('app');
      await b.kmsKeys.refresh();
      const kb = await BuiltinKeyService.open(b.kmsKeys, r);
      await ka.rotateKey('app');
      const dk = await ka.generateDataKey('app', CTX);
      assert.equal(dk.ciphertext.readUInt32BE(1), 2);
      assert.equal(b.kmsKeys.getKey('app')?.currentVersion, 1, "b's snapshot is behind");
      assert.deepEqual(await kb.decryptDataKey('app', dk.ciphertext, CTX), dk.plaintext);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('heal queue › degraded names the object version a piece belongs to (openPgMetaStore: the whole store)', async () => {
    const meta = await openPgMetaStore(await cluster.createDatabase(), { poolSize: 4 });
    try {
      await meta.createBucket({ name: 'photos', region: 'r', createdAt: 0, versioning: '', owner: ROOT_USER_ID, objectLock: false });
      const rec = objectRecord('photos', 'cat.jpg', { data: [{ id: 'p8', size: 10 }] });
      await meta.putObject(rec);
      await meta.healQueue.add([
        { pieceId: 'p8', drive: 2, reason: 'missing', at: 1 },
        { pieceId: 'q', drive: 0, reason: 'corrupt', at: 2 },
      ]);
      const [p8, q] = meta.healQueue.degraded(10);
      assert.deepEqual(p8?.object, { bucket: 'photos', key: 'cat.jpg', versionId: rec.versionId });
      assert.equal(q?.object, undefined, 'no object references q');
    } finally {
      await meta.close();
    }
  });

  it('heal job › on the PostgreSQL store: due pieces healed and their entries removed; a shard on an offline drive put off', async () => {
    const meta = await openPgMetaStore(await cluster.createDatabase(), { poolSize: 4 });
    const store = new Store(meta, new MemoryDataStore());
    try {
      const fake = new FakeErasure(6);
      for (let i = 0; i < 10; i++) fake.add(`p${i}`, 1000, [i % 6]);
      fake.add('off', 500, [2]);
      fake.drives.set(2, 'offline');
      await store.healQueue.add([...Array(10).keys()].map((i) => ({ pieceId: `p${i}`, drive: i % 6, reason: 'missing' as const, at: 1 })));
      await store.healQueue.add([{ pieceId: 'off', drive: 2, reason: 'missing', at: 1 }]);
      await round(healJob(store, fake, { now: () => 100 }));
      assert.deepEqual([...new Set(fake.healCalls)].sort(), ['p0', 'p1', 'p3', 'p4', 'p5', 'p6', 'p7', 'p9'], 'every due piece but those of the offline drive');
      assert.deepEqual(
        store.healQueue.degraded(20).map((p) => p.pieceId),
        ['off', 'p2', 'p8'],
      );
      assert.equal(store.healQueue.entriesOf('off')[0]?.attempts, 1);
      assert.deepEqual(store.healQueue.due(100, 10), [], 'put off');
    } finally {
      await store.close();
    }
  });

  it(`heal queue › more entries than the head (${HEAD_ROWS}): counts exact, due in next-try order, entriesOf whole for the head's pieces`, async () => {
    const s = await openTestSubStores(await cluster.createDatabase(), { pollMs: 3_600_000 });
    try {
      const n = HEAD_ROWS + 500; // a multiple of 3
      const reports = Array.from({ length: n }, (_, i) => ({ pieceId: `p${String(i).padStart(6, '0')}`, drive: i % 3, reason: 'missing' as const, at: n - i }));
      // Also a second drive of the first-due piece, reported last (due last).
      reports.push({ pieceId: reports[n - 1]!.pieceId, drive: 5, reason: 'missing', at: 10 * n });
      assert.equal(await s.healQueue.add(reports), n + 1);
      assert.deepEqual(s.healQueue.counts(), { shards: n + 1, pieces: n, byDrive: { 0: n / 3, 1: n / 3, 2: n / 3, 5: 1 }, oldest: 1 });
      const due = s.healQueue.due(Number.MAX_SAFE_INTEGER, 64);
      assert.deepEqual(
        due.slice(0, 3).map((e) => e.nextTry),
        [1, 2, 3],
      );
      assert.deepEqual(
        s.healQueue.entriesOf(reports[n - 1]!.pieceId).map((e) => e.drive),
        [(n - 1) % 3, 5],
        'the piece of the head entry whose other drive is beyond the head',
      );
      assert.equal(s.healQueue.degraded(101).length, 101);
      await s.healQueue.remove(due[0]!.pieceId, [due[0]!.drive, 5], Number.MAX_SAFE_INTEGER);
      assert.equal(s.healQueue.counts().shards, n - 1);
      assert.equal(s.healQueue.due(Number.MAX_SAFE_INTEGER, 1)[0]!.nextTry, 2);
    } finally {
      await s.close();
    }
  });
});
