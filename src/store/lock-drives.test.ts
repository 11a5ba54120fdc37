// lockDrives: every drive of a set locked as a data directory is; a drive in use refuses the start.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataDirLockedError, lockDataDir, lockDrives } from './lock.js';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});
async function drives(n: number, create = true): Promise<string[]> {
  const root = await mkdtemp(join(tmpdir(), 'strata-lockdrives-'));
  roots.push(root);
  const paths = Array.from({ length: n }, (_, i) => join(root, `d${i}`));
  if (create) for (const p of paths) await mkdir(p);
  return paths;
}

describe('lockDrives', () => {
  it('locks every drive: a second server sharing any one of them is refused, naming it, and keeps none of its locks', async () => {
    const a = await drives(3);
    const b = await drives(2);
    const first = lockDrives(a);
    assert.deepEqual(first.locked, a);
    assert.throws(
      () => lockDrives([b[0]!, a[1]!, b[1]!]),
      (e: unknown) => e instanceof DataDirLockedError && e.dataDir === a[1] && e.message.includes(a[1]!),
    );
    // The refused start released what it had taken: b[0] is free.
    lockDataDir(b[0]!).release();
    for (const d of a) assert.throws(() => lockDataDir(d), DataDirLockedError);
    first.release();
    first.release(); // idempotent
    lockDrives(a).release();
  });

  it('--shared and workers: shared holders coexist on every drive, an exclusive one is refused', async () => {
    const a = await drives(2);
    const s1 = lockDrives(a, { shared: true });
    const s2 = lockDrives(a, { shared: true });
    assert.throws(() => lockDrives(a), DataDirLockedError);
    s1.release();
    s2.release();
    const primary = lockDrives(a);
    const w1 = lockDrives(a, { worker: true });
    const w2 = lockDrives(a, { worker: true });
    w1.release();
    w2.release();
    primary.release();
  });

  it('skips a drive that is not there (the drive set takes it offline) and locks it later when it comes back', async () => {
    const a = await drives(3);
    await rm(a[2]!, { recursive: true });
    const l = lockDrives(a);
    assert.deepEqual(l.locked, a.slice(0, 2));
    assert.throws(() => l.lockLater(a[2]!), /does not exist/);
    await mkdir(a[2]!);
    l.lockLater(a[2]!);
    assert.deepEqual(l.locked, a);
    assert.throws(() => lockDataDir(a[2]!), DataDirLockedError);
    l.release();
    lockDataDir(a[2]!).release();
  });

  it('a cluster primary locks a returning drive its workers already hold, at once; then a second server is refused it, --shared too', async () => {
    const a = await drives(3);
    await rm(a[2]!, { recursive: true });
    const primary = lockDrives(a);
    const worker = lockDrives(a, { worker: true });
    await mkdir(a[2]!);
    // The worker's probe brings the drive in first (it holds the workers lock there).
    worker.lockLater(a[2]!);
    // Not taken for a dead server's lingering workers (that check would throw LingeringWorkersError).
    primary.lockLater(a[2]!);
    assert.deepEqual(primary.locked, a);
    assert.throws(() => lockDataDir(a[2]!), DataDirLockedError);
    assert.throws(() => lockDataDir(a[2]!, { shared: true }), DataDirLockedError);
    worker.release();
    primary.release();
  });

  it('one drive: exactly lockDataDir (a missing directory is an error, not skipped)', async () => {
    const [one] = await drives(1, false);
    assert.throws(() => lockDrives([one!]), /directory does not exist/);
    await mkdir(one!);
    const l = lockDrives([one!]);
    assert.throws(() => lockDataDir(one!), DataDirLockedError);
    l.release();
  });
});
