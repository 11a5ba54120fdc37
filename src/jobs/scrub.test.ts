// The scrub and the drive rebuild with a fake erasure store and a clock the test moves: the scrub
// reads about one second of its rate per round and then waits for those bytes (counted in bytes,
// not pieces), queues bad shards, resumes a pass after a restart from its cursor, and waits for the
// next pass; a healing drive is rebuilt piece by piece, its progress survives a restart, and the
// drive set marks it online at the end.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryDataStore } from '../store/data/memory.js';
import { SqliteMetaStore } from '../store/meta/sqlite.js';
import type { DriveState } from '../store/data/erasure/types.js';
import { Store } from '../store/store.js';
import { FakeErasure, round } from './fake-erasure.js';
import { REBUILD_JOB, type RebuildState, REBUILD_STEP_PIECES, rebuildJob } from './rebuild.js';
import { SCRUB_JOB, type ScrubState, scrubJob } from './scrub.js';

const MiB = 1024 * 1024;

describe('scrub and drive rebuild jobs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-scrub-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('scrub › a round reads one second of the rate in bytes, then waits until they are paid for', async () => {
    const store = new Store(SqliteMetaStore.open(':memory:'), new MemoryDataStore());
    const fake = new FakeErasure(6);
    // Pieces of 6 × 256 KiB = 1.5 MiB read each, and small ones of 6 × 1 KiB.
    for (let i = 0; i < 20; i++) fake.add(`a${String(i).padStart(2, '0')}`, 256 * 1024);
    for (let i = 0; i < 20; i++) fake.add(`b${String(i).padStart(2, '0')}`, 1024);
    const clock = 1_000_000;
    const job = scrubJob(store, fake, { rate: 4 * MiB, now: () => clock });
    await round(job);
    // 1.5 MiB per piece: the round stops at the piece that reaches 4 MiB (3 pieces = 4.5 MiB).
    assert.equal(fake.verified.length, 3);
    assert.equal(job.intervalMs, Math.ceil((4.5 * MiB * 1000) / (4 * MiB)), 'the wait pays for 4.5 MiB at 4 MiB/s');
    await round(job);
    assert.equal(fake.verified.length, 6);
    // The small pieces: many per round (6 KiB each), the rate still counted in bytes.
    for (let i = 0; i < 10; i++) await round(job);
    assert.equal(fake.verified.length, 40, 'the whole pass');
    const s = JSON.parse((await store.getJobState(SCRUB_JOB))!) as ScrubState;
    assert.equal(s.pass, undefined);
    assert.deepEqual([s.lastPass?.pieces, s.lastPass?.bytes, s.lastPass?.bad], [40, 20 * 1.5 * MiB + 20 * 6 * 1024, 0]);
    await store.close();
  });

  it('scrub › bad shards are queued (reason scrub), not those of a drive being rebuilt; the pass resumes after a restart; next pass after the gap', async () => {
    const p = join(dir, 'scrub.db');
    let store = new Store(SqliteMetaStore.open(p), new MemoryDataStore());
    store.isPieceReferenced = async () => true;
    const fake = new FakeErasure(6);
    for (let i = 0; i < 30; i++) fake.add(`p${String(i).padStart(2, '0')}`, 100, i % 10 === 3 ? [1] : []);
    fake.pieces.get('p05')!.bad.add(4);
    fake.drives.set(4, 'healing');
    let clock = 5000;
    const o = { rate: 2000, passGapMs: 60_000, now: () => clock };
    // 600 bytes per piece at 2000 B/s: four pieces per round.
    await round(scrubJob(store, fake, o));
    await round(scrubJob(store, fake, o));
    assert.deepEqual(fake.verified, ['p00', 'p01', 'p02', 'p03', 'p04', 'p05', 'p06', 'p07']);
    // A restart: a new process, the same database.
    await store.close();
    store = new Store(SqliteMetaStore.open(p), new MemoryDataStore());
    // p33 has a bad shard but no object references it (an orphan, the orphan sweep's): not queued.
    fake.add('p33', 100, [2]);
    store.isPieceReferenced = async (id) => id !== 'p33';
    const job = scrubJob(store, fake, o);
    for (let i = 0; i < 10; i++) await round(job);
    assert.equal(fake.verified.length, 31, 'each piece once: the pass resumed at p08');
    assert.deepEqual(new Set(fake.verified).size, 31);
    assert.deepEqual(
      store.healQueue.degraded(100).map((d) => [d.pieceId, d.drives, d.reason]),
      [
        ['p03', [1], 'scrub'],
        ['p13', [1], 'scrub'],
        ['p23', [1], 'scrub'],
      ],
    );
    const s = JSON.parse((await store.getJobState(SCRUB_JOB))!) as ScrubState;
    assert.equal(s.nextPassAt, 5000 + 60_000);
    assert.equal(job.intervalMs, 60_000, 'waits for the next pass');
    clock += 30_000;
    await round(job);
    assert.equal(fake.verified.length, 31, 'not before the gap');
    assert.equal(job.intervalMs, 30_000);
    clock += 30_000;
    await round(job);
    assert.equal(fake.verified.length, 35, 'the next pass began');
    await store.close();
  });

  it('rebuild › a healing drive is rebuilt piece by piece; progress survives a restart; online at the end', async () => {
    const p = join(dir, 'rebuild.db');
    let store = new Store(SqliteMetaStore.open(p), new MemoryDataStore());
    const fake = new FakeErasure(6);
    const n = 25;
    for (let i = 0; i < n; i++) fake.add(`p${String(i).padStart(2, '0')}`, 1000, [2]);
    fake.drives.set(2, 'healing');
    // A write that missed the drive while it was out: the rebuild's heal of that piece makes the entry moot.
    await store.healQueue.add([{ pieceId: 'p20', drive: 2, reason: 'write-failed', at: -1 }]);
    const stop = new AbortController();
    let job = rebuildJob(store, fake, { now: () => 0 });
    // Count, then two heal steps; then the process stops.
    assert.equal(await job.step(stop.signal), true);
    let s = JSON.parse((await store.getJobState(REBUILD_JOB))!) as RebuildState;
    assert.deepEqual([s.drives['drive-2']?.phase, s.drives['drive-2']?.total], ['heal', n]);
    await job.step(stop.signal);
    await job.step(stop.signal);
    s = JSON.parse((await store.getJobState(REBUILD_JOB))!) as RebuildState;
    assert.deepEqual([s.drives['drive-2']?.done, s.drives['drive-2']?.bytes], [2 * REBUILD_STEP_PIECES, 2 * REBUILD_STEP_PIECES * 1000]);
    await store.close();
    store = new Store(SqliteMetaStore.open(p), new MemoryDataStore());
    job = rebuildJob(store, fake, { now: () => 0 });
    await round(job);
    assert.equal(fake.healCalls.length, n, 'each piece healed once: the rebuild resumed after its cursor');
    assert.deepEqual(fake.drives.healedCalls, [2]);
    assert.equal(fake.drives.drives[2]!.state, 'online');
    for (const piece of fake.pieces.values()) assert.equal(piece.bad.size, 0);
    s = JSON.parse((await store.getJobState(REBUILD_JOB))!) as RebuildState;
    assert.deepEqual(s.drives, {});
    assert.equal(store.healQueue.counts().shards, 0, 'the moot entry went with the rebuild');
    await round(job);
    assert.equal(fake.healCalls.length, n, 'nothing more to do');
    await store.close();
  });

  it('rebuild › a piece it cannot heal goes to the heal queue; an offline drive keeps its progress until it returns', async () => {
    const store = new Store(SqliteMetaStore.open(':memory:'), new MemoryDataStore());
    const fake = new FakeErasure(4);
    for (let i = 0; i < 6; i++) fake.add(`p${i}`, 10, [3]);
    fake.unhealable.add('p1');
    fake.drives.set(3, 'healing');
    const job = rebuildJob(store, fake, { now: () => 0 });
    const signal = new AbortController().signal;
    await job.step(signal); // count
    await job.step(signal); // p0..p3
    fake.drives.set(3, 'offline');
    assert.equal(await job.step(signal), false, 'no healing drive: nothing to do');
    let s = JSON.parse((await store.getJobState(REBUILD_JOB))!) as RebuildState;
    assert.equal(s.drives['drive-3']?.done, 4, 'kept while the drive is offline');
    fake.drives.set(3, 'healing');
    await round(job);
    assert.equal(fake.drives.drives[3]!.state, 'online');
    assert.deepEqual(
      store.healQueue.degraded(10).map((d) => [d.pieceId, d.drives]),
      [['p1', [3]]],
    );
    s = JSON.parse((await store.getJobState(REBUILD_JOB))!) as RebuildState;
    assert.deepEqual(s.drives, {});
    await store.close();
  });

  it("rebuild › a drive another process adopted (seen at the drive set's sync) is rebuilt from the next step", async () => {
    const store = new Store(SqliteMetaStore.open(':memory:'), new MemoryDataStore());
    const fake = new FakeErasure(4);
    for (let i = 0; i < 3; i++) fake.add(`p${i}`, 10, [1]);
    // This process sees every drive online; another one adopted drive 1: its sync() would say so.
    let others: DriveState | undefined;
    let syncs = 0;
    Object.assign(fake.drives, {
      sync: async () => {
        syncs++;
        // Applied once, as a record newer than the last one applied is.
        if (others) fake.drives.set(1, others);
        others = undefined;
      },
    });
    const job = rebuildJob(store, fake, { now: () => 0 });
    const signal = new AbortController().signal;
    assert.equal(await job.step(signal), false, 'no healing drive yet');
    others = 'healing';
    await round(job);
    assert.ok(syncs >= 2, 'the drive set synced before each step');
    assert.deepEqual(fake.drives.healedCalls, [1]);
    assert.equal(fake.healCalls.length, 3);
    await store.close();
  });
});
