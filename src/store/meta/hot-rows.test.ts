// The hot-row cache (hot-rows.ts) and when SqliteMetaStore uses it (sqlite-hot.ts): bounds, and
// every writer of this connection dropping what it changes; another connection's commits seen after
// the next request arrival; no check at all for a store alone on its directory.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { objectRecord, uploadRecord } from '../contract.js';
import { sealedSize } from '../sealed.js';
import { HotRows } from './hot-rows.js';
import { SqliteMetaStore } from './sqlite.js';

const bucket = (name: string) => ({ name, region: 'us-east-1', createdAt: 1, versioning: '' as const, owner: 'root', objectLock: false });
const inline = (key: string, text: string, over = {}) =>
  objectRecord('b', key, { size: Buffer.byteLength(text), data: [], inline: Buffer.from(text), ...over });
const text = (r: { inline?: Buffer } | undefined) => r?.inline?.toString();

describe('HotRows', () => {
  const rows = (entries: number, bytes: number) => new HotRows<{ n: number }, string, unknown[]>({ entries, bytes, buckets: 2 }, () => 100);

  it('least recently used keys go first when the entry bound is passed; a hit makes a key recent', () => {
    const c = rows(2, 1 << 20);
    c.setVersion('b', 'k1', '', { n: 1 }, undefined);
    c.setVersion('b', 'k2', '', { n: 2 }, undefined);
    assert.ok(c.version('b', 'k1', '', false));
    c.setVersion('b', 'k3', '', { n: 3 }, undefined);
    assert.equal(c.version('b', 'k2', '', false), undefined, 'k2 was the least recently used');
    assert.ok(c.version('b', 'k1', '', false));
    assert.ok(c.version('b', 'k3', '', false));
    assert.deepEqual(c.size, { entries: 2, bytes: 2 * 500, buckets: 0 });
  });

  it('the byte bound counts inline bytes; an entry larger than the bound is never kept', () => {
    const c = rows(100, 2999); // an entry here costs 400 + 100 + its bytes
    c.setVersion('b', 'a', '', { n: 1 }, Buffer.alloc(1000));
    c.setVersion('b', 'b', '', { n: 1 }, Buffer.alloc(1000));
    assert.equal(c.version('b', 'a', '', true), undefined, 'pushed out by bytes');
    assert.ok(c.version('b', 'b', '', true));
    c.setVersion('b', 'huge', '', { n: 1 }, Buffer.alloc(5000));
    assert.equal(c.version('b', 'huge', '', true), undefined);
    assert.ok(c.size.bytes <= 2999);
  });

  it('dropKey drops every version of the key; an entry read without inline bytes misses for a read that needs them', () => {
    const c = rows(100, 1 << 20);
    c.setVersion('b', 'k', '', { n: 1 }, undefined);
    c.setVersion('b', 'k', 'v1', { n: 2 }, null);
    assert.equal(c.version('b', 'k', '', true), undefined, 'HEAD-read entry: no bytes');
    assert.ok(c.version('b', 'k', '', false));
    assert.ok(c.version('b', 'k', 'v1', true), 'no inline bytes (null): nothing to read');
    c.dropKey('b', 'k');
    assert.equal(c.version('b', 'k', 'v1', false), undefined);
    assert.deepEqual(c.size, { entries: 0, bytes: 0, buckets: 0 });
  });

  it('buckets: bounded; dropBucket and dropConfigs', () => {
    const c = rows(100, 1 << 20);
    c.setBucket('x', 'X');
    c.setConfigs('x', 'policy', ['row']);
    c.setBucket('y', 'Y');
    c.setBucket('z', 'Z');
    assert.equal(c.bucket('x'), undefined, 'at most 2 buckets');
    c.setConfigs('y', 'policy', null);
    assert.equal(c.configs('y', 'policy'), null, 'absence is kept');
    c.dropConfigs();
    assert.equal(c.configs('y', 'policy'), undefined);
    assert.equal(c.bucket('y'), 'Y');
    c.dropBucket('y');
    assert.equal(c.bucket('y'), undefined);
  });
});

