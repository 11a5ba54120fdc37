// The HealQueueStore contract (heal-queue.ts): reports added and deduped by (piece, drive) with the
// first report kept and the last one moved; due entries by next try; entriesOf; remove that keeps a
// shard reported again after `reportedBy`; postpone with one more attempt; counts; the degraded
// pieces in piece id order, paged. Each implementation's test file calls runHealQueueContract.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Maybe } from './contract.js';
import type { HealQueueStore } from './heal-queue.js';

export function runHealQueueContract(name: string, open: () => Promise<{ queue: HealQueueStore; close: () => Maybe<void> }>): void {
  describe(`HealQueueStore contract: ${name}`, () => {
    it('add › new shards counted, a shard reported again keeps its first report and moves its last; counts', async () => {
      const { queue: q, close } = await open();
      try {
        assert.deepEqual(q.counts(), { shards: 0, pieces: 0, byDrive: {} });
        assert.equal(await q.add([]), 0);
        assert.equal(
          await q.add([
            { pieceId: 'p1', drive: 1, reason: 'missing', at: 1000 },
            { pieceId: 'p1', drive: 3, reason: 'corrupt', at: 2000 },
            { pieceId: 'p2', drive: 0, reason: 'write-failed', at: 2000 },
          ]),
          3,
        );
        assert.equal(await q.add([{ pieceId: 'p1', drive: 3, reason: 'scrub', at: 5000 }]), 0);
        assert.equal(await q.add([{ pieceId: 'p1', drive: 3, reason: 'scrub', at: 4000 }]), 0, 'an older report moves nothing');
        assert.deepEqual(q.counts(), { shards: 3, pieces: 2, byDrive: { 0: 1, 1: 1, 3: 1 }, oldest: 1000 });
        assert.deepEqual(q.entriesOf('p1'), [
          { pieceId: 'p1', drive: 1, reason: 'missing', firstSeen: 1000, lastSeen: 1000, attempts: 0, nextTry: 1000 },
          { pieceId: 'p1', drive: 3, reason: 'corrupt', firstSeen: 2000, lastSeen: 5000, attempts: 0, nextTry: 2000 },
        ]);
        assert.deepEqual(q.entriesOf('nope'), []);
      } finally {
        await close();
      }
    });

    it('due, postpone, remove › next try ≤ now in next-try order; postponed shards wait; a shard reported after reportedBy stays', async () => {
      const { queue: q, close } = await open();
      try {
        await q.add([
          { pieceId: 'a', drive: 0, reason: 'missing', at: 300 },
          { pieceId: 'b', drive: 1, reason: 'missing', at: 100 },
          { pieceId: 'c', drive: 2, reason: 'missing', at: 200 },
        ]);
        assert.deepEqual(
          q.due(250, 10).map((e) => e.pieceId),
          ['b', 'c'],
        );
        assert.deepEqual(
          q.due(1000, 2).map((e) => e.pieceId),
          ['b', 'c'],
          'the limit',
        );
        assert.deepEqual(q.due(1000, 0), []);
        await q.postpone('b', [1], 5000);
        assert.deepEqual(
          q.due(1000, 10).map((e) => e.pieceId),
          ['c', 'a'],
        );
        assert.deepEqual([q.entriesOf('b')[0]!.attempts, q.entriesOf('b')[0]!.nextTry], [1, 5000]);
        await q.add([{ pieceId: 'c', drive: 2, reason: 'corrupt', at: 900 }]);
        await q.remove('c', [2], 800); // reported again at 900: stays
        assert.equal(q.entriesOf('c').length, 1);
        await q.remove('c', [2], 900);
        await q.remove('a', [0, 7], Number.MAX_SAFE_INTEGER);
        assert.deepEqual(q.entriesOf('c'), []);
        assert.deepEqual(q.counts(), { shards: 1, pieces: 1, byDrive: { 1: 1 }, oldest: 100 });
      } finally {
        await close();
      }
    });

    it('degraded › pieces in piece id order with their drives, paged with after', async () => {
      const { queue: q, close } = await open();
      try {
        await q.add([
          { pieceId: 'p2', drive: 4, reason: 'missing', at: 10 },
          { pieceId: 'p2', drive: 1, reason: 'corrupt', at: 20 },
          { pieceId: 'p1', drive: 0, reason: 'scrub', at: 30 },
          { pieceId: 'p3', drive: 2, reason: 'missing', at: 40 },
        ]);
        await q.postpone('p2', [4], 99);
        const all = q.degraded(10);
        assert.deepEqual(
          all.map((p) => [p.pieceId, p.drives]),
          [
            ['p1', [0]],
            ['p2', [1, 4]],
            ['p3', [2]],
          ],
        );
        assert.deepEqual([all[1]!.reason, all[1]!.firstSeen, all[1]!.attempts, all[1]!.nextTry], ['corrupt', 10, 1, 20]);
        assert.deepEqual(
          q.degraded(1, 'p1').map((p) => p.pieceId),
          ['p2'],
        );
        assert.deepEqual(q.degraded(0), []);
      } finally {
        await close();
      }
    });
  });
}
