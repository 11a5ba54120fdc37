// The work a round of the metadata copies does (mirror.ts), cut without losing what it guarantees:
// the membership file read only after a change, which no process misses (also a drop racing a
// re-admission); the switch to a new WAL generation applying the frames the process copied,
// checked against each copy's WAL; its first fdatasync left out only when the process synced them.
import assert from 'node:assert/strict';
import { closeSync, fdatasync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { objectRecord } from '../contract.js';
import { MIRRORS, PROGRESS_FILE } from './mirror.js';
import { readCopyState } from './mirror-start.js';
import { BUCKET, drives, listing, onlyCopy, open, putMany } from './mirror-testkit.js';
import type { SqliteMetaStore } from './sqlite.js';
import { readWalContents } from './wal-frames.js';

/**
 * The copies' fdatasync of a process, held once `on`: the round has copied (`copied` resolves),
 * its syncs never finish until `release()` (a process stopped, as if killed, before its syncs).
 */
function heldSyncs() {
  const held: Array<() => void> = [];
  let copiedNow: () => void = () => undefined;
  const h = {
    on: false,
    copied: new Promise<void>((r) => (copiedNow = r)),
    syncCopy: (_slot: number, fd: number): Promise<void> => {
      if (!h.on) return new Promise((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res())));
      copiedNow();
      return new Promise<void>((r) => held.push(r));
    },
    release: (): void => {
      h.on = false;
      for (const r of held) r();
    },
  };
  return h;
}

/** Two processes on two drives: `a` (the starting one, a checkpoint at each round, its syncs held on demand) and `b`. */
async function heldAndOther(bCheckpointFrames: number) {
  const dirs = await drives(2);
  const hold = heldSyncs();
  const a = await open(dirs, { checkpointFrames: 1, syncCopy: hold.syncCopy });
  await a.createBucket(BUCKET);
  const b = await open(dirs, { start: false, checkpointFrames: bCheckpointFrames });
  return { a, b, hold };
}

/**
 * `a` (syncs by `hold`, a checkpoint at each round) writes with its syncs held: its round copies the
 * generation's last frames and checkpoints, never syncs. Then `b` writes, and so switches the copy:
 * it must fdatasync the copy's WAL first (a's frames are not on the drive). Closes both.
 */
async function switchAfterHeld(a: SqliteMetaStore, b: SqliteMetaStore, hold: ReturnType<typeof heldSyncs>): Promise<void> {
  const [ma, mb] = [MIRRORS.get(a)!, MIRRORS.get(b)!];
  hold.on = true;
  const checkpoints = ma.stats.checkpoints;
  const pending = Promise.resolve(a.putObject(objectRecord('b', 'held/1')));
  await hold.copied;
  assert.equal(ma.stats.checkpoints, checkpoints + 1, 'a copied the rest of the generation and checkpointed, its sync held');
  const [skipped, switches] = [mb.stats.switchSyncsSkipped, mb.stats.switches];
  await b.putObject(objectRecord('b', 'after-held/1'));
  assert.equal(mb.stats.switches, switches + 1, 'b switched the copy');
  assert.equal(mb.stats.switchSyncsSkipped, skipped, "after syncing its WAL: a's frames were not synced");
  hold.release();
  await pending;
  await b.close();
  await a.close();
}

