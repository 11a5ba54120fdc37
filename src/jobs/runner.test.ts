// The jobs runner: stops on abort (releasing its lease), runs jobs in bounded steps with the event
// loop free between them, and only one runner holds the lease among stores on one metadata file.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { MemoryDataStore } from '../store/data/memory.js';
import { memoryMetaStore } from '../store/meta/memory.js';
import { SqliteMetaStore } from '../store/meta/sqlite.js';
import { Store } from '../store/store.js';
import { JobRunner, type Job } from './runner.js';
import { staleUploadsJob } from './jobs.js';

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (const end = Date.now() + 10_000; Date.now() < end; ) {
    if (await cond()) return;
    await sleep(5);
  }
  assert.fail(`timed out waiting: ${what}`);
}

/** A job that counts its steps and has `perRound` steps per round. */
function countingJob(name: string, perRound = 3): Job & { calls: number } {
  let inRound = 0;
  const job = {
    name,
    intervalMs: 0,
    calls: 0,
    async step() {
      job.calls++;
      inRound = (inRound + 1) % perRound;
      return inRound !== 0;
    },
  };
  return job;
}

describe('JobRunner', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-jobs-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('JobRunner › aborted → run() resolves, no step after that, the lease is released', async () => {
    const store = new Store(memoryMetaStore(), new MemoryDataStore());
    const job = countingJob('count');
    const stop = new AbortController();
    const runner = new JobRunner({ leases: store, owner: 'a', jobs: [job], tickMs: 5 });
    const done = runner.run(stop.signal);
    await until(() => job.calls >= 6, 'two rounds');
    assert.equal(await store.leaseHolder('jobs'), 'a');
    stop.abort();
    await done;
    const calls = job.calls;
    await sleep(30);
    assert.equal(job.calls, calls, 'no step after run() resolved');
    assert.equal(await store.leaseHolder('jobs'), undefined);
    await store.close();
  });

  it('JobRunner › between steps → the event loop runs other work (a timer fires mid-round)', async () => {
    const store = new Store(memoryMetaStore(), new MemoryDataStore());
    let timerFired = false;
    let stepsAfterTimer = 0;
    const job: Job = {
      name: 'long',
      intervalMs: 60_000,
      async step() {
        if (timerFired) stepsAfterTimer++;
        return stepsAfterTimer < 3; // a round that lasts until other work has run meanwhile
      },
    };
    setTimeout(() => (timerFired = true), 1);
    const stop = new AbortController();
    const done = new JobRunner({ leases: store, owner: 'a', jobs: [job], tickMs: 5 }).run(stop.signal);
    await until(() => stepsAfterTimer >= 3, 'the round ended after the timer');
    stop.abort();
    await done;
    await store.close();
  });

  it('JobRunner › two stores on one SQLite file → one leaseholder at a time; the other takes over when it stops', async () => {
    const file = join(dir, 'lease.db');
    const a = new Store(SqliteMetaStore.open(file), new MemoryDataStore());
    const b = new Store(SqliteMetaStore.open(file), new MemoryDataStore());
    const ja = countingJob('a');
    const jb = countingJob('b');
    const stopA = new AbortController();
    const stopB = new AbortController();
    const ra = new JobRunner({ leases: a, owner: 'A', jobs: [ja], tickMs: 5, leaseMs: 60_000 });
    const rb = new JobRunner({ leases: b, owner: 'B', jobs: [jb], tickMs: 5, leaseMs: 60_000 });
    const doneA = ra.run(stopA.signal);
    await until(() => ja.calls >= 3, 'A runs');
    const doneB = rb.run(stopB.signal);
    await until(() => ja.calls >= 30, 'A keeps running');
    assert.equal(jb.calls, 0, 'B never ran while A held the lease');
    assert.equal(rb.leader, false);
    assert.equal(await b.leaseHolder('jobs'), 'A');
    stopA.abort();
    await doneA;
    await until(() => jb.calls >= 3, 'B takes over once A released the lease');
    const aCalls = ja.calls;
    await sleep(30);
    assert.equal(ja.calls, aCalls);
    stopB.abort();
    await doneB;
    await a.close();
    await b.close();
  });

  it('JobRunner › a lease of a runner that died (not released) → taken over after it expires', async () => {
    const file = join(dir, 'expire.db');
    const a = new Store(SqliteMetaStore.open(file), new MemoryDataStore());
    const b = new Store(SqliteMetaStore.open(file), new MemoryDataStore());
    assert.equal(await a.tryLease('jobs', 'dead', 200), true);
    await a.close(); // never released
    const jb = countingJob('b');
    const stop = new AbortController();
    const done = new JobRunner({ leases: b, owner: 'B', jobs: [jb], tickMs: 10 }).run(stop.signal);
    await until(() => jb.calls >= 1, 'B runs after the dead lease expired');
    stop.abort();
    await done;
    await b.close();
  });

  it('staleUploadsJob › uploads initiated before the age are aborted (their pieces freed), younger ones kept', async () => {
    const data = new MemoryDataStore();
    const store = new Store(memoryMetaStore(), data);
    await store.createBucket('b', 'us-east-1');
    const old = { bucket: 'b', key: 'old', uploadId: 'u-old', initiated: Date.now() - 10 * 86_400_000, meta: { user: {} }, storageClass: 'STANDARD' };
    const young = { ...old, key: 'young', uploadId: 'u-young', initiated: Date.now() };
    await store.createUpload(old);
    await store.createUpload(young);
    async function* one(): AsyncGenerator<Buffer> {
      yield Buffer.from('part');
    }
    const ref = await store.writeData(one());
    await store.commitPart('b', 'old', 'u-old', { partNumber: 1, size: 4, etag: '"x"', lastModified: Date.now(), data: ref });
    const job = staleUploadsJob(store, { maxAgeMs: 86_400_000, intervalMs: 60_000 });
    assert.equal(await job.step(new AbortController().signal), false);
    assert.equal(await store.getUpload('b', 'old', 'u-old'), undefined);
    assert.ok(await store.getUpload('b', 'young', 'u-young'));
    const left: string[] = [];
    for await (const id of data.listIds(Date.now() + 1000)) left.push(id);
    assert.deepEqual(left, []);
    await store.close();
  });
  it('JobRunner › observer: each step with the items it counted, each round with its result and total', async () => {
    const store = new Store(memoryMetaStore(), new MemoryDataStore());
    const seen: string[] = [];
    let failNext = false;
    const job: Job = {
      name: 'items',
      intervalMs: 60_000,
      async step(_signal, count) {
        count?.(2);
        if (failNext) throw new Error('boom');
        failNext = true;
        return true; // a second step, which fails
      },
    };
    const stop = new AbortController();
    const observer = {
      step: (name: string, items: number) => seen.push(`step ${name} ${items}`),
      round: (name: string, r: { ok: boolean; items: number; endedAt: number; nextRun: number }) => {
        seen.push(`round ${name} ${r.ok} ${r.items} ${r.nextRun - r.endedAt}`);
        stop.abort();
      },
    };
    await new JobRunner({ leases: store, owner: 'a', jobs: [job], tickMs: 5, observer }).run(stop.signal);
    assert.deepEqual(seen, ['step items 2', 'step items 2', 'round items false 4 60000']);
  });
});
