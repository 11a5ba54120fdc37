// Large pieces (batch-writer.ts, the block hashes of hash-offload.ts): few large writes and one
// file sync per piece, block checksums right for every block wherever they were computed, and a
// damaged block in the middle of a large piece stops the read before any of its bytes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { PieceError } from '../errors.js';
import { offloadStats, openOffloadStreams, setHashOffload } from '../hash-offload.js';
import { DirDataStore, DURABILITY_CALLS, type DurabilityCalls } from './dir.js';
import { WRITE_BATCH } from './batch-writer.js';
import { BLOCK_SIZE, HASH_SHA256, HASH_XXH3_128, HEADER_SIZE, PIECE_SHA256, PIECE_XXH3_128 } from './piece-format.js';

const MiB = 1024 * 1024;

async function* inChunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

describe('DirDataStore, large pieces', () => {
  let root: string;
  let store: DirDataStore;
  const calls: string[] = [];
  beforeEach(async () => {
    setHashOffload(true); // off until serve.ts turns it on; the cases below say when they want it off
    root = await mkdtemp(join(tmpdir(), 'strata-large-'));
    calls.length = 0;
    const counting: DurabilityCalls = {
      syncFile: (fh, path) => (calls.push('syncFile'), DURABILITY_CALLS.syncFile(fh, path)),
      rename: (a, b) => (calls.push('rename'), DURABILITY_CALLS.rename(a, b)),
      syncDir: (path, why) => (calls.push(`syncDir:${why}`), DURABILITY_CALLS.syncDir(path, why)),
    };
    store = await DirDataStore.open(root, counting);
  });
  /**
   * The header names `hashId`; the footer's digests, block by block, are that hash's of the data
   * (SHA-256 computed here by node:crypto, XXH3-128 by the block hash module); the piece reads back whole.
   */
  const checkFooterAndRead = async (ref: Awaited<ReturnType<DirDataStore['write']>>, data: Buffer, hashId: number) => {
    const file = await readFile(join(root, 'objects', ref.id.slice(0, 2), ref.id));
    assert.equal(file.readUInt32BE(24), hashId, 'the block hash the header names');
    const size = hashId === HASH_SHA256 ? PIECE_SHA256.size : PIECE_XXH3_128.size;
    for (let b = 0; b < Math.ceil(data.length / BLOCK_SIZE); b++) {
      const block = data.subarray(b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE);
      const want = hashId === HASH_SHA256 ? createHash('sha256').update(block).digest() : PIECE_XXH3_128.digest(block);
      const at = HEADER_SIZE + data.length + b * size;
      assert.ok(file.subarray(at, at + size).equals(want), `block ${b}`);
    }
    const back: Buffer[] = [];
    for await (const c of store.read(ref)) back.push(c);
    assert.ok(Buffer.concat(back).equals(data));
  };
  /** Flips a byte at `at` in block `block` of the piece, then reads it: the blocks before it, then PieceError checksum naming it. */
  const damageAndRead = async (ref: Awaited<ReturnType<DirDataStore['write']>>, data: Buffer, block: number, at: number) => {
    const fh = await open(join(root, 'objects', ref.id.slice(0, 2), ref.id), 'r+');
    await fh.write(Buffer.from([data[block * MiB + at]! ^ 0x40]), 0, 1, HEADER_SIZE + block * MiB + at);
    await fh.close();
    const served: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of store.read(ref)) served.push(c);
      })(),
      (e) => e instanceof PieceError && e.fault === 'checksum' && new RegExp(`block ${block}`).test(e.message),
    );
    assert.ok(Buffer.concat(served).equals(data.subarray(0, block * MiB)));
  };
  afterEach(async () => {
    setHashOffload(false);
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it('5 MiB in 64 KiB chunks → writes of at least 1 MiB (the last may be less), one file sync, the blocks checksummed', async () => {
    const data = randomBytes(5 * MiB + 123);
    calls.length = 0;
    const ref = await store.write(inChunks(data, 64 * 1024));
    const stats = store.writeStats;
    // Header + 5 MiB + 123 bytes + footer: five full batches and the rest, never 64 KiB at a time.
    assert.ok(stats.writes <= Math.ceil((data.length + HEADER_SIZE) / WRITE_BATCH) + 1, `${stats.writes} writes`);
    assert.ok(stats.smallestInner >= WRITE_BATCH, `smallest write before the last: ${stats.smallestInner}`);
    assert.deepEqual(
      calls.filter((c) => c !== 'syncDir:shard'),
      ['syncFile', 'rename', 'syncDir:dir'],
    );
    // The footer's digests, block by block, are those of the data (block 0 hashed in place, the rest
    // off-thread, which runs SHA-256: the piece says so).
    await checkFooterAndRead(ref, data, HASH_SHA256);
  });

  it('three large pieces written at once, in odd chunk sizes → each reads back whole', async () => {
    const bodies = [randomBytes(3 * MiB + 1), randomBytes(2 * MiB - 7), randomBytes(4 * MiB)];
    const refs = await Promise.all(bodies.map((b, i) => store.write(inChunks(b, 4093 + i * 50_000))));
    for (const [i, ref] of refs.entries()) {
      const back: Buffer[] = [];
      for await (const c of store.read(ref)) back.push(c);
      assert.ok(Buffer.concat(back).equals(bodies[i]!), `piece ${i}`);
    }
    assert.equal(openOffloadStreams(), 0);
  });

  it('a damaged byte in block 3 of a 6 MiB piece → blocks 0–2 are served as written, then PieceError checksum, nothing of block 3', async () => {
    const data = randomBytes(6 * MiB);
    const ref = await store.write(inChunks(data, 64 * 1024));
    await damageAndRead(ref, data, 3, 777);
  });

  it('offload off (every core runs a worker): the blocks are hashed in place with XXH3-128, the header says so, a damaged block still stops the read', async () => {
    setHashOffload(false);
    try {
      const data = randomBytes(4 * MiB + 5);
      const before = offloadStats.streams;
      const ref = await store.write(inChunks(data, 64 * 1024));
      await checkFooterAndRead(ref, data, HASH_XXH3_128);
      assert.equal(offloadStats.streams, before, 'nothing went to the hash worker');
      await damageAndRead(ref, data, 2, 9);
    } finally {
      setHashOffload(true);
    }
  });

  it('a SHA-256 piece (written with the offload on, or before XXH3-128) read with the offload off: checked in place, a damaged block still stops the read', async () => {
    const data = randomBytes(3 * MiB + 11);
    const ref = await store.write(inChunks(data, 64 * 1024));
    setHashOffload(false);
    const before = offloadStats.streams;
    await checkFooterAndRead(ref, data, HASH_SHA256);
    await damageAndRead(ref, data, 1, 4242);
    assert.equal(offloadStats.streams, before, 'nothing went to the hash worker');
  });

  it('an XXH3-128 piece read with the offload on: checked in place (the threads run SHA-256 only), a damaged block still stops the read', async () => {
    setHashOffload(false);
    const data = randomBytes(3 * MiB + 11);
    const ref = await store.write(inChunks(data, 64 * 1024));
    setHashOffload(true);
    await checkFooterAndRead(ref, data, HASH_XXH3_128);
    await damageAndRead(ref, data, 2, 1);
  });

  it('a source that fails after several MiB → rejected, nothing remains, no hash stream left open', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield* inChunks(randomBytes(3 * MiB), 65536);
      throw new Error('client went away');
    }
    await assert.rejects(store.write(failing()), /client went away/);
    for (let i = 0; i < 100 && openOffloadStreams() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(openOffloadStreams(), 0);
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });
});
