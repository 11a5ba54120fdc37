// ErasureDataStore with shards missing, truncated or corrupt, drives gone, drives failing during a
// write: byte-exact reads while at least k shards are good, a clear error below that, the write
// quorum, what the degraded sink and the drive set are told, verifyPiece and healPiece.
import assert from 'node:assert/strict';
import { open, readFile, readdir, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { StoreError } from '../../errors.js';
import { giveBack, pooledLent } from '../block-pool.js';
import { DURABILITY_CALLS, type DurabilityCalls } from '../dir.js';
import { BLOCK_HASH } from './block-hash.js';
import { SHARD_HEADER_SIZE } from './shard-format.js';
import { ErasureDataStore } from './store.js';
import { RecordingSink, countShardFiles, testDriveSet, type TestDriveSet, pattern, readAll, chunked } from './test-drives.js';

const BS = 65_536;
/** 5 full blocks and a short one: 5 · 64 KiB + 1234 bytes. */
const SIZE = 5 * BS + 1234;

/** Every pair of distinct shard indexes below n. */
const pairs = (n: number): Array<[number, number]> => {
  const out: Array<[number, number]> = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) out.push([a, b]);
  return out;
};

describe('ErasureDataStore degraded (4+2, 64 KiB blocks)', () => {
  let set: TestDriveSet;
  let sink: RecordingSink;
  let store: ErasureDataStore;
  let calls: DurabilityCalls;
  /** Drive index whose fsync of a shard file fails (injected), or -1. */
  let failSyncOn = -1;
  /** Drive indexes whose rename of a shard into place fails (injected). */
  let failRenameOn: number[] = [];
  const data = pattern(SIZE, 42);

  beforeEach(async () => {
    set = await testDriveSet(6, 2);
    sink = new RecordingSink();
    failSyncOn = -1;
    failRenameOn = [];
    calls = {
      ...DURABILITY_CALLS,
      syncFile: async (fh, path) => {
        if (failSyncOn >= 0 && path.startsWith(`${set.drives[failSyncOn]!.path}/`)) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
        await DURABILITY_CALLS.syncFile(fh, path);
      },
      rename: async (from, to) => {
        if (failRenameOn.some((i) => from.startsWith(`${set.drives[i]!.path}/`))) throw Object.assign(new Error('EIO: injected rename'), { code: 'EIO' });
        await DURABILITY_CALLS.rename(from, to);
      },
    };
    store = await ErasureDataStore.open(set, { sink, blockSize: BS, calls });
  });
  afterEach(async () => {
    await store.close();
    await set.dispose();
  });

  const shardFile = (i: number, id: string) => join(set.drives[i]!.path, 'shards', id.slice(0, 2), id);
  /** Flips one byte of block `b` of shard `i`. */
  async function corrupt(i: number, id: string, b: number): Promise<void> {
    const fh = await open(shardFile(i, id), 'r+');
    const at = SHARD_HEADER_SIZE + b * (BS / 4 + BLOCK_HASH.size) + 100;
    const one = Buffer.alloc(1);
    await fh.read(one, 0, 1, at);
    one[0] = one[0]! ^ 0x5a;
    await fh.write(one, 0, 1, at);
    await fh.close();
  }
  type Damage = 'delete' | 'corrupt' | 'truncate';
  async function damage(kind: Damage, i: number, id: string): Promise<void> {
    if (kind === 'delete') await unlink(shardFile(i, id));
    else if (kind === 'corrupt') await corrupt(i, id, 3);
    else await truncate(shardFile(i, id), SHARD_HEADER_SIZE + 2 * (BS / 4 + BLOCK_HASH.size) + 10);
  }

  for (const kind of ['delete', 'corrupt', 'truncate'] as const) {
    it(`Read › ${kind} any 2 of the 6 shards → byte-exact (whole piece and ranges); bad data shards reported to the sink`, async () => {
      for (const [a, b] of pairs(6)) {
        const ref = await store.write(chunked(data, 50_000));
        sink.calls.length = 0;
        await damage(kind, a, ref.id);
        await damage(kind, b, ref.id);
        assert.ok((await readAll(store.read(ref))).equals(data), `${kind} ${a},${b}`);
        // Ranges across a block boundary, inside one shard's part, at both ends, the last short block.
        for (const [s, e] of [
          [BS - 10, BS + 10],
          [3 * BS + 5, 3 * BS + 6],
          [0, 0],
          [SIZE - 1, SIZE - 1],
          [5 * BS, SIZE - 1],
          [BS / 4 - 1, 3 * BS + BS / 2],
        ] as const) {
          assert.ok((await readAll(store.read(ref, { start: s, end: e }))).equals(data.subarray(s, e + 1)), `${kind} ${a},${b} ${s}-${e}`);
        }
        // Reads go through the shards in index order until k are good: a bad parity shard beyond
        // those is never opened (the scrub's to find); every bad shard met is reported.
        const met: number[] = [];
        for (let i = 0, good = 0; good < 4; i++) {
          if (i === a || i === b) met.push(i);
          else good++;
        }
        const expected = met.map((i) => ({ pieceId: ref.id, drives: [i], reason: kind === 'delete' ? 'missing' : 'corrupt' }));
        const seen = sink.calls.filter((c, j) => sink.calls.findIndex((d) => d.drives[0] === c.drives[0]) === j);
        assert.deepEqual(
          seen.sort((x, y) => x.drives[0]! - y.drives[0]!),
          expected,
          `${kind} ${a},${b}`,
        );
        await store.remove(ref.id);
      }
      // A deleted shard file is told to the set as ENOENT (it checks the drive's root: one missing
      // file leaves the drive online); damaged files are no drive trouble.
      assert.deepEqual(
        set.failures.filter((f) => kind !== 'delete' || (f.err as { code?: string }).code !== 'ENOENT'),
        [],
      );
    });
  }

  it('Read › a range reads only the blocks it needs: blocks outside it unreadable (m + 1 shards corrupt there) → the range byte-exact, nothing reported', async () => {
    const ref = await store.write(chunked(data, 50_000));
    // Blocks 0 and 5 (the short last one) corrupt on three shards: more than parity can rebuild.
    for (const i of [0, 1, 2]) {
      await corrupt(i, ref.id, 0);
      await corrupt(i, ref.id, 5);
    }
    sink.calls.length = 0;
    for (const [s, e] of [
      [2 * BS + 7, 4 * BS - 1],
      [BS, BS],
      [4 * BS, 5 * BS - 1],
    ] as const) {
      assert.ok((await readAll(store.read(ref, { start: s, end: e }))).equals(data.subarray(s, e + 1)), `${s}-${e}`);
    }
    assert.deepEqual(sink.calls, [], 'no block outside the ranges was read: nothing bad met');
    // The damage is real: a read that reaches block 0 or block 5 fails.
    for (const range of [undefined, { start: 0, end: 10 }, { start: 5 * BS, end: SIZE - 1 }]) {
      await assert.rejects(readAll(store.read(ref, range)), (err: unknown) => err instanceof StoreError && err.code === 'Unavailable');
    }
  });

  it('Read › 3 shards bad (m + 1) → StoreError Unavailable naming every shard; never a wrong byte', async () => {
    const ref = await store.write(chunked(data, 50_000));
    await damage('delete', 0, ref.id);
    await damage('corrupt', 2, ref.id);
    await damage('truncate', 5, ref.id);
    const got: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of store.read(ref)) got.push(c);
      })(),
      (err: unknown) => {
        assert.ok(err instanceof StoreError && err.code === 'Unavailable', String(err));
        assert.match(err.message, /fewer than 4 usable shards/);
        assert.match(err.message, /0:missing/);
        return true;
      },
    );
    // What came before the error (blocks 0-2: the corruption is in block 3) is right.
    const before = Buffer.concat(got);
    assert.ok(before.equals(data.subarray(0, before.length)));
    assert.ok(before.length <= 3 * BS);
  });

  it('Read › two whole drive directories removed → byte-exact; a write then succeeds on the 4 left, reporting the 2', async () => {
    const ref = await store.write(chunked(data, 50_000));
    await rm(set.drives[1]!.path, { recursive: true });
    await rm(set.drives[4]!.path, { recursive: true });
    assert.ok((await readAll(store.read(ref))).equals(data));
    // The read told the set of the missing files (ENOENT): the set checks whether the drive's root
    // went with them and takes it offline then (naming it in the log).
    assert.deepEqual(set.failures.map((f) => [f.index, (f.err as { code?: string }).code]).sort(), [
      [1, 'ENOENT'],
      [4, 'ENOENT'],
    ]);
    set.failures.length = 0;
    sink.calls.length = 0;
    const ref2 = await store.write(chunked(data, 50_000));
    assert.deepEqual(sink.calls, [{ pieceId: ref2.id, drives: [1, 4], reason: 'write-failed' }]);
    assert.deepEqual(set.failures.map((f) => f.index).sort(), [1, 4]);
    assert.ok((await readAll(store.read(ref2))).equals(data));
  });

  it('Write › a drive emptied (tmp/ and shards/ gone, as a fresh drive adopted in its slot) → its shard written all the same; its root is never re-created', async () => {
    await rm(join(set.drives[2]!.path, 'tmp'), { recursive: true });
    await rm(join(set.drives[2]!.path, 'shards'), { recursive: true });
    const ref = await store.write(chunked(data, 50_000));
    assert.deepEqual(sink.calls, []);
    assert.deepEqual(set.failures, []);
    assert.ok((await readFile(shardFile(2, ref.id))).length > SHARD_HEADER_SIZE);
    await rm(set.drives[2]!.path, { recursive: true });
    const ref2 = await store.write(chunked(data, 50_000));
    assert.deepEqual(sink.calls, [{ pieceId: ref2.id, drives: [2], reason: 'write-failed' }]);
    await assert.rejects(readdir(set.drives[2]!.path), { code: 'ENOENT' });
  });

  it('Read › blockChecks false (sealed pieces) still checks and rebuilds: a corrupt data shard is never served', async () => {
    const ref = await store.write(chunked(data, 50_000));
    await corrupt(1, ref.id, 2);
    assert.ok((await readAll(store.read(ref, undefined, { blockChecks: false }))).equals(data));
    assert.deepEqual(sink.calls, [{ pieceId: ref.id, drives: [1], reason: 'corrupt' }]);
  });

  it('Write › a drive whose fsync fails → written with 5 shards, the drive reported, nothing of it left on that drive', async () => {
    failSyncOn = 3;
    const ref = await store.write(chunked(data, 50_000));
    assert.deepEqual(sink.calls, [{ pieceId: ref.id, drives: [3], reason: 'write-failed' }]);
    assert.equal(set.failures.length, 1);
    assert.equal(set.failures[0]!.index, 3);
    assert.match(String(set.failures[0]!.err), /EIO: injected/);
    await assert.rejects(readFile(shardFile(3, ref.id)), { code: 'ENOENT' });
    assert.deepEqual(await countShardFiles(set), { temp: 0, committed: 5 });
    assert.ok((await readAll(store.read(ref))).equals(data));
  });

  it('Write › renames failing on 2 drives → committed on 4 (quorum); on 3 → Unavailable and the 3 shards already in place removed', async () => {
    failRenameOn = [0, 1];
    const ref = await store.write(chunked(data, 50_000));
    assert.deepEqual(sink.calls, [{ pieceId: ref.id, drives: [0, 1], reason: 'write-failed' }]);
    assert.deepEqual(await countShardFiles(set), { temp: 0, committed: 4 });
    assert.ok((await readAll(store.read(ref))).equals(data));
    await store.remove(ref.id);
    sink.calls.length = 0;
    failRenameOn = [0, 1, 4];
    await assert.rejects(store.write(chunked(data, 50_000)), (err: unknown) => err instanceof StoreError && err.code === 'Unavailable');
    assert.deepEqual(sink.calls, []);
    assert.deepEqual(await countShardFiles(set), { temp: 0, committed: 0 });
  });

  it('Write › 3 drives unusable (paths replaced by files) → StoreError Unavailable, nothing left on the others', async () => {
    for (const i of [0, 2, 5]) {
      await rm(set.drives[i]!.path, { recursive: true });
      await writeFile(set.drives[i]!.path, 'not a directory');
    }
    await assert.rejects(
      store.write(chunked(data, 50_000)),
      (err: unknown) => err instanceof StoreError && err.code === 'Unavailable' && /fewer than 4 drives/.test(err.message),
    );
    assert.deepEqual(set.failures.map((f) => f.index).sort(), [0, 2, 5]);
    assert.deepEqual(sink.calls, []);
    for (const i of [1, 3, 4]) {
      const d = set.drives[i]!;
      assert.deepEqual(await countShardFiles({ ...set, drives: [d] }), { temp: 0, committed: 0 });
    }
  });

  it('Offline drives › skipped by writes (no I/O, sink told) and reads (not reported as missing)', async () => {
    set.drives[0]!.state = 'offline';
    const ref = await store.write(chunked(data, 50_000));
    assert.deepEqual(sink.calls, [{ pieceId: ref.id, drives: [0], reason: 'write-failed' }]);
    assert.deepEqual(set.failures, []);
    sink.calls.length = 0;
    assert.ok((await readAll(store.read(ref))).equals(data));
    assert.deepEqual(sink.calls, []);
  });

  it('verifyPiece › healthy → no bad shard; damaged ones named (parity included); a removed piece → undefined', async () => {
    const ref = await store.write(chunked(data, 50_000));
    const ok = await store.verifyPiece(ref.id);
    assert.deepEqual(ok?.bad, []);
    assert.ok(ok!.bytesRead >= 6 * (SIZE / 4));
    await damage('corrupt', 1, ref.id);
    await damage('truncate', 5, ref.id);
    assert.deepEqual((await store.verifyPiece(ref.id))?.bad, [1, 5]);
    // Scrub reports nothing itself: the heal job decides (verifyPiece only answers).
    assert.deepEqual(sink.calls, []);
    await store.remove(ref.id);
    assert.equal(await store.verifyPiece(ref.id), undefined);
  });

  it('healPiece › rebuilds missing and corrupt shards byte-identical to the originals; then verify finds nothing', async () => {
    const ref = await store.write(chunked(data, 50_000));
    const originals = await Promise.all(set.drives.map((d) => readFile(shardFile(d.index, ref.id))));
    await damage('delete', 0, ref.id);
    await damage('corrupt', 4, ref.id);
    const r = await store.healPiece(ref.id);
    assert.deepEqual(r?.healed, [0, 4]);
    assert.equal(r?.bytesWritten, 2 * originals[0]!.length);
    for (const d of set.drives) assert.ok((await readFile(shardFile(d.index, ref.id))).equals(originals[d.index]!), `shard ${d.index}`);
    assert.deepEqual((await store.verifyPiece(ref.id))?.bad, []);
    assert.deepEqual(await countShardFiles(set), { temp: 0, committed: 6 });
    assert.deepEqual(await store.healPiece(ref.id), { healed: [], bytesWritten: 0 });
    assert.equal(await store.healPiece('0'.repeat(32)), undefined);
  });

  it('healPiece › fewer than k good shards → throws, writes nothing', async () => {
    const ref = await store.write(chunked(data, 50_000));
    for (const i of [0, 1, 2]) await damage('delete', i, ref.id);
    await assert.rejects(store.healPiece(ref.id), (err: unknown) => err instanceof StoreError && err.code === 'Unavailable');
    assert.deepEqual(await countShardFiles(set), { temp: 0, committed: 3 });
  });

  it('Read › an empty piece and a one-block piece survive 2 missing shards', async () => {
    const empty = await store.write(chunked(Buffer.alloc(0)));
    const small = await store.write(chunked(data.subarray(0, 5)));
    for (const id of [empty.id, small.id]) {
      await damage('delete', 1, id);
      await damage('delete', 3, id);
    }
    assert.equal((await readAll(store.read(empty))).length, 0);
    assert.ok((await readAll(store.read(small))).equals(data.subarray(0, 5)));
  });
});

