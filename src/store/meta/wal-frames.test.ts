// wal-frames.ts against SQLite itself: applying a WAL copy gives the bytes SQLite's checkpoint
// gives, a torn tail is ignored as SQLite's recovery ignores it, and the wal-index header read
// under the write lock counts exactly the committed frames.
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { applyWal, readShmHeader, readWalContents, sameFrames, walLength } from './wal-frames.js';

const root = mkdtempSync(join(tmpdir(), 'strata-walframes-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A database with `commits` transactions in its WAL (no checkpoint), and a byte copy of db + WAL taken while open. */
function withWal(commits: number): { dir: string; db: Database.Database; copy: string } {
  const dir = join(root, `w${n++}`);
  const copy = `${dir}-copy`;
  for (const d of [dir, copy]) mkdirSync(d, { recursive: true });
  const db = new Database(join(dir, 'meta.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)');
  db.pragma('wal_checkpoint(TRUNCATE)');
  const ins = db.prepare('INSERT OR REPLACE INTO t VALUES (?, ?)');
  for (let i = 0; i < commits; i++) ins.run(i % 40, Buffer.alloc(900, i));
  copyFileSync(join(dir, 'meta.db'), join(copy, 'meta.db'));
  copyFileSync(join(dir, 'meta.db-wal'), join(copy, 'meta.db-wal'));
  return { dir, db, copy };
}

/** The original's directory of a copy made by withWal. */
const withWalDir = (copy: string): string => copy.slice(0, -'-copy'.length);

function apply(copy: string, trusted = false, retire: 'truncate' | 'invalidate' = 'truncate'): number {
  const fd = openSync(join(copy, 'meta.db-wal'), 'r+');
  try {
    return applyWal(fd, join(copy, 'meta.db'), trusted, retire);
  } finally {
    closeSync(fd);
  }
}

describe('wal-frames.ts', () => {
  it('the wal-index header counts the committed frames of the WAL', () => {
    const { dir, db } = withWal(25);
    const shm = openSync(join(dir, 'meta.db-shm'), 'r');
    const h = readShmHeader(shm)!;
    closeSync(shm);
    const wal = readWalContents(readFileSync(join(dir, 'meta.db-wal')))!;
    assert.equal(walLength(h.mxFrame, h.pageSize), wal.end);
    assert.equal(wal.end, statSync(join(dir, 'meta.db-wal')).size);
    assert.deepEqual(h.salts, wal.header.salts);
    assert.equal(h.nBackfill, 0);
    db.close();
  });

  it('applying a WAL copy gives the same bytes as SQLite checkpointing the original (trusted or not)', () => {
    for (const trusted of [false, true]) {
      const { dir, db, copy } = withWal(120);
      assert.ok(apply(copy, trusted) > 0);
      assert.equal(statSync(join(copy, 'meta.db-wal')).size, 0, 'the copy WAL is emptied');
      db.pragma('wal_checkpoint(TRUNCATE)');
      assert.deepEqual(readFileSync(join(copy, 'meta.db')), readFileSync(join(dir, 'meta.db')));
      db.close();
    }
  });

  it('a torn last frame is not applied: the copy holds the previous commit and is consistent', () => {
    const { db, copy } = withWal(30);
    const walPath = join(copy, 'meta.db-wal');
    const full = readWalContents(readFileSync(walPath))!;
    truncateSync(walPath, full.end - 100);
    const torn = readWalContents(readFileSync(walPath))!;
    assert.ok(torn.end < full.end);
    // A flipped byte inside the last committed frame: also not applied.
    const bytes = readFileSync(walPath);
    bytes[torn.end - 50] = (bytes[torn.end - 50]! + 1) & 0xff;
    writeFileSync(walPath, bytes);
    const flipped = readWalContents(bytes)!;
    assert.ok(flipped.end < torn.end);
    apply(copy);
    const c = new Database(join(copy, 'meta.db'), { readonly: true });
    assert.equal((c.pragma('integrity_check') as Array<{ integrity_check: string }>)[0]!.integrity_check, 'ok');
    assert.ok((c.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n > 0);
    c.close();
    db.close();
  });

  it('retiring by invalidation: same bytes, the WAL keeps its length but is empty to SQLite and to readWalContents', () => {
    const { dir, db, copy } = withWal(120);
    const walPath = join(copy, 'meta.db-wal');
    const size = statSync(walPath).size;
    assert.ok(apply(copy, true, 'invalidate') > 0);
    assert.equal(statSync(walPath).size, size, 'the copy WAL keeps its blocks');
    assert.equal(readWalContents(readFileSync(walPath)), undefined, 'no valid header: nothing to apply');
    assert.equal(apply(copy, true, 'invalidate'), 0, 'applying again writes nothing');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const checkpointed = readFileSync(join(dir, 'meta.db'));
    assert.deepEqual(readFileSync(join(copy, 'meta.db')), checkpointed);
    // SQLite's own recovery of the copy (as a start does when the copy is chosen): same content.
    const c = new Database(join(copy, 'meta.db'));
    assert.equal((c.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 40);
    c.close();
    db.close();
  });

  it('a retired WAL under a torn first write of the next generation never brings back a prefix of the old one', () => {
    // The old generation's header is gone before the next generation is written, so whatever part
    // of that write reaches the disk (frames without their header, a header without some frames),
    // neither SQLite nor applyWal replays the old frames left behind it (older versions of pages
    // already applied) over the database.
    const { dir, db, copy } = withWal(120);
    const walPath = join(copy, 'meta.db-wal');
    const old = readFileSync(walPath);
    apply(copy, true, 'invalidate');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const applied = readFileSync(join(copy, 'meta.db'));
    const ins = db.prepare('INSERT OR REPLACE INTO t VALUES (?, ?)');
    for (let i = 0; i < 3; i++) ins.run(100 + i, Buffer.alloc(900, 200 + i));
    const next = readFileSync(join(dir, 'meta.db-wal'));
    assert.ok(next.length < old.length, 'a shorter generation: old frames remain behind it');
    const frame = readWalContents(next)!.header.pageSize + 24;
    const torn: Array<[string, Buffer]> = [
      // the frames reached the disk, the header did not (it is still retired)
      ['frames without header', Buffer.concat([Buffer.alloc(32), next.subarray(32), old.subarray(next.length)])],
      // the header reached the disk, the first frame did not (the old first frame is still there)
      ['header without first frame', Buffer.concat([next.subarray(0, 32), old.subarray(32, 32 + frame), next.subarray(32 + frame), old.subarray(next.length)])],
    ];
    for (const [what, bytes] of torn) {
      writeFileSync(join(copy, 'meta.db'), applied);
      writeFileSync(walPath, bytes);
      assert.equal(apply(copy, false, 'invalidate'), 0, `${what}: nothing applied`);
      assert.deepEqual(readFileSync(join(copy, 'meta.db')), applied, what);
      writeFileSync(walPath, bytes);
      const c = new Database(join(copy, 'meta.db'));
      assert.equal((c.pragma('integrity_check') as Array<{ integrity_check: string }>)[0]!.integrity_check, 'ok', what);
      assert.equal((c.prepare('SELECT count(*) AS n FROM t WHERE k < 40').get() as { n: number }).n, 40, what);
      c.close();
    }
    db.close();
  });

  it('sameFrames: a WAL with the same committed frames, and only those (not one behind, ahead, torn, retired)', () => {
    const { db, copy } = withWal(30);
    const walPath = join(copy, 'meta.db-wal');
    const bytes = readFileSync(walPath);
    const wal = readWalContents(bytes, true)!;
    const frame = wal.header.pageSize + 24;
    const check = (image: Buffer): boolean => {
      writeFileSync(walPath, image);
      const fd = openSync(walPath, 'r');
      try {
        return sameFrames(fd, bytes, wal);
      } finally {
        closeSync(fd);
      }
    };
    assert.equal(check(bytes), true, 'the same bytes');
    assert.equal(check(Buffer.concat([bytes, Buffer.alloc(3 * frame, 7)])), true, 'followed by bytes of no frame of the generation');
    const last = readWalContents(bytes.subarray(0, wal.end - frame), true)!;
    assert.equal(check(Buffer.concat([bytes.subarray(0, last.end), Buffer.alloc(wal.end - last.end)])), false, 'its last commit missing');
    db.prepare('INSERT OR REPLACE INTO t VALUES (?, ?)').run(1, Buffer.alloc(900, 99));
    assert.equal(check(readFileSync(join(withWalDir(copy), 'meta.db-wal'))), false, 'a commit more');
    const torn = Buffer.from(bytes);
    torn[wal.end - frame + 20] = (torn[wal.end - frame + 20]! + 1) & 0xff; // its last frame's checksum
    assert.equal(check(torn), false, 'torn');
    assert.equal(check(Buffer.concat([Buffer.alloc(32), bytes.subarray(32)])), false, 'retired');
    db.close();
  });
});
