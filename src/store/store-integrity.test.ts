// Store.openRead over damaged data: every piece must yield exactly its recorded bytes; a missing,
// short, long or corrupt piece fails the read with StoreError('DataCorrupt'), logged with the
// bucket, key and piece, and releases its pins. Directory store (real files) and memory store.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { DirDataStore } from './data/dir.js';
import { MemoryDataStore } from './data/memory.js';
import { HEADER_SIZE } from './data/piece-format.js';
import { StoreError } from './errors.js';
import { memoryMetaStore } from './meta/memory.js';
import { Store } from './store.js';
import { NULL_VERSION, type DataRef, type ObjectRecord } from './types.js';

const MiB = 1024 * 1024;

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** Captures the store's log lines as parsed JSON. */
function captureLog(): { lines: Array<Record<string, unknown>>; log: pino.Logger } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, log: pino({ level: 'info' }, sink) };
}

/** Reads the stream; resolves with the bytes yielded and the error it failed with (if any). */
async function drain(s: Readable): Promise<{ bytes: Buffer; err?: unknown }> {
  const out: Buffer[] = [];
  try {
    for await (const c of s) out.push(c as Buffer);
  } catch (err) {
    return { bytes: Buffer.concat(out), err };
  }
  return { bytes: Buffer.concat(out) };
}

const isCorrupt = (e: unknown) => e instanceof StoreError && e.code === 'DataCorrupt';

describe('Store.openRead over damaged pieces (directory store)', () => {
  let dir: string;
  let store: Store;
  let logged: Array<Record<string, unknown>>;
  const fileOf = (ref: DataRef) => join(dir, 'objects', ref.id.slice(0, 2), ref.id);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-store-integrity-'));
    const { lines, log } = captureLog();
    logged = lines;
    store = new Store(memoryMetaStore(), await DirDataStore.open(dir), log);
    await store.createBucket('b', 'us-east-1');
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A multipart-like object: three pieces of 1.5 MiB. */
  async function putParts(key: string): Promise<{ rec: ObjectRecord; body: Buffer }> {
    const parts = [pattern(1.5 * MiB, 1), pattern(1.5 * MiB, 2), pattern(1.5 * MiB, 3)];
    const data: DataRef[] = [];
    for (const p of parts) data.push(await store.writeData(once(p)));
    const body = Buffer.concat(parts);
    const rec: ObjectRecord = {
      bucket: 'b',
      key,
      versionId: NULL_VERSION,
      isLatest: true,
      isDeleteMarker: false,
      size: body.length,
      etag: `"${createHash('md5').update(body).digest('hex')}-3"`,
      lastModified: Date.now(),
      storageClass: 'STANDARD',
      meta: { user: {} },
      data,
      parts: parts.map((p) => p.length),
    };
    await store.commitObject(rec);
    return { rec, body };
  }

  it('openRead › second piece truncated → DataCorrupt after the first piece only; logged with bucket, key, piece, file', async () => {
    const { rec, body } = await putParts('multi/obj');
    await truncate(fileOf(rec.data[1]!), 1000);
    const got = await drain(store.openRead((await store.getObject('b', 'multi/obj'))!));
    assert.ok(isCorrupt(got.err), String(got.err));
    assert.ok(body.subarray(0, got.bytes.length).equals(got.bytes), 'only correct bytes');
    assert.ok(got.bytes.length <= 1.5 * MiB, 'nothing of the damaged piece');
    const line = logged.find((l) => l.msg === 'object data damaged: not served');
    assert.ok(line, JSON.stringify(logged));
    assert.equal(line.level, 50);
    assert.equal(line.bucket, 'b');
    assert.equal(line.key, 'multi/obj');
    assert.equal(line.dataId, rec.data[1]!.id);
    assert.equal(line.file, fileOf(rec.data[1]!));
    assert.equal(line.fault, 'length');
    assert.deepEqual(store.pinStats(), { pinnedIds: 0, deferredFrees: 0, leases: 0 });
  });

  it('openRead › flipped byte in the third piece → whole read fails with checksum; ranges off the damaged block succeed', async () => {
    const { rec, body } = await putParts('flip');
    const fh = await open(fileOf(rec.data[2]!), 'r+');
    await fh.write(Buffer.from([0xff ^ body[3 * MiB + 10]!]), 0, 1, HEADER_SIZE + 10); // block 0 of piece 3
    await fh.close();
    const whole = await drain(store.openRead((await store.getObject('b', 'flip'))!));
    assert.ok(isCorrupt(whole.err));
    assert.equal(logged.find((l) => l.msg === 'object data damaged: not served')?.fault, 'checksum');
    // Bytes 0..3 MiB + 1 MiB - 1 of piece 3 (its block 0) are damaged; its block 1 and the other pieces are not.
    const ok = await drain(store.openRead((await store.getObject('b', 'flip'))!, { start: 100, end: 3 * MiB - 1 }));
    assert.equal(ok.err, undefined);
    assert.ok(ok.bytes.equals(body.subarray(100, 3 * MiB)));
    const tail = await drain(store.openRead((await store.getObject('b', 'flip'))!, { start: 4 * MiB, end: body.length - 1 }));
    assert.ok(tail.bytes.equals(body.subarray(4 * MiB)));
    const touching = await drain(store.openRead((await store.getObject('b', 'flip'))!, { start: 3 * MiB - 5, end: 3 * MiB + 5 }));
    assert.ok(isCorrupt(touching.err));
    assert.deepEqual(store.pinStats(), { pinnedIds: 0, deferredFrees: 0, leases: 0 });
  });

  it('openRead › sealed piece (read without block checks): a flipped byte → DataCorrupt (fault sealed), ranges before it served; another key refused', async () => {
    const key = Buffer.alloc(32, 9);
    const body = pattern(1.5 * MiB, 5);
    const ref = await store.writeData(once(body), undefined, key);
    assert.equal(ref.size, body.length);
    const rec: ObjectRecord = {
      bucket: 'b',
      key: 'sealed',
      versionId: NULL_VERSION,
      isLatest: true,
      isDeleteMarker: false,
      size: body.length,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      lastModified: Date.now(),
      storageClass: 'STANDARD',
      meta: { user: {} },
      data: [ref],
      sse: { mode: 'AES256', keyId: 'k', dataKey: 'AA==' },
    };
    await store.commitObject(rec);
    const read = async (range?: { start: number; end: number }, k = key) => drain(store.openRead((await store.getObject('b', 'sealed'))!, range, k));
    const whole = await read();
    assert.equal(whole.err, undefined);
    assert.ok(whole.bytes.equals(body));
    // Package 3 (plaintext bytes 192 KiB..256 KiB) damaged on disk, inside the piece's first checksum block.
    const fh = await open(fileOf(ref), 'r+');
    const at = HEADER_SIZE + 32 + 3 * (64 * 1024 + 16) + 100;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0]! ^= 0x04;
    await fh.write(b, 0, 1, at);
    await fh.close();
    const bad = await read();
    assert.ok(isCorrupt(bad.err), String(bad.err));
    assert.ok(body.subarray(0, bad.bytes.length).equals(bad.bytes), 'only correct bytes');
    assert.ok(bad.bytes.length <= 3 * 64 * 1024, 'nothing of the damaged package');
    assert.equal(logged.find((l) => l.msg === 'object data damaged: not served')?.fault, 'sealed');
    const before = await read({ start: 10, end: 3 * 64 * 1024 - 1 });
    assert.equal(before.err, undefined);
    assert.ok(before.bytes.equals(body.subarray(10, 3 * 64 * 1024)));
    const after = await read({ start: 4 * 64 * 1024, end: body.length - 1 });
    assert.ok(after.bytes.equals(body.subarray(4 * 64 * 1024)));
    assert.ok(isCorrupt((await read({ start: 0, end: 10 }, Buffer.alloc(32, 8))).err), 'another key');
    assert.deepEqual(store.pinStats(), { pinnedIds: 0, deferredFrees: 0, leases: 0 });
  });

  it('openRead › a record whose pieces do not add up to its size → DataCorrupt, logged', async () => {
    const { rec } = await putParts('sizes');
    const bad = { ...(await store.getObject('b', 'sizes'))!, size: rec.size + 10 };
    const got = await drain(store.openRead(bad));
    assert.ok(isCorrupt(got.err));
    assert.ok(logged.some((l) => l.msg === 'object record damaged: its pieces do not add up to its size' && l.key === 'sizes'));
  });
});