describe('ErasureDataStore mirrored (1+1)', () => {
  it('Write › quorum is both drives (k = m): one drive down → Unavailable; reads go on from either copy', async () => {
    const set = await testDriveSet(2, 1);
    const store = await ErasureDataStore.open(set, { blockSize: BS });
    try {
      const data = pattern(3 * BS + 7, 9);
      const ref = await store.write(chunked(data, 50_000));
      await unlink(join(set.drives[0]!.path, 'shards', ref.id.slice(0, 2), ref.id));
      assert.ok((await readAll(store.read(ref, { start: 10, end: 3 * BS + 6 }))).equals(data.subarray(10)));
      set.drives[1]!.state = 'offline';
      await assert.rejects(store.write(chunked(data, 50_000)), (err: unknown) => err instanceof StoreError && err.code === 'Unavailable');
      await assert.rejects(readAll(store.read(ref)), (err: unknown) => err instanceof StoreError && err.code === 'Unavailable');
    } finally {
      await store.close();
      await set.dispose();
    }
  });
});

describe('ErasureDataStore reads and the block pool (4+2, 1 MiB blocks: pooled 256 KiB shards)', () => {
  it('Read › whole and ranged reads, healthy and with data shards gone, hand back every buffer they do not pass on; so do verifyPiece and healPiece', async () => {
    const set = await testDriveSet(6, 2);
    const store = await ErasureDataStore.open(set, { blockSize: 1024 * 1024 });
    try {
      const size = 3 * 1024 * 1024 + 5000;
      const data = pattern(size, 17);
      const ref = await store.write(chunked(data, 200_000));
      /** Reads like a response does: each chunk checked, then handed back; answers the loans left. */
      const readBack = async (start: number, end: number): Promise<number> => {
        const before = pooledLent();
        const parts: Buffer[] = [];
        for await (const chunk of store.read(ref, { start, end })) {
          parts.push(Buffer.from(chunk));
          giveBack(chunk);
        }
        assert.ok(Buffer.concat(parts).equals(data.subarray(start, end + 1)), `bytes ${start}-${end}`);
        return pooledLent() - before;
      };
      const ranges: Array<[number, number]> = [
        [0, size - 1],
        [100, 200],
        [1024 * 1024 - 10, 2 * 1024 * 1024 + 300_000],
        [size - 3000, size - 1],
      ];
      for (const [s, e] of ranges) assert.equal(await readBack(s, e), 0, `healthy ${s}-${e}: buffers not handed back`);
      // Data shards 1 and 3 gone: every block is rebuilt from shards 0, 2, 4 and 5; the parity
      // shards read for it go back to the pool, and no parity is rebuilt for a read.
      for (const i of [1, 3]) await unlink(join(set.drives[i]!.path, 'shards', ref.id.slice(0, 2), ref.id));
      for (const [s, e] of ranges) assert.equal(await readBack(s, e), 0, `degraded ${s}-${e}: buffers not handed back`);
      // The scrub's check reads every shard's blocks and passes none on.
      const before = pooledLent();
      assert.deepEqual((await store.verifyPiece(ref.id))?.bad, [1, 3]);
      assert.equal(pooledLent() - before, 0, 'verifyPiece: buffers not handed back');
      // Heal reads the four good shards of each block to rebuild the two: those go back at once,
      // the two rebuilt ones once the shard writer has written them.
      const beforeHeal = pooledLent();
      assert.deepEqual((await store.healPiece(ref.id))?.healed, [1, 3]);
      assert.equal(pooledLent() - beforeHeal, 0, 'healPiece: buffers not handed back');
      assert.deepEqual((await store.verifyPiece(ref.id))?.bad, []);
      for (const i of [0, 2]) await unlink(join(set.drives[i]!.path, 'shards', ref.id.slice(0, 2), ref.id));
      for (const [s, e] of ranges) assert.equal(await readBack(s, e), 0, `healed, then 0 and 2 gone ${s}-${e}: buffers not handed back`);
    } finally {
      await store.close();
      await set.dispose();
    }
  });
});
