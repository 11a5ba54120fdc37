// The jobs runner with a leader elector (src/cluster/leader.ts) instead of the metadata store's lease:
// it runs steps only while the elector says this process leads, stops a round between two steps when
// leadership ends, and takes exactly one of `leases` or `elector`.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { LeaderState, type LeaderElector } from '../cluster/leader.js';
import { MemoryDataStore } from '../store/data/memory.js';
import { memoryMetaStore } from '../store/meta/memory.js';
import { Store } from '../store/store.js';
import { type Job, JobRunner } from './runner.js';

/** An elector the test switches by hand. */
class HandElector implements LeaderElector {
  leading = false;
  private readonly state = new LeaderState();
  isLeader(): boolean {
    return this.leading;
  }
  set(v: boolean): void {
    this.leading = v;
    this.state.set(v, 'hand', 'test');
  }
  onChange(fn: (leader: boolean) => void): () => void {
    return this.state.onChange(fn);
  }
  async leader(): Promise<string | undefined> {
    return this.leading ? 'hand' : undefined;
  }
  async close(): Promise<void> {
    this.leading = false;
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 10_000; Date.now() < end; ) {
    if (cond()) return;
    await sleep(5);
  }
  assert.fail(`timed out waiting: ${what}`);
}

describe('JobRunner with an elector', () => {
  it('JobRunner › elector › steps only while leading; leadership lost mid-round → no further step', async () => {
    const elector = new HandElector();
    let steps = 0;
    let stepsWhileNotLeading = 0;
    const job: Job = {
      name: 'endless',
      intervalMs: 0,
      async step() {
        steps++;
        if (!elector.isLeader()) stepsWhileNotLeading++;
        // Leadership ends during the fifth step of the round.
        if (steps === 5) elector.set(false);
        return true; // always more: only leadership ends the round
      },
    };
    const stop = new AbortController();
    const runner = new JobRunner({ elector, owner: 'x', jobs: [job], tickMs: 5 });
    const done = runner.run(stop.signal);
    await sleep(50);
    assert.equal(steps, 0, 'no step before leading');
    assert.equal(runner.leader, false);
    elector.set(true);
    await until(() => steps >= 5, 'steps once leading');
    await sleep(50);
    assert.equal(steps, 5, 'the round stopped after the step during which leadership ended');
    assert.equal(stepsWhileNotLeading, 0);
    elector.set(true);
    await until(() => steps > 5, 'steps again when leading again');
    stop.abort();
    await done;
    assert.equal(elector.isLeader(), true, 'the runner leaves the elector to its owner');
  });

  it('JobRunner › elector › leadership lost during a step → that step’s signal aborts at once', async () => {
    const elector = new HandElector();
    let aborted = 0;
    let steps = 0;
    const job: Job = {
      name: 'long',
      intervalMs: 0,
      async step(signal) {
        steps++;
        // A long step: it ends only when told to stop.
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted++;
        return true;
      },
    };
    const stop = new AbortController();
    const done = new JobRunner({ elector, owner: 'x', jobs: [job], tickMs: 5 }).run(stop.signal);
    elector.set(true);
    await until(() => steps === 1, 'the step started');
    elector.set(false);
    await until(() => aborted === 1, 'the step was told');
    await sleep(50);
    assert.equal(steps, 1, 'no step after leadership ended');
    stop.abort();
    await done;
  });

  it('JobRunner › needs exactly one of leases and elector', () => {
    const store = new Store(memoryMetaStore(), new MemoryDataStore());
    assert.throws(() => new JobRunner({ owner: 'x', jobs: [] }), /either leases or an elector/);
    assert.throws(() => new JobRunner({ leases: store, elector: new HandElector(), owner: 'x', jobs: [] }), /either leases or an elector/);
  });
});
