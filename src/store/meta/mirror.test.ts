// Copies of the metadata database (mirror.ts): every acknowledged write is on every copy, across
// connections, processes, WAL generations and a killed writer; a stale copy is never chosen; a
// replaced drive gets a fresh copy. (The work per round: mirror-rounds.test.ts.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, fdatasync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { describe, it } from 'node:test';
import { objectRecord } from '../contract.js';
import { MIRRORS } from './mirror.js';
import { readCopyState } from './mirror-start.js';
import { BUCKET, drives, listing, onlyCopy, open, putMany, reopenHas, snapshot } from './mirror-testkit.js';

/** A writer in another process: opens as a worker, writes up to `n` objects, prints each acknowledged key. */
function childWriter(dirs: string[], prefix: string, n: number) {
  const url = (f: string): string => pathToFileURL(join(import.meta.dirname, f)).href;
  const code = `
    const { openMirroredMeta } = await import(${JSON.stringify(url('mirror.js'))});
    const { objectRecord } = await import(${JSON.stringify(url('../contract.js'))});
    const s = await openMirroredMeta(${JSON.stringify(dirs)}, { start: false });
    for (let i = 0; i < ${n}; i++) {
      const key = ${JSON.stringify(prefix)} + String(i).padStart(5, '0');
      await s.putObject(objectRecord('b', key));
      process.stdout.write(key + '\\n');
    }
    await s.close();`;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function readLines(child: ReturnType<typeof childWriter>, onLine: (line: string) => void): Promise<number | null> {
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

/**
 * A power cut as copy slot 1 of `dirs` would suffer it: it keeps what its last finished fdatasync
 * covered, i.e. its files as they were when that sync started (the copy's database is written only
 * with a sync of its own, at once). `sync` is the copies' fdatasync recording that; `reopenCut`
 * opens that state alone (every other drive gone) and checks every acknowledged key is there.
 */
function powerCut(dirs: string[]) {
  let started = 0;
  let durable: { seq: number; wal: Buffer; db: Buffer } | undefined;
  const sync = async (fd: number): Promise<void> => {
    const seq = ++started;
    const wal = readFileSync(join(dirs[1]!, 'meta.db-wal'));
    const db = readFileSync(join(dirs[1]!, 'meta.db'));
    await new Promise<void>((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res())));
    if (!durable || seq > durable.seq) durable = { seq, wal, db };
  };
  /** The copy's WAL as its drive holds it now (what the last finished fdatasync covered). */
  const durableWal = (): Buffer => durable!.wal;
  const reopenCut = async (acked: string[]): Promise<void> => {
    const cut = (await drives(2))[1]!;
    mkdirSync(cut, { recursive: true });
    writeFileSync(join(cut, 'meta.db'), durable!.db);
    writeFileSync(join(cut, 'meta.db-wal'), durable!.wal);
    copyFileSync(join(dirs[1]!, 'meta-copy.json'), join(cut, 'meta-copy.json'));
    const s = await reopenHas([join(cut, '..', 'gone'), cut], acked);
    await s.close();
  };
  return { sync, reopenCut, durableWal };
}

describe('metadata copies (mirror.ts)', () => {
  it('one drive: the plain store, no copy state', async () => {
    const [d0] = await drives(1);
    const s = await open([d0!]);
    await s.createBucket(BUCKET);
    assert.equal(MIRRORS.get(s), undefined);
    await s.close();
    assert.equal(existsSync(join(d0!, 'meta-copy.json')), false);
  });

  it('(a) writes of two connections and another process are on each copy: the primary drive lost, a copy opens with every one', async () => {
    const dirs = await drives(3);
    const a = await open(dirs);
    await a.createBucket(BUCKET);
    const b = await open(dirs, { start: false });
    const acked: string[] = [];
    const child = childWriter(dirs, 'c/', 120);
    const childAcked: string[] = [];
    const exited = readLines(child, (k) => childAcked.push(k));
    await Promise.all([putMany(a, 'a/', 150, acked), putMany(b, 'b/', 150, acked)]);
    assert.equal(await exited, 0);
    acked.push(...childAcked);
    assert.equal(childAcked.length, 120);
    const expected = listing(a);
    // Both copies, as they are on their drives while the server runs (the primary's drive gone).
    await onlyCopy(dirs, 1, acked, expected);
    await onlyCopy(dirs, 2, acked, expected);
    await b.close();
    await a.close();
  });

  it('(b) across many WAL generations (checkpoint every 16 frames), including after a clean close', async () => {
    const dirs = await drives(2);
    const a = await open(dirs, { checkpointFrames: 16 });
    await a.createBucket(BUCKET);
    const b = await open(dirs, { start: false, checkpointFrames: 16 });
    const acked: string[] = [];
    await Promise.all([putMany(a, 'a/', 200, acked), putMany(b, 'b/', 200, acked)]);
    const gens = MIRRORS.get(a)!.stats.checkpoints + MIRRORS.get(b)!.stats.checkpoints;
    assert.ok(gens >= 5, `several WAL generations were copied (${gens})`);
    const expected = listing(a);
    await onlyCopy(dirs, 1, acked, expected);
    await b.close();
    await a.close();
    // After a clean close the copy is byte-identical to the primary: the next start keeps it.
    const rebuilt: string[] = [];
    const again = await open(dirs, { log: { info: (o) => rebuilt.push(JSON.stringify(o)), warn: () => undefined } });
    assert.deepEqual(rebuilt, []);
    assert.equal(listing(again), expected);
    await again.close();
    rmSync(dirs[0]!, { recursive: true });
    const s2 = await reopenHas(dirs, acked, expected);
    await s2.close();
  });

  it('(b) a complete checkpoint that SQLite cannot follow with a restart (a reader holds the last snapshot): later frames still reach the copies', async () => {
    const dirs = await drives(2);
    const a = await open(dirs, { checkpointFrames: 1 });
    await a.createBucket(BUCKET);
    const mirror = MIRRORS.get(a)!;
    const noSync = async (): Promise<void> => undefined;
    // A writer of its own (no copies of its own: a's rounds copy its frames) and a reader.
    const w = new Database(join(dirs[0]!, 'meta.db'));
    w.pragma('wal_autocheckpoint = 0');
    w.exec('CREATE TABLE t (n INTEGER)');
    const ins = w.prepare('INSERT INTO t VALUES (?)');
    ins.run(0);
    const r = new Database(join(dirs[0]!, 'meta.db'));
    r.exec('BEGIN');
    r.prepare('SELECT count(*) FROM t').get(); // holds a snapshot at the WAL's end
    const before = mirror.stats.checkpoints;
    await mirror.round(noSync); // copies, then a complete checkpoint (the reader is at the end)
    assert.equal(mirror.stats.checkpoints, before + 1);
    for (let i = 1; i <= 20; i++) ins.run(i); // appended to the same generation: the reader blocks the restart
    await mirror.round(noSync);
    r.exec('COMMIT');
    r.close();
    w.close();
    const lost = await drives(2);
    const s = await open([lost[0]!, snapshot(dirs[1]!, lost[1]!)]);
    await s.close();
    const c = new Database(join(lost[1]!, 'meta.db'), { readonly: true });
    assert.equal((c.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 21);
    c.close();
    await a.close();
  });

  it('only what the copies synced: each answered write is in the copy as of the last fdatasync that finished (two connections, many generations)', async () => {
    const dirs = await drives(2);
    const cut = powerCut(dirs);
    const syncCopy = async (slot: number, fd: number): Promise<void> => {
      assert.equal(slot, 1);
      await cut.sync(fd);
    };
    const a = await open(dirs, { checkpointFrames: 24, syncCopy });
    await a.createBucket(BUCKET);
    const b = await open(dirs, { start: false, checkpointFrames: 24, syncCopy });
    const acked: string[] = [];
    for (let round = 0; round < 4; round++) {
      await Promise.all([putMany(a, `a${round}/`, 40, acked), putMany(b, `b${round}/`, 40, acked)]);
      await cut.reopenCut(acked);
    }
    assert.ok(MIRRORS.get(a)!.stats.switches + MIRRORS.get(b)!.stats.switches >= 3, 'several generations');
    await b.close();
    await a.close();
  });

  it("a power cut in the middle of a copy's switch (its database's pages partly written, none synced): the copy opens intact with every answered write", async () => {
    // The switch overwrites the copy's database with the generation's pages, its WAL's sync before
    // that left out where this process's own round synced it (isSynced). What a cut leaves then:
    // the copy's WAL as its last finished fdatasync covered it, and a database whose pages are each
    // either as before the switch or as written (unsynced writes reach the disk in any subset).
    // SQLite's recovery replays that WAL over it: every page the switch wrote is in it, so the
    // result is the same whichever pages made it.
    const dirs = await drives(2);
    const cut = powerCut(dirs);
    const syncCopy = async (_slot: number, fd: number): Promise<void> => cut.sync(fd);
    const acked: string[] = [];
    const cuts: Array<{ wal: Buffer; db: Buffer; acked: string[] }> = [];
    let seed = 0x5eed1234;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    let before: Buffer | undefined;
    let wal: Buffer | undefined;
    const onSwitchPages = (_slot: number, stage: 'before' | 'written', dbPath: string, walSyncedNow: boolean): void => {
      if (stage === 'before') {
        before = readFileSync(dbPath);
        // The WAL on the drive: as the switch's own fdatasync left it, or (left out) as a round's did.
        wal = walSyncedNow ? readFileSync(`${dbPath}-wal`) : cut.durableWal();
        return;
      }
      const written = readFileSync(dbPath);
      const ps = 4096;
      // None of the pages the file had before written, all of them, a random half (pages past its
      // old end: as written).
      for (const share of [0, 1, 0.5]) {
        const db = Buffer.from(written);
        for (let at = 0; at + ps <= Math.min(before!.length, written.length); at += ps) if (random() >= share) before!.copy(db, at, at, at + ps);
        cuts.push({ wal: wal!, db, acked: [...acked] });
      }
    };
    // One connection first (its switches always leave the sync out: its own rounds synced every
    // frame), then two (a switch leaves it out when its process copied the generation's last frames).
    const a = await open(dirs, { checkpointFrames: 24, syncCopy, onSwitchPages });
    await a.createBucket(BUCKET);
    for (let round = 0; round < 3; round++) await putMany(a, `a${round}/`, 60, acked);
    const b = await open(dirs, { start: false, checkpointFrames: 24, syncCopy, onSwitchPages });
    for (let round = 3; round < 6; round++) await Promise.all([putMany(a, `a${round}/`, 40, acked), putMany(b, `b${round}/`, 40, acked)]);
    const skipped = MIRRORS.get(a)!.stats.switchSyncsSkipped + MIRRORS.get(b)!.stats.switchSyncsSkipped;
    assert.ok(skipped >= 3, `switches that left out the WAL's sync: ${skipped}`);
    assert.ok(cuts.length >= 18, `cuts taken mid-switch: ${cuts.length}`);
    for (const [i, c] of cuts.entries()) {
      const [gone, dir] = await drives(2);
      mkdirSync(dir!, { recursive: true });
      writeFileSync(join(dir!, 'meta.db'), c.db);
      writeFileSync(join(dir!, 'meta.db-wal'), c.wal);
      copyFileSync(join(dirs[1]!, 'meta-copy.json'), join(dir!, 'meta-copy.json'));
      // SQLite alone first (on a copy of the files): the WAL replays over the torn database.
      const [check] = await drives(1);
      snapshot(dir!, check!);
      const raw = new Database(join(check!, 'meta.db'));
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok', `cut ${i}: integrity`);
      raw.close();
      const s = await reopenHas([gone!, dir!], c.acked);
      await s.close();
    }
    await b.close();
    await a.close();
  });

  it('as a cluster runs: the starting process writes and closes (SQLite deletes the WAL), then two workers write', async () => {
    const dirs = await drives(3);
    const first = await open(dirs);
    await first.createBucket(BUCKET);
    const acked: string[] = [];
    await putMany(first, 'p/', 30, acked);
    await first.close();
    assert.equal(existsSync(join(dirs[0]!, 'meta.db-wal')), false);
    const w1 = await open(dirs, { start: false });
    const w2 = await open(dirs, { start: false });
    await Promise.all([putMany(w1, 'w1/', 60, acked), putMany(w2, 'w2/', 60, acked)]);
    assert.ok(MIRRORS.get(w1)!.stats.switches + MIRRORS.get(w2)!.stats.switches >= 2, 'each copy switched to the new WAL once');
    const expected = listing(w1);
    for (const slot of [1, 2]) await onlyCopy(dirs, slot, acked, expected);
    await w1.close();
    await w2.close();
  });

  it('(c) a writer killed mid-write leaves copies that open consistently with every acknowledged write', async () => {
    const dirs = await drives(3);
    const a = await open(dirs, { checkpointFrames: 64 });
    await a.createBucket(BUCKET);
    const child = childWriter(dirs, 'k/', 5000);
    const acked: string[] = [];
    const exited = readLines(child, (k) => {
      acked.push(k);
      if (acked.length === 300) child.kill('SIGKILL');
    });
    const mine: string[] = [];
    await putMany(a, 'a/', 100, mine);
    assert.equal(await exited, null, 'killed before it finished');
    acked.push(...mine);
    for (const slot of [1, 2]) {
      const lost = await drives(3);
      const copyOnly = lost.map((d, i) => (i === slot ? snapshot(dirs[slot]!, d) : d));
      const s = await reopenHas(copyOnly, acked);
      assert.equal((s.getObject('b', 'a/00099') as { key: string }).key, 'a/00099');
      await s.close();
    }
    // The surviving process writes on, and the copies follow.
    const more: string[] = [];
    await putMany(a, 'z/', 20, more);
    await onlyCopy(dirs, 1, [...acked, ...more]);
    await a.close();
  });

  it('(d) a copy that failed is dropped on the others first, and never chosen over them', async () => {
    const dirs = await drives(3);
    let failSlot2 = false;
    const syncCopy = async (slot: number): Promise<void> => {
      if (slot === 2 && failSlot2) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
    };
    const warned: string[] = [];
    const a = await open(dirs, { syncCopy, log: { info: () => undefined, warn: (_o, m) => warned.push(m) } });
    await a.createBucket(BUCKET);
    const acked: string[] = [];
    await putMany(a, 'a/', 30, acked);
    const stale = await drives(3);
    snapshot(dirs[2]!, stale[2]!); // slot 2 as it was before it failed
    failSlot2 = true;
    await putMany(a, 'b/', 30, acked);
    assert.ok(warned.some((m) => m.includes('dropped')));
    assert.deepEqual(MIRRORS.get(a)!.liveSlots, [1]);
    const s0 = readCopyState(dirs[0]!)!;
    const s2 = readCopyState(dirs[2]!)!;
    assert.deepEqual(s0.members, [0, 1]);
    assert.deepEqual(readCopyState(dirs[1]!), s0);
    assert.ok(s0.epoch > s2.epoch, 'the survivors carry a newer epoch than the dropped copy');
    const expected = listing(a);
    // Primary lost; slot 1 (fresh) and slot 2 (its drive back, stale) present: slot 1 is chosen.
    const lost = await drives(3);
    snapshot(dirs[1]!, lost[1]!);
    snapshot(dirs[2]!, lost[2]!);
    const s = await reopenHas(lost, acked, expected);
    await s.close();
    // The stale copy taken before the failure, with the fresh one present, is not chosen either.
    snapshot(dirs[1]!, stale[1]!);
    const t = await reopenHas(stale, acked, expected);
    const st = readCopyState(stale[2]!)!;
    assert.equal(st.primary, 1);
    assert.deepEqual(st.members, [0, 1, 2], 'the stale copy and the empty drive were rebuilt');
    await t.close();
    await a.close();
  });

  it('a worker that cannot reach a copy drops it at its first write, recorded on the others', async () => {
    const dirs = await drives(3);
    const a = await open(dirs);
    await a.createBucket(BUCKET);
    await a.close();
    const start = await open(dirs);
    rmSync(dirs[2]!, { recursive: true });
    writeFileSync(dirs[2]!, 'not a directory'); // the drive's root is unusable
    const w = await open(dirs, { start: false });
    const acked: string[] = [];
    await putMany(w, 'w/', 10, acked);
    assert.deepEqual(MIRRORS.get(w)!.liveSlots, [1]);
    assert.deepEqual(readCopyState(dirs[0]!)!.members, [0, 1]);
    assert.deepEqual(readCopyState(dirs[1]!), readCopyState(dirs[0]!));
    // The starting process still writes its descriptor of the dropped copy (harmless: no longer a
    // member); its writes reach the copies that remain.
    await putMany(start, 's/', 10, acked);
    const expected = listing(w);
    await onlyCopy(dirs, 1, acked, expected);
    await w.close();
    await start.close();
  });

  it('(e) a replaced (empty) drive gets a fresh copy at start, which then holds later writes', async () => {
    const dirs = await drives(3);
    const a = await open(dirs);
    await a.createBucket(BUCKET);
    const acked: string[] = [];
    await putMany(a, 'a/', 40, acked);
    await a.close();
    rmSync(dirs[1]!, { recursive: true });
    mkdirSync(dirs[1]!);
    const rebuilt: string[] = [];
    const s = await open(dirs, { log: { info: (o) => rebuilt.push(JSON.stringify(o)), warn: () => undefined } });
    assert.equal(rebuilt.length, 1);
    assert.ok(rebuilt[0]!.includes(dirs[1]!));
    assert.deepEqual(readFileSync(join(dirs[1]!, 'meta.db')), readFileSync(join(dirs[0]!, 'meta.db')));
    await putMany(s, 'b/', 40, acked);
    const expected = listing(s);
    await onlyCopy(dirs, 1, acked, expected);
    await s.close();
  });

  it('(f) a copy dropped at run time gets a fresh copy while the store runs (back, or replaced empty), and every process writes to it again', async () => {
    const dirs = await drives(3);
    let failSlot2 = false;
    const syncCopy = async (slot: number): Promise<void> => {
      if (slot === 2 && failSlot2) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
    };
    const failed: string[] = [];
    // Checkpoints every 16 frames: WAL generations switch before and after the re-admission.
    const a = await open(dirs, { syncCopy, checkpointFrames: 16, copyFailed: (dir) => failed.push(dir) });
    await a.createBucket(BUCKET);
    const w = await open(dirs, { start: false, checkpointFrames: 16 }); // a second process (a worker)
    const acked: string[] = [];
    await putMany(a, 'a/', 30, acked);
    failSlot2 = true;
    await putMany(a, 'b/', 20, acked);
    assert.deepEqual(failed, [dirs[2]], 'the failure is reported (to the drive set)');
    await putMany(w, 'w/', 10, acked);
    assert.deepEqual(MIRRORS.get(w)!.liveSlots, [1], 'the worker followed the drop');
    failSlot2 = false;
    // Back: re-admitted by the other process than the one that dropped it.
    assert.deepEqual(await MIRRORS.get(w)!.readmit(), [2]);
    assert.deepEqual(await MIRRORS.get(w)!.readmit(), [], 'a member already: nothing to do');
    assert.deepEqual(readCopyState(dirs[0]!)!.members, [0, 1, 2]);
    assert.deepEqual(readCopyState(dirs[2]!), readCopyState(dirs[0]!));
    await putMany(a, 'c/', 40, acked);
    assert.deepEqual(MIRRORS.get(a)!.liveSlots, [1, 2], 'the first process followed the re-admission');
    await putMany(w, 'x/', 40, acked);
    await onlyCopy(dirs, 2, acked, listing(a));
    // The disk fails again (dropped at the next write) and is replaced by an empty one: a fresh copy.
    failSlot2 = true;
    await putMany(a, 'd/', 10, acked);
    assert.deepEqual(readCopyState(dirs[0]!)!.members, [0, 1]);
    failSlot2 = false;
    rmSync(dirs[2]!, { recursive: true });
    mkdirSync(dirs[2]!);
    assert.deepEqual(await MIRRORS.get(a)!.readmit(), [2]);
    await putMany(w, 'e/', 30, acked);
    // The drive set takes the drive offline (no I/O error reached the copy): dropped now, then back.
    await MIRRORS.get(w)!.dropCopy(2, 'EIO');
    assert.deepEqual(readCopyState(dirs[0]!)!.members, [0, 1]);
    await putMany(a, 'g/', 10, acked);
    assert.deepEqual(MIRRORS.get(a)!.liveSlots, [1]);
    assert.deepEqual(await MIRRORS.get(a)!.readmit(), [2]);
    await putMany(a, 'f/', 30, acked);
    await onlyCopy(dirs, 2, acked, listing(a));
    await w.close();
    await a.close();
    // After a clean close, a start from slot 2 alone still has everything.
    await onlyCopy(dirs, 2, acked);
  });

  it('a round copies only what no process copied yet (the processes share how far the copies hold the generation)', async () => {
    const dirs = await drives(3);
    const a = await open(dirs, { checkpointFrames: 40 });
    await a.createBucket(BUCKET);
    const b = await open(dirs, { start: false, checkpointFrames: 40 });
    const [ma, mb] = [MIRRORS.get(a)!, MIRRORS.get(b)!];
    const acked: string[] = [];
    for (let i = 0; i < 12; i++) {
      await putMany(a, `a${i}/`, 4, acked);
      // Everything committed is acknowledged, so on the copies: b's round finds nothing to copy.
      const copied = mb.stats.bytesCopied;
      await mb.round(async () => undefined);
      assert.equal(mb.stats.bytesCopied, copied, `round ${i}: nothing copied twice`);
      await putMany(b, `b${i}/`, 4, acked);
      const copiedA = ma.stats.bytesCopied;
      await ma.round(async () => undefined);
      assert.equal(ma.stats.bytesCopied, copiedA, `round ${i}: nor by the other process`);
    }
    assert.ok(ma.stats.switches + mb.stats.switches >= 2, 'across WAL generations');
    const expected = listing(a);
    for (const slot of [1, 2]) await onlyCopy(dirs, slot, acked, expected);
    await b.close();
    await a.close();
  });

  it('frames a process copied but never synced (stopped, as if killed, before its fdatasync): the next round of another process makes them durable before it answers', async () => {
    const dirs = await drives(2);
    const cut = powerCut(dirs);
    let stopA = false;
    const held: Array<() => void> = [];
    let copiedByA: () => void = () => undefined;
    const aCopied = new Promise<void>((r) => (copiedByA = r));
    const a = await open(dirs, {
      syncCopy: (_slot, fd) => {
        if (!stopA) return cut.sync(fd);
        copiedByA(); // a's round copied its frames (the copy is made before the syncs start)
        return new Promise<void>((r) => held.push(r)); // and never syncs them
      },
    });
    await a.createBucket(BUCKET);
    const b = await open(dirs, { start: false, syncCopy: (_slot, fd) => cut.sync(fd) });
    const acked: string[] = [];
    await putMany(a, 'a/', 20, acked);
    stopA = true;
    let pendingAnswered = false;
    const pending = Promise.resolve(a.putObject(objectRecord('b', 'pending/1'))).then(() => (pendingAnswered = true));
    await aCopied;
    await putMany(b, 'b/', 20, acked);
    assert.equal(pendingAnswered, false, 'the stopped process answered nothing');
    // The copy as the last finished sync left it: every answered write is there.
    await cut.reopenCut(acked);
    stopA = false;
    for (const r of held) r();
    await pending;
    await b.close();
    await a.close();
  });
});