describe('metadata copies: the work per round (mirror.ts)', () => {
  it('a round reads the membership file only after a change, and follows a change made by another process at its next round', async () => {
    const dirs = await drives(3);
    let failSlot2 = false;
    const syncCopy = async (slot: number): Promise<void> => {
      if (slot === 2 && failSlot2) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
    };
    const a = await open(dirs, { syncCopy });
    await a.createBucket(BUCKET);
    const w = await open(dirs, { start: false });
    const [ma, mw] = [MIRRORS.get(a)!, MIRRORS.get(w)!];
    const acked: string[] = [];
    await putMany(a, 'a/', 30, acked);
    await putMany(w, 'w/', 30, acked);
    assert.ok(ma.stats.rounds >= 3 && mw.stats.rounds >= 3);
    // The first round of each process reads it (its membership was read without the lock), no other.
    assert.deepEqual([ma.stats.membershipReads, mw.stats.membershipReads], [1, 1]);
    failSlot2 = true;
    await putMany(a, 'b/', 10, acked);
    assert.equal(ma.stats.membershipReads, 1, 'its own drop is not read back');
    await w.putObject(objectRecord('b', 'w2/1'));
    acked.push('w2/1');
    assert.deepEqual([mw.stats.membershipReads, mw.liveSlots], [2, [1]], 'the other process follows the drop at once');
    failSlot2 = false;
    assert.deepEqual(await mw.readmit([2]), [2]);
    await a.putObject(objectRecord('b', 'a2/1'));
    acked.push('a2/1');
    assert.deepEqual([ma.stats.membershipReads, ma.liveSlots], [2, [1, 2]], 'and the re-admission');
    // A writer that died between raising the counter and writing the file: one read for nothing.
    const fd = openSync(join(dirs[0]!, PROGRESS_FILE), 'r+');
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64LE(readFileSync(join(dirs[0]!, PROGRESS_FILE)).readBigUInt64LE(16) + 1n);
    writeSync(fd, counter, 0, 8, 16);
    closeSync(fd);
    await putMany(a, 'c/', 20, acked);
    await putMany(w, 'd/', 20, acked);
    assert.deepEqual([ma.stats.membershipReads, mw.stats.membershipReads], [3, 3]);
    assert.deepEqual(
      [ma.liveSlots, mw.liveSlots],
      [
        [1, 2],
        [1, 2],
      ],
    );
    await onlyCopy(dirs, 2, acked, listing(a));
    await w.close();
    await a.close();
  });

  it('a copy dropped after its sync failed while another process re-admitted a copy: the re-admitted copy gets every later write', async () => {
    const dirs = await drives(3);
    let failSlot = -1;
    let during: (() => Promise<unknown>) | undefined;
    const syncCopy = async (slot: number): Promise<void> => {
      if (slot !== failSlot) return;
      const d = during;
      during = undefined;
      await d?.();
      throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
    };
    const a = await open(dirs, { syncCopy });
    await a.createBucket(BUCKET);
    const w = await open(dirs, { start: false });
    const acked: string[] = [];
    await putMany(a, 'a/', 20, acked);
    failSlot = 2;
    await putMany(a, 'b/', 10, acked);
    assert.deepEqual(MIRRORS.get(a)!.liveSlots, [1]);
    // a's next round copied to slot 1 alone; while it syncs (no lock held) w re-admits slot 2; then
    // slot 1's sync fails and a drops it: the new membership is [0, 2], and a must write slot 2.
    failSlot = 1;
    during = () => MIRRORS.get(w)!.readmit([2]);
    await a.putObject(objectRecord('b', 'c/1'));
    acked.push('c/1');
    failSlot = -1;
    assert.deepEqual(readCopyState(dirs[0]!)!.members, [0, 2]);
    assert.deepEqual(MIRRORS.get(a)!.liveSlots, [2]);
    await putMany(a, 'd/', 20, acked);
    await onlyCopy(dirs, 2, acked, listing(a));
    await w.close();
    await a.close();
  });

  it('a switch applies the frames the process copied, reading no WAL; a copy whose WAL differs is read on its own; two processes', async () => {
    const dirs = await drives(3);
    const a = await open(dirs, { checkpointFrames: 16 });
    await a.createBucket(BUCKET);
    const m = MIRRORS.get(a)!;
    const acked: string[] = [];
    await putMany(a, 'a/', 100, acked);
    assert.ok(m.stats.switches >= 6, `several switches (${m.stats.switches})`);
    assert.equal(m.stats.walReads, 0, 'no copy WAL read');
    assert.equal(m.stats.switchSyncsSkipped, m.stats.switches, 'one process: its rounds synced every frame a switch applies');
    // A complete checkpoint: the next write starts a new generation, whose first round switches.
    const ckpt = m.stats.checkpoints;
    for (let i = 0; m.stats.checkpoints === ckpt; i++) {
      await a.putObject(objectRecord('b', `e/${i}`));
      acked.push(`e/${i}`);
    }
    // Slot 1's WAL lacks its last commit (its frame header gone, as if torn): it is read on its
    // own, and slot 2, which holds the frames, still gets the last commit.
    const walPath = join(dirs[1]!, 'meta.db-wal');
    const wal = readWalContents(readFileSync(walPath), true)!;
    const fd = openSync(walPath, 'r+');
    writeSync(fd, Buffer.alloc(24), 0, 24, wal.end - wal.header.pageSize - 24);
    closeSync(fd);
    await a.putObject(objectRecord('b', 'f/1'));
    acked.push('f/1');
    assert.equal(m.stats.walReads, 1, 'slot 1 read on its own');
    await onlyCopy(dirs, 2, acked, listing(a));
    // Two processes: each holds part of each generation, the rest read from the copy.
    const b = await open(dirs, { start: false, checkpointFrames: 16 });
    const mb = MIRRORS.get(b)!;
    const [sa, sb] = [m.stats.switches, mb.stats.switches];
    for (let i = 0; i < 10; i++) {
      await putMany(a, `g${i}/`, 6, acked);
      await putMany(b, `h${i}/`, 6, acked);
    }
    assert.ok(m.stats.switches + mb.stats.switches - sa - sb >= 8, 'switches by both');
    assert.deepEqual([m.stats.walReads, mb.stats.walReads], [1, 0], 'no WAL read: the ranges the other process copied read from the copy');
    await onlyCopy(dirs, 2, acked, listing(a)); // (slot 1 was damaged on purpose above)
    await b.close();
    await a.close();
  });

  it('a switch syncs the copy WAL first unless this process synced it through the end of the generation (not when another process copied the last frames and has not synced them)', async () => {
    // A checkpoint at every round of both: every write starts a new generation, every round switches.
    const { a, b, hold } = await heldAndOther(1);
    const mb = MIRRORS.get(b)!;
    const acked: string[] = [];
    await putMany(a, 'a/', 10, acked);
    await putMany(b, 'b/', 30, acked);
    assert.ok(mb.stats.switchSyncsSkipped > 0, 'b skips the sync of what it synced itself');
    assert.ok(mb.stats.switchSyncsSkipped < mb.stats.switches, 'not of what a copied');
    await switchAfterHeld(a, b, hold);
  });

  it('a switch syncs the copy WAL first when another process copied the last frames of the same generation after this one', async () => {
    // b never checkpoints: b's rounds copy the start of a generation, a's its end.
    const { a, b, hold } = await heldAndOther(100_000);
    await a.putObject(objectRecord('b', 'a/1')); // checkpointed: the next write starts a generation
    await b.putObject(objectRecord('b', 'b/1')); // b copies (and syncs) its first frames
    await switchAfterHeld(a, b, hold);
  });
});