describe('SqliteMetaStore hot rows', () => {
  let dir: string;
  let a: SqliteMetaStore;
  let b: SqliteMetaStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-hot-'));
    a = SqliteMetaStore.open(join(dir, 'meta.db'), { durability: 'none' });
    b = SqliteMetaStore.open(join(dir, 'meta.db'), { durability: 'none' });
    await a.createBucket(bucket('b'));
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a second read is a hit; the record and bytes returned are copies', async () => {
    await a.putObject(inline('copy', 'abc'));
    a.requestArrived();
    const first = a.getObject('b', 'copy')!;
    const hits = a.hot.cache!.hits;
    first.inline!.fill(0);
    first.meta.user['a'] = 'changed';
    const again = a.getObject('b', 'copy')!;
    assert.equal(a.hot.cache!.hits, hits + 1);
    assert.deepEqual([text(again), again.meta.user['a']], ['abc', '1']);
  });

  it('a hit shares the parsed extras (tags, encryption), frozen: a caller replaces them on its record, never changes them in place', async () => {
    const sse = { mode: 'AES256' as const, keyId: 'k', dataKey: 'AAAA' };
    await a.putObject(inline('extras', 'abc', { tags: [{ key: 't', value: '1' }], sse, inline: Buffer.alloc(sealedSize(3)) }));
    a.requestArrived();
    const first = a.getObject('b', 'extras', undefined, false)!;
    const again = a.getObject('b', 'extras', undefined, false)!;
    assert.equal(again.sse, first.sse, 'parsed once for the cached row');
    assert.deepEqual(again.sse, sse);
    assert.ok(Object.isFrozen(first.sse) && Object.isFrozen(first.tags) && Object.isFrozen(first.tags![0]));
    assert.throws(() => {
      (first.sse as { keyId: string }).keyId = 'changed';
    }, TypeError);
    assert.throws(() => first.tags!.push({ key: 'u', value: '2' }), TypeError);
    first.tags = [];
    first.sse = undefined;
    assert.deepEqual(a.getObject('b', 'extras', undefined, false)!.tags, [{ key: 't', value: '1' }]);
  });

  it('own writes: put, update, delete, multipart completion are seen by the next read, no arrival needed', async () => {
    await a.putObject(inline('own', 'one'));
    a.requestArrived();
    assert.equal(text(a.getObject('b', 'own')), 'one');
    await a.putObject(inline('own', 'two'));
    assert.equal(text(a.getObject('b', 'own')), 'two');
    assert.equal(a.getObject('b', 'own', undefined, false)?.inline, undefined, 'HEAD reads no bytes');
    await a.updateObject('b', 'own', undefined, { tags: [{ key: 't', value: '1' }] });
    assert.deepEqual(a.getObject('b', 'own')?.tags, [{ key: 't', value: '1' }]);
    await a.deleteObject('b', 'own');
    assert.equal(a.getObject('b', 'own'), undefined);
    const u = uploadRecord('b', 'own');
    await a.createUpload(u);
    await a.completeUpload('b', 'own', u.uploadId, inline('own', 'three'));
    assert.equal(text(a.getObject('b', 'own')), 'three');
  });

  it('own writes: versioning, configuration documents, identities, bucket deletion are seen at once', async () => {
    await a.createBucket(bucket('cfg'));
    a.requestArrived();
    assert.equal(a.getBucket('cfg')?.versioning, '');
    const before = a.getBucketWithConfigs('cfg', ['policy'])!;
    assert.equal(before.configs.get('policy'), undefined);
    await a.updateBucket('cfg', { versioning: 'Enabled' });
    assert.equal(a.getBucket('cfg')?.versioning, 'Enabled');
    await a.putBucketConfig('cfg', 'policy', '{"p":1}');
    assert.equal(a.getBucketWithConfigs('cfg', ['policy'])!.configs.get('policy'), '{"p":1}');
    await a.identities.createUser({ name: 'u', userId: 'U1', status: 'enabled', created: 1 });
    assert.notEqual(a.getBucketWithConfigs('cfg', ['policy'])!.identityGeneration, before.identityGeneration);
    await a.deleteBucket('cfg');
    assert.equal(a.getBucket('cfg'), undefined);
    assert.equal(a.getBucketWithConfigs('cfg', ['policy']), undefined);
  });

  it("another connection's commits: seen by the first read after the next arrival, with one data_version check per arrival", async () => {
    await a.putObject(inline('other', 'old'));
    await a.createBucket(bucket('other'));
    a.requestArrived();
    assert.equal(text(a.getObject('b', 'other')), 'old');
    assert.equal(a.getBucket('other')?.versioning, '');
    assert.equal(a.getBucketConfig('other', 'cors'), undefined);
    await b.putObject(inline('other', 'new'));
    await b.updateBucket('other', { versioning: 'Enabled' });
    await b.putBucketConfig('other', 'cors', '{"rules":[]}');
    const checks = a.hot.checks;
    a.requestArrived();
    assert.equal(text(a.getObject('b', 'other')), 'new');
    assert.equal(a.getBucket('other')?.versioning, 'Enabled');
    assert.equal(a.getBucketConfig('other', 'cors'), '{"rules":[]}');
    assert.equal(a.hot.checks, checks + 1, 'one check for the three reads');
    await b.deleteObject('b', 'other');
    a.requestArrived();
    assert.equal(a.getObject('b', 'other'), undefined);
  });

  it("the check's shortcut: arrivals with no commit anywhere since run no statement; a commit of the other connection, or of this one, runs it again", async () => {
    await a.putObject(inline('quiet', 'q1'));
    a.requestArrived();
    assert.equal(text(a.getObject('b', 'quiet')), 'q1');
    a.requestArrived();
    assert.equal(text(a.getObject('b', 'quiet')), 'q1');
    const statements = a.hot.statementChecks;
    const checks = a.hot.checks;
    for (let i = 0; i < 5; i++) {
      a.requestArrived();
      assert.equal(text(a.getObject('b', 'quiet')), 'q1');
    }
    assert.equal(a.hot.checks, checks + 5, 'one check per arrival');
    assert.equal(a.hot.statementChecks, statements, 'the wal-index header did not move: no read transaction');
    await b.putObject(inline('quiet', 'q2'));
    a.requestArrived();
    assert.equal(text(a.getObject('b', 'quiet')), 'q2', "the other connection's commit is seen");
    assert.equal(a.hot.statementChecks, statements + 1);
    await a.putObject(inline('quiet2', 'x'));
    a.requestArrived();
    a.getObject('b', 'quiet');
    assert.equal(a.hot.statementChecks, statements + 2, 'its own commit moved the header too');
    a.requestArrived();
    a.getObject('b', 'quiet');
    assert.equal(a.hot.statementChecks, statements + 2);
  });

  it('the shortcut needs the -shm file: in memory every check runs the statement', async () => {
    const mem = SqliteMetaStore.open(':memory:');
    try {
      await mem.createBucket(bucket('b'));
      await mem.putObject(inline('k', 'x'));
      const before = mem.hot.statementChecks;
      for (let i = 0; i < 3; i++) {
        mem.requestArrived();
        assert.equal(text(mem.getObject('b', 'k')), 'x');
      }
      assert.equal(mem.hot.statementChecks, before + 3);
    } finally {
      await mem.close();
    }
  });

  it('alone on the directory (othersMayWrite false): no data_version check', async () => {
    const alone = SqliteMetaStore.open(':memory:', { hot: { othersMayWrite: false } });
    try {
      await alone.createBucket(bucket('b'));
      await alone.putObject(inline('k', 'x'));
      for (let i = 0; i < 3; i++) {
        alone.requestArrived();
        assert.equal(text(alone.getObject('b', 'k')), 'x');
      }
      assert.equal(alone.hot.checks, 0);
    } finally {
      await alone.close();
    }
  });

  it('caching off (limits false): every read goes to SQLite and is right', async () => {
    const off = SqliteMetaStore.open(':memory:', { hot: { limits: false } });
    try {
      await off.createBucket(bucket('b'));
      await off.putObject(inline('k', 'x'));
      assert.equal(text(off.getObject('b', 'k')), 'x');
      assert.equal(off.hot.cache, undefined);
    } finally {
      await off.close();
    }
  });
});
