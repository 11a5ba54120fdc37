// ErasureDataStore: the DataStore contract at 4+2 over six drives and mirrored over two, plus the
// on-disk layout and the per-object parity.
import assert from 'node:assert/strict';
import { readFile, readdir, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runDataStoreContract } from '../../contract-data.js';
import { BLOCK_HASH } from './block-hash.js';
import { parseShardHeader, SHARD_HEADER_SIZE } from './shard-format.js';
import { ErasureDataStore, writeQuorum } from './store.js';
import { RecordingSink, countShardFiles, testDriveSet, type TestDriveSet, readAll, chunked } from './test-drives.js';

for (const [n, parity] of [
  [6, 2],
  [2, 1],
] as const) {
  runDataStoreContract(
    `erasure ${n - parity}+${parity}`,
    async () => {
      const set = await testDriveSet(n, parity);
      let current = await ErasureDataStore.open(set);
      let planted = 0;
      return {
        store: current,
        reopen: async () => {
          await current.close();
          current = await ErasureDataStore.open(set);
          return current;
        },
        leftovers: () => countShardFiles(set),
        plantTemp: () => writeFile(join(set.drives[planted % n]!.path, 'tmp', `leftover-${planted++}`), 'partial'),
        dispose: () => set.dispose(),
      };
    },
    { persistent: true },
  );
}

describe('ErasureDataStore layout', () => {
  let set: TestDriveSet;
  let sink: RecordingSink;
  let store: ErasureDataStore;
  beforeEach(async () => {
    set = await testDriveSet(6, 2, 1);
    sink = new RecordingSink();
    store = await ErasureDataStore.open(set, { sink, blockSize: 65_536 });
  });
  afterEach(async () => {
    await store.close();
    await set.dispose();
  });

  it('Write › one shard per drive under shards/<xx>/<id>, headers naming piece, shard, geometry, hash and size; tmp/ empty', async () => {
    const data = Buffer.alloc(200_000, 7);
    const ref = await store.write(chunked(data));
    for (const d of set.drives) {
      assert.deepEqual(await readdir(join(d.path, 'tmp')), []);
      const file = await readFile(join(d.path, 'shards', ref.id.slice(0, 2), ref.id));
      const h = parseShardHeader(file.subarray(0, SHARD_HEADER_SIZE));
      assert.deepEqual(h, { id: ref.id, index: d.index, k: 4, m: 2, blockSize: 65_536, hash: BLOCK_HASH.name, size: 200_000 });
      // 4 blocks: 3 full (16 KiB shards) and one of 3392 bytes (848-byte shards), each with its digest.
      const D = BLOCK_HASH.size;
      assert.equal(file.length, SHARD_HEADER_SIZE + 3 * (16_384 + D) + 848 + D);
    }
    // Data shards hold the block's bytes as they are (systematic code): shard 1 of block 0 = bytes 16384..32767.
    const s1 = await readFile(join(set.drives[1]!.path, 'shards', ref.id.slice(0, 2), ref.id));
    assert.ok(s1.subarray(SHARD_HEADER_SIZE, SHARD_HEADER_SIZE + 16_384).equals(data.subarray(16_384, 32_768)));
    assert.deepEqual(sink.calls, []);
    assert.deepEqual(set.failures, []);
  });

  it('Write › storage class REDUCED_REDUNDANCY → its parity (5+1), recorded in the headers; read back without the record knowing', async () => {
    const data = Buffer.alloc(100_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    const ref = await store.write(chunked(data), undefined, { storageClass: 'REDUCED_REDUNDANCY' });
    const file = await readFile(join(set.drives[5]!.path, 'shards', ref.id.slice(0, 2), ref.id));
    const h = parseShardHeader(file.subarray(0, SHARD_HEADER_SIZE));
    assert.ok(!('error' in h));
    assert.equal(h.k, 5);
    assert.equal(h.m, 1);
    assert.ok((await readAll(store.read(ref))).equals(data));
    assert.ok((await readAll(store.read(ref, { start: 70_000, end: 99_999 }))).equals(data.subarray(70_000)));
  });

  it('Write quorum › k, or k + 1 when k = m', () => {
    assert.equal(writeQuorum(4, 2), 4);
    assert.equal(writeQuorum(1, 1), 2);
    assert.equal(writeQuorum(3, 3), 4);
    assert.equal(writeQuorum(1, 2), 1);
  });

  it('sweepTemp(before) › only temp files older than the bound, on every drive; listIds(before) only pieces all of whose shards are older', async () => {
    const old = (Date.now() - 3_600_000) / 1000;
    await writeFile(join(set.drives[3]!.path, 'tmp', 'old'), 'x');
    await utimes(join(set.drives[3]!.path, 'tmp', 'old'), old, old);
    await writeFile(join(set.drives[4]!.path, 'tmp', 'new'), 'x');
    assert.equal(await store.sweepTemp(Date.now() - 60_000), 1);
    assert.deepEqual(await readdir(join(set.drives[4]!.path, 'tmp')), ['new']);
    const ref = await store.write(chunked(Buffer.alloc(10, 3)));
    for (const d of set.drives) await utimes(join(d.path, 'shards', ref.id.slice(0, 2), ref.id), old, old);
    const listed = async () => {
      const out: string[] = [];
      for await (const id of store.listIds(Date.now() - 60_000)) out.push(id);
      return out;
    };
    assert.deepEqual(await listed(), [ref.id]);
    // One shard rewritten recently (a heal): not yet an orphan candidate.
    await utimes(join(set.drives[2]!.path, 'shards', ref.id.slice(0, 2), ref.id), new Date(), new Date());
    assert.deepEqual(await listed(), []);
  });

  it('pieceIds / listIds › the union across drives; pieceIds(i) only the pieces with a shard on drive i', async () => {
    const a = await store.write(chunked(Buffer.alloc(10, 1)));
    const b = await store.write(chunked(Buffer.alloc(10, 2)));
    // b's shards survive only on drive 5.
    for (const d of set.drives.slice(0, 5)) await unlink(join(d.path, 'shards', b.id.slice(0, 2), b.id));
    const all: string[] = [];
    for await (const id of store.pieceIds()) all.push(id);
    assert.deepEqual(all, [a.id, b.id].sort());
    const on0: string[] = [];
    for await (const id of store.pieceIds(0)) on0.push(id);
    assert.deepEqual(on0, [a.id]);
    const listed: string[] = [];
    for await (const id of store.listIds(Date.now() + 60_000)) listed.push(id);
    assert.deepEqual(listed, [a.id, b.id].sort());
  });
});
