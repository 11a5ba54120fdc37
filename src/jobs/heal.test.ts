// The heal queue (format 11) and the heal job, with a fake erasure store: reports are batched and
// deduped without waiting, survive a reopen (and an old database upgrades to hold them); the job
// heals due pieces, counts the bytes, puts off shards of offline drives and failed heals with a
// doubling backoff, and keeps a shard reported again while it was being healed.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryDataStore } from '../store/data/memory.js';
import { HEAL_SINK_REPEAT_MS, HealSink } from '../store/heal-queue.js';
import { SqliteMetaStore } from '../store/meta/sqlite.js';
import { Store } from '../store/store.js';
import { FakeErasure, round } from './fake-erasure.js';
import { BACKOFF_BASE_MS, HEAL_JOB, type HealTotals, healJob, ORPHAN_AGE_MS } from './heal.js';

describe('heal queue and heal job', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-heal-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('HealSink › reports return at once, are written after the turn in one batch, deduped by piece and drive; the queue survives a reopen', async () => {
    const p = join(dir, 'queue.db');
    const meta = SqliteMetaStore.open(p);
    let clock = 1000;
    const sink = new HealSink(meta.healQueue, undefined, () => clock);
    sink.degraded('p1', [1, 3], 'missing');
    clock = 2000;
    sink.degraded('p1', [3], 'corrupt');
    sink.degraded('p2', [0], 'write-failed');
    assert.equal(sink.waiting, 3, 'nothing written yet: degraded() never waits on the store');
    assert.equal(meta.healQueue.counts().shards, 0);
    await sink.flush();
    assert.deepEqual(meta.healQueue.counts(), { shards: 3, pieces: 2, byDrive: { 0: 1, 1: 1, 3: 1 }, oldest: 1000 });
    // Reported again later: still one entry, its first report kept, its last report moved.
    clock = 5000;
    sink.degraded('p1', [3], 'corrupt');
    await sink.flush();
    const e3 = meta.healQueue.entriesOf('p1').find((e) => e.drive === 3)!;
    assert.deepEqual([e3.firstSeen, e3.lastSeen, e3.attempts, e3.reason], [2000, 5000, 0, 'corrupt']);
    await sink.close();
    await meta.close();
    const again = SqliteMetaStore.open(p);
    try {
      assert.deepEqual(
        again.healQueue.entriesOf('p1').map((e) => [e.drive, e.reason, e.firstSeen]),
        [
          [1, 'missing', 1000],
          [3, 'corrupt', 2000],
        ],
      );
      assert.equal(again.healQueue.due(1500, 10).length, 1, 'due: next try ≤ now');
      assert.equal(again.healQueue.due(10_000, 10).length, 3);
    } finally {
      await again.close();
    }
  });

  it('HealSink › reports made in a burst of one turn → one write; a write that fails is retried, nothing lost', async () => {
    const meta = SqliteMetaStore.open(':memory:');
    let adds = 0;
    let failNext = true;
    const queue = Object.create(meta.healQueue) as typeof meta.healQueue;
    queue.add = (reports) => {
      adds++;
      if (failNext) {
        failNext = false;
        throw new Error('database is locked');
      }
      return meta.healQueue.add(reports);
    };
    const sink = new HealSink(queue);
    for (let i = 0; i < 50; i++) sink.degraded(`p${i % 10}`, [i % 2], 'missing');
    await sink.flush();
    assert.equal(adds, 1);
    assert.equal(meta.healQueue.counts().shards, 0, 'the failed write wrote nothing');
    assert.equal(sink.waiting, 10, 'kept for the retry');
    await sink.flush();
    assert.equal(meta.healQueue.counts().pieces, 10);
    assert.equal(sink.waiting, 0);
    await sink.close();
    await meta.close();
  });

  it('HealSink › a shard reported again within HEAL_SINK_REPEAT_MS is held back, then written once with its latest report; close() writes what is held', async () => {
    const meta = SqliteMetaStore.open(':memory:');
    const batches: string[][] = [];
    const queue = Object.create(meta.healQueue) as typeof meta.healQueue;
    queue.add = (reports) => {
      batches.push(reports.map((r) => `${r.pieceId}/${r.drive}@${r.at}`));
      return meta.healQueue.add(reports);
    };
    let clock = 10_000;
    const sink = new HealSink(queue, undefined, () => clock);
    /** Waits until the sink made `n` writes in all (bounded). */
    const writes = async (n: number, ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (batches.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      assert.equal(batches.length, n, `${n} writes: ${JSON.stringify(batches)}`);
    };
    sink.degraded('hot', [2], 'missing');
    await writes(1, 2000);
    // Later turns report the same shard again (a hot object read over and over) and another one.
    clock = 10_200;
    sink.degraded('hot', [2], 'missing');
    sink.degraded('cold', [0], 'missing');
    await writes(2, 2000);
    assert.deepEqual(batches[1], ['cold/0@10200'], 'the new shard is written at once, the repeated one is not');
    assert.equal(sink.waiting, 1, 'held, not dropped');
    clock = 10_500;
    for (let i = 0; i < 20; i++) {
      sink.degraded('hot', [2], 'missing');
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(batches.length, 2, 'twenty more turns of reports: no write');
    // Once HEAL_SINK_REPEAT_MS has passed, the held report is written with its latest time.
    clock = 11_100;
    await writes(3, HEAL_SINK_REPEAT_MS + 2000);
    assert.deepEqual(batches[2], ['hot/2@10500']);
    assert.equal(meta.healQueue.entriesOf('hot')[0]!.lastSeen, 10_500, 'the entry took the later report');
    // Held again, and close() writes it rather than losing it.
    clock = 11_300;
    sink.degraded('hot', [2], 'corrupt');
    await new Promise((r) => setImmediate(r));
    assert.equal(batches.length, 3);
    await sink.close();
    assert.deepEqual(batches[3], ['hot/2@11300']);
    await meta.close();
  });

  it('heal job › due pieces healed, entries removed, bytes counted in the job state', async () => {
    const store = new Store(SqliteMetaStore.open(':memory:'), new MemoryDataStore());
    const fake = new FakeErasure(6);
    for (let i = 0; i < 10; i++) fake.add(`p${i}`, 1000, [i % 6]);
    fake.add('p0', 1000, [0, 4]);
    await store.healQueue.add([...Array(10).keys()].map((i) => ({ pieceId: `p${i}`, drive: i % 6, reason: 'missing' as const, at: 1 })));
    await store.healQueue.add([{ pieceId: 'p0', drive: 4, reason: 'corrupt', at: 1 }]);
    const job = healJob(store, fake, { now: () => 100 });
    await round(job);
    assert.equal(store.healQueue.counts().shards, 0);
    assert.equal(new Set(fake.healCalls).size, 10, 'each piece healed');
    assert.equal(fake.healCalls.length, 10, 'once: its two entries in one heal');
    for (const p of fake.pieces.values()) assert.equal(p.bad.size, 0);
    const totals = JSON.parse((await store.getJobState(HEAL_JOB))!) as HealTotals;
    assert.deepEqual([totals.bytes, totals.shards, totals.pieces, totals.failures], [11_000, 11, 10, 0]);
    await store.close();
  });

  it('heal job › a piece leaves the queue only once its healed shards are in the saved totals (heal status never lags the queue)', async () => {
    const store = new Store(SqliteMetaStore.open(':memory:'), new MemoryDataStore());
    const fake = new FakeErasure(6);
    fake.add('p0', 1000, [0, 4]);
    for (let i = 1; i < 5; i++) fake.add(`p${i}`, 1000, [i]);
    await store.healQueue.add([
      { pieceId: 'p0', drive: 0, reason: 'missing', at: 1 },
      { pieceId: 'p0', drive: 4, reason: 'corrupt', at: 1 },
      ...[1, 2, 3, 4].map((i) => ({ pieceId: `p${i}`, drive: i, reason: 'missing' as const, at: 1 })),
    ]);
    const queue = store.healQueue;
    const remove = queue.remove.bind(queue);
    /** At each removal of a piece's entries: the shards the saved totals count. */
    const savedAtRemoval: number[] = [];
    queue.remove = async (pieceId, drives, reportedBy) => {
      if (drives.length > 0) {
        const saved = await store.getJobState(HEAL_JOB);
        savedAtRemoval.push(saved === undefined ? 0 : (JSON.parse(saved) as HealTotals).shards);
      }
      return remove(pieceId, drives, reportedBy);
    };
    await round(healJob(store, fake, { now: () => 100 }));
    assert.equal(store.healQueue.counts().shards, 0);
    // Healed in piece order: p0 (2 shards), then p1..p4 (1 each).
    assert.deepEqual(savedAtRemoval, [2, 3, 4, 5, 6]);
    await store.close();
  });

  it('heal job › a shard on an offline drive is put off with a doubling backoff, then healed once the drive is back', async () => {
    const store = new Store(SqliteMetaStore.open(':memory:'), new MemoryDataStore());
    const fake = new FakeErasure(6);
    fake.add('p', 500, [2]);
    fake.drives.set(2, 'offline');
    await store.healQueue.add([{ pieceId: 'p', drive: 2, reason: 'missing', at: 0 }]);
    let clock = 10_000;
    const job = healJob(store, fake, { now: () => clock });
    await round(job);
    let [e] = store.healQueue.entriesOf('p');
    assert.deepEqual([e!.attempts, e!.nextTry], [1, 10_000 + BACKOFF_BASE_MS]);
    assert.equal(fake.healCalls.length, 0, 'no heal tried: its drive is offline');
    clock += BACKOFF_BASE_MS - 1;
    await round(job);
    assert.equal(store.healQueue.entriesOf('p')[0]!.attempts, 1, 'not due yet');
    clock += 1;
    await round(job);
    [e] = store.healQueue.entriesOf('p');
    assert.deepEqual([e!.attempts, e!.nextTry], [2, clock + 2 * BACKOFF_BASE_MS], 'twice the wait');
    fake.drives.set(2, 'online');
    clock = e!.nextTry;
    await round(job);
    assert.equal(store.healQueue.counts().shards, 0);
    assert.deepEqual(fake.healCalls, ['p']);
    await store.close();
  });

  it('heal job › a heal that fails (too few healthy shards) is retried later; another piece is healed meanwhile', async () => {
    const store = new Store(SqliteMetaStore.open(':memory:'), new MemoryDataStore());
    const fake = new FakeErasure(6);
    fake.add('bad', 100, [0, 1, 2]);
    fake.add('good', 100, [3]);
    fake.unhealable.add('bad');
    await store.healQueue.add([
      { pieceId: 'bad', drive: 0, reason: 'missing', at: 0 },
      { pieceId: 'bad', drive: 1, reason: 'missing', at: 0 },
      { pieceId: 'good', drive: 3, reason: 'corrupt', at: 0 },
    ]);
    const job = healJob(store, fake, { now: () => 1 });
    await round(job);
    assert.deepEqual(
      store.healQueue.entriesOf('bad').map((e) => [e.drive, e.attempts, e.nextTry]),
      [
        [0, 1, 1 + BACKOFF_BASE_MS],
        [1, 1, 1 + BACKOFF_BASE_MS],
      ],
    );
    assert.deepEqual(store.healQueue.entriesOf('good'), []);
    assert.equal((JSON.parse((await store.getJobState(HEAL_JOB))!) as HealTotals).failures, 1);
    // A piece removed meanwhile: its entries go.
    fake.pieces.delete('bad');
    const later = healJob(store, fake, { now: () => 1 + BACKOFF_BASE_MS });
    await round(later);
    assert.equal(store.healQueue.counts().shards, 0);
    await store.close();
  });

  it('heal job › an unhealable piece no object references is dropped from the queue once queued ORPHAN_AGE_MS (the orphan sweep removes it); a referenced one stays', async () => {
    const store = new Store(SqliteMetaStore.open(':memory:'), new MemoryDataStore());
    const fake = new FakeErasure(6);
    for (const id of ['orphan', 'object']) {
      fake.add(id, 100, [0, 1, 2, 3]);
      fake.unhealable.add(id);
    }
    store.isPieceReferenced = async (id) => id === 'object';
    await store.healQueue.add([
      { pieceId: 'orphan', drive: 0, reason: 'scrub', at: 0 },
      { pieceId: 'object', drive: 0, reason: 'scrub', at: 0 },
    ]);
    await round(healJob(store, fake, { now: () => ORPHAN_AGE_MS - 1 }));
    assert.equal(store.healQueue.entriesOf('orphan').length, 1, 'too young: maybe a write not yet committed');
    await round(healJob(store, fake, { now: () => ORPHAN_AGE_MS + BACKOFF_BASE_MS }));
    assert.deepEqual(store.healQueue.entriesOf('orphan'), []);
    assert.equal(store.healQueue.entriesOf('object')[0]?.attempts, 2, 'an object’s piece is retried');
    await store.close();
  });

  it('heal job › a shard reported again while its piece was being healed stays queued', async () => {
    const store = new Store(SqliteMetaStore.open(':memory:'), new MemoryDataStore());
    const fake = new FakeErasure(6);
    fake.add('p', 100, [5]);
    let clock = 10;
    await store.healQueue.add([{ pieceId: 'p', drive: 5, reason: 'missing', at: 5 }]);
    fake.onHeal = () => {
      clock = 20;
      void store.healQueue.add([{ pieceId: 'p', drive: 5, reason: 'corrupt', at: 15 }]);
    };
    await healJob(store, fake, { now: () => clock }).step(new AbortController().signal);
    assert.deepEqual(
      store.healQueue.entriesOf('p').map((e) => e.lastSeen),
      [15],
    );
    await store.close();
  });
});
