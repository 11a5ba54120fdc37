import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLOCK, giveBack, pooledFree, takeBlock } from './block-pool.js';

describe('block pool (block-pool.ts)', () => {
  it('lends 1 MiB buffers of their own memory; a buffer handed back (or a view of it) is lent again', () => {
    const a = takeBlock(BLOCK);
    const b = takeBlock(BLOCK);
    assert.equal(a.length, BLOCK);
    assert.notEqual(a.buffer, b.buffer);
    assert.equal(a.byteOffset, 0);
    const before = pooledFree();
    giveBack(a.subarray(10, 20));
    assert.equal(pooledFree(), before + 1);
    assert.equal(takeBlock(BLOCK), a);
    giveBack(a);
    giveBack(b);
  });

  it('a second hand-back of one loan is ignored (never two readers on one buffer); so are buffers it did not lend', () => {
    const a = takeBlock(BLOCK);
    const before = pooledFree();
    giveBack(a);
    giveBack(a);
    giveBack(a.subarray(1));
    assert.equal(pooledFree(), before + 1);
    giveBack(Buffer.allocUnsafe(BLOCK));
    giveBack(Buffer.alloc(16));
    assert.equal(pooledFree(), before + 1);
    // Lent again, then handed back once more: one entry again.
    const again = takeBlock(BLOCK);
    assert.equal(again, a);
    assert.equal(pooledFree(), before);
    giveBack(again);
    assert.equal(pooledFree(), before + 1);
  });

  it('below 64 KiB: plain new buffers, never pooled; other sizes pooled by their length', () => {
    const small = takeBlock(4096);
    assert.equal(small.length, 4096);
    const before = pooledFree();
    giveBack(small);
    assert.equal(pooledFree(), before);
    const shard = takeBlock(256 * 1024 + 16);
    giveBack(shard.subarray(0, 256 * 1024));
    assert.equal(pooledFree(), before + 1);
    assert.equal(takeBlock(BLOCK).length, BLOCK, 'a 1 MiB loan is never a buffer of another size');
    assert.equal(takeBlock(256 * 1024 + 16), shard);
  });

  it('keeps at most 24 MiB of free buffers', () => {
    const taken = Array.from({ length: 40 }, () => takeBlock(BLOCK));
    for (const t of taken) giveBack(t);
    assert.ok(pooledFree() <= 24, `${pooledFree()} free`);
    assert.ok(pooledFree() >= 20);
  });
});
