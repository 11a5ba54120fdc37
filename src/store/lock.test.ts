// The data-directory lock: exclusive within a process and across processes, released by
// release() and by the death of the holder (SIGKILL included), never by a timeout.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataDirLockedError, holdWorkerLock, LingeringWorkersError, LOCK_FILE, lockDataDir, WORKERS_LOCK_FILE } from './lock.js';

/**
 * A child process that takes the lock, drops the handle and collects garbage (the lock must not
 * depend on the caller keeping the handle), prints "locked" and waits to be killed. It exits by
 * itself after 30 s, so a failing test can never leave it behind.
 */
function holdInChild(dir: string, shared: boolean | 'worker' = false, lifeMs = 30_000): Promise<{ kill: () => Promise<void>; exited: Promise<void> }> {
  const lockJs = new URL('./lock.js', import.meta.url).href;
  const take = shared === 'worker' ? `holdWorkerLock(${JSON.stringify(dir)})` : `lockDataDir(${JSON.stringify(dir)}, { shared: ${shared} })`;
  const src = `import { holdWorkerLock, lockDataDir } from ${JSON.stringify(lockJs)};
${take}; globalThis.gc(); await new Promise((ok) => setTimeout(ok, 50)); globalThis.gc();
process.stdout.write('locked\\n'); setTimeout(() => {}, ${lifeMs});`;
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      if (s.includes('locked')) {
        resolve({
          exited,
          kill: async () => {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
  });
}

describe('lockDataDir', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-lock-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second lock in the same process until released', () => {
    const first = lockDataDir(dir);
    assert.throws(
      () => lockDataDir(dir),
      (e: unknown) => e instanceof DataDirLockedError && e.message.includes(dir),
    );
    first.release();
    first.release(); // idempotent
    lockDataDir(dir).release();
  });

  it('leaves only the empty lock file behind (no journal: nothing is ever written)', async () => {
    const l = lockDataDir(dir);
    assert.deepEqual((await readdir(dir)).sort(), [LOCK_FILE]);
    l.release();
  });

  it('refuses at once while another process holds it, and is free as soon as that process is SIGKILLed', async () => {
    const holder = await holdInChild(dir);
    try {
      const t0 = Date.now();
      assert.throws(() => lockDataDir(dir), DataDirLockedError);
      // Generous on purpose (a loaded machine): what this catches is a busy timeout, which would
      // hold a second server for SQLite's usual 5 s before it gives up.
      assert.ok(Date.now() - t0 < 4000, 'the refusal must not wait for the lock');
    } finally {
      await holder.kill();
    }
    // No stale-lock timeout: the kernel dropped the dead process's locks.
    lockDataDir(dir).release();
  });

  it('shared › any number of shared holders (processes) coexist; an exclusive opener is refused until the last is gone', async () => {
    const other = await holdInChild(dir, true);
    let mine: ReturnType<typeof lockDataDir> | undefined;
    try {
      mine = lockDataDir(dir, { shared: true });
      assert.throws(
        () => lockDataDir(dir),
        (e: unknown) => e instanceof DataDirLockedError && e.message.includes('--shared'),
      );
      mine.release();
      assert.throws(() => lockDataDir(dir), DataDirLockedError);
    } finally {
      mine?.release();
      await other.kill();
    }
    lockDataDir(dir).release();
  });

  it('shared › refused while a process holds it exclusively', async () => {
    const holder = await holdInChild(dir);
    try {
      assert.throws(
        () => lockDataDir(dir, { shared: true }),
        (e: unknown) => e instanceof DataDirLockedError && e.message.includes('without --shared'),
      );
    } finally {
      await holder.kill();
    }
    lockDataDir(dir, { shared: true }).release();
  });

  it('workers › any number of workers hold the workers lock; an exclusive start waits for them, then refuses (LingeringWorkersError, strata.lock left free); a shared start does not wait', () => {
    const w1 = holdWorkerLock(dir);
    const w2 = holdWorkerLock(dir);
    try {
      assert.throws(
        () => lockDataDir(dir, { workersExitWaitMs: 100 }),
        (e: unknown) => e instanceof LingeringWorkersError && e.message.includes(WORKERS_LOCK_FILE) && e.message.includes(dir),
      );
      // The refused start let go of strata.lock: a shared server may start beside the workers.
      lockDataDir(dir, { shared: true }).release();
      w1.release();
      assert.throws(() => lockDataDir(dir, { workersExitWaitMs: 0 }), LingeringWorkersError);
    } finally {
      w1.release();
      w2.release();
    }
    lockDataDir(dir, { workersExitWaitMs: 0 }).release();
  });

  it("workers › a worker in another process that exits during the wait (a SIGKILLed primary's lingering worker) → the exclusive start proceeds; one killed → free at once", async () => {
    const lingering = await holdInChild(dir, 'worker', 400);
    lockDataDir(dir, { workersExitWaitMs: 20_000 }).release();
    await lingering.exited;
    const killed = await holdInChild(dir, 'worker');
    assert.throws(() => lockDataDir(dir, { workersExitWaitMs: 0 }), LingeringWorkersError);
    await killed.kill();
    lockDataDir(dir, { workersExitWaitMs: 0 }).release();
  });
});
