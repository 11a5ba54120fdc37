// Drive states shared by the processes of one server (several workers): two drive sets opened on
// the same drives (as two workers do) with one board (store/drive-board.ts over a metadata store)
// agree on every change either makes: a failure, a return, an adoption, the end of a rebuild.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { driveStateName, metaDriveBoard } from '../../drive-board.js';
import { memoryMetaStore } from '../../meta/memory.js';
import { type OpenedDriveSet, openDriveSet, readDriveFormat } from './drives.js';
import type { DriveState } from './types.js';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function dirs(n: number): Promise<string[]> {
  const root = await mkdtemp(join(tmpdir(), 'strata-drives-shared-'));
  roots.push(root);
  return Array.from({ length: n }, (_, i) => join(root, `disk${i + 1}`));
}

const states = (set: OpenedDriveSet): DriveState[] => set.drives.map((d) => d.state);
const eio = () => Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });

/** A "primary" set (records its view) and a "worker" set (applies it) on the same drives and metadata store. */
async function twoProcesses(n: number) {
  const paths = await dirs(n);
  (await openDriveSet(paths)).close();
  const meta = memoryMetaStore();
  const a = await openDriveSet(paths, { probeIntervalMs: 3_600_000 });
  const b = await openDriveSet(paths, { probeIntervalMs: 3_600_000 });
  const ids = a.drives.map((d) => d.id);
  await a.share(metaDriveBoard(meta, ids), true);
  await b.share(metaDriveBoard(meta, ids), false);
  const close = () => {
    a.close();
    b.close();
    meta.close();
  };
  return { paths, meta, a, b, close };
}

describe('drive states shared through the metadata store', () => {
  it('a drive one process takes offline is offline in the other at its next sync; back online in both after a probe', async () => {
    const { a, b, close } = await twoProcesses(4);
    try {
      assert.deepEqual(states(b), ['online', 'online', 'online', 'online']);
      a.failed(1, eio());
      assert.equal(a.drives[1]!.state, 'offline');
      assert.equal(b.drives[1]!.state, 'online', 'not before its sync');
      await new Promise((r) => setImmediate(r)); // the record is written asynchronously
      await b.sync();
      assert.equal(b.drives[1]!.state, 'offline');
      assert.match(b.drives[1]!.reason, /EIO.*another process/);
      // The drive is fine: b's probe brings it back, and a follows at its sync.
      await b.probe();
      assert.equal(b.drives[1]!.state, 'online');
      await new Promise((r) => setImmediate(r));
      await a.sync();
      assert.equal(a.drives[1]!.state, 'online');
    } finally {
      close();
    }
  });

  it('a replaced drive adopted by one process is healing in the other; healed() there makes it online in both', async () => {
    const { paths, a, b, close } = await twoProcesses(4);
    try {
      await rename(paths[2]!, `${paths[2]!}-failed`);
      b.failed(2, eio());
      await mkdir(paths[2]!);
      await b.probe();
      assert.equal(b.drives[2]!.state, 'healing', 'adopted by b');
      assert.equal((await readDriveFormat(paths[2]!))?.healing, true);
      // a never met the failure: it thinks the drive online until it syncs.
      assert.equal(a.drives[2]!.state, 'online');
      await new Promise((r) => setImmediate(r));
      await a.sync();
      assert.equal(a.drives[2]!.state, 'healing');
      await a.healed(2);
      assert.equal(a.drives[2]!.state, 'online');
      assert.equal((await readDriveFormat(paths[2]!))?.healing, undefined);
      await new Promise((r) => setImmediate(r));
      await b.sync();
      assert.deepEqual(states(b), ['online', 'online', 'online', 'online']);
    } finally {
      close();
    }
  });

  it("the first process replaces an earlier run's record even when that one is stamped later (the same millisecond, a clock set back)", async () => {
    const { paths, meta, a, close } = await twoProcesses(4);
    try {
      const ids = a.drives.map((x) => x.id);
      await metaDriveBoard(meta, ids).write({ id: ids[2]!, state: 'offline', reason: 'an earlier run', at: Date.now() + 60_000 });
      const c = await openDriveSet(paths, { probeIntervalMs: 3_600_000 });
      const d = await openDriveSet(paths, { probeIntervalMs: 3_600_000 });
      await c.share(metaDriveBoard(meta, ids), true);
      await d.share(metaDriveBoard(meta, ids), false);
      assert.deepEqual(states(d), ['online', 'online', 'online', 'online']);
      c.close();
      d.close();
    } finally {
      close();
    }
  });

  it('the process that opens the set first replaces what an earlier run recorded; an older record is never written over a newer one', async () => {
    const { paths, meta, a, close } = await twoProcesses(4);
    try {
      a.failed(3, eio());
      await new Promise((r) => setImmediate(r));
      const id = a.drives[3]!.id;
      assert.match(String(meta.getJobState(driveStateName(id))), /"offline"/);
      // A restart: the drive is fine, the new first process records it online; a worker agrees.
      const c = await openDriveSet(paths, { probeIntervalMs: 3_600_000 });
      const d = await openDriveSet(paths, { probeIntervalMs: 3_600_000 });
      const ids = c.drives.map((x) => x.id);
      await c.share(metaDriveBoard(meta, ids), true);
      await d.share(metaDriveBoard(meta, ids), false);
      assert.deepEqual(states(d), ['online', 'online', 'online', 'online']);
      c.close();
      d.close();
      const board = metaDriveBoard(meta, ids);
      const newest = JSON.parse(meta.getJobState(driveStateName(id))!) as { at: number };
      await board.write({ id, state: 'offline', reason: 'late', at: newest.at - 1 });
      assert.equal((await board.read()).find((r) => r.id === id)?.state, 'online');
    } finally {
      close();
    }
  });
});