describe('Store.openRead over damaged pieces (memory store)', () => {
  it('openRead › a piece shorter or longer than its record, or gone → DataCorrupt, nothing of that piece served', async () => {
    const data = new MemoryDataStore();
    const { lines, log } = captureLog();
    const store = new Store(memoryMetaStore(), data, log);
    await store.createBucket('b', 'us-east-1');
    for (const [what, damage] of [
      ['short', (id: string) => data.damage(id, Buffer.from('abc'))],
      ['long', (id: string) => data.damage(id, Buffer.alloc(20, 1))],
      ['gone', (id: string) => void data.remove(id)],
    ] as const) {
      const ref = await store.writeData(once(Buffer.alloc(10, 7)));
      const rec: ObjectRecord = {
        bucket: 'b',
        key: what,
        versionId: NULL_VERSION,
        isLatest: true,
        isDeleteMarker: false,
        size: 10,
        etag: '"e"',
        lastModified: Date.now(),
        storageClass: 'STANDARD',
        meta: { user: {} },
        data: [ref],
      };
      await store.commitObject(rec);
      await damage(ref.id);
      const got = await drain(store.openRead((await store.getObject('b', what))!));
      assert.ok(isCorrupt(got.err), `${what}: ${String(got.err)}`);
      assert.equal(got.bytes.length, 0, what);
      assert.ok(
        lines.some((l) => l.key === what && l.dataId === ref.id),
        `${what} logged`,
      );
    }
  });
});

describe('Store.openRead of inline objects (the copy paths)', () => {
  it('openRead › inline bytes that no longer match the ETag (MD5) or the size → DataCorrupt, logged; intact ones read', async () => {
    const { lines, log } = captureLog();
    const store = new Store(memoryMetaStore(), new MemoryDataStore(), log);
    await store.createBucket('b', 'us-east-1');
    const good = Buffer.from('small inline object');
    const rec = (key: string, inline: Buffer, size = good.length): ObjectRecord => ({
      bucket: 'b',
      key,
      versionId: NULL_VERSION,
      isLatest: true,
      isDeleteMarker: false,
      size,
      etag: `"${createHash('md5').update(good).digest('hex')}"`,
      lastModified: Date.now(),
      storageClass: 'STANDARD',
      meta: { user: {} },
      data: [],
      inline,
    });
    assert.ok((await drain(store.openRead(rec('ok', good)))).bytes.equals(good));
    const flipped = Buffer.from(good);
    flipped[3]! ^= 1;
    assert.throws(() => store.openRead(rec('flipped', flipped)), isCorrupt);
    assert.throws(() => store.openRead(rec('short', good.subarray(1))), isCorrupt);
    assert.ok(lines.some((l) => l.msg === 'object data damaged: not served' && l.key === 'flipped' && l.inline === true));
  });
});
