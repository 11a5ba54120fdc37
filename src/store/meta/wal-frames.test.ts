// wal-frames.ts against SQLite itself: applying a WAL copy gives the bytes SQLite's checkpoint
// gives, a torn tail is ignored as SQLite's recovery ignores it, and the wal-index header read
// under the write lock counts exactly the committed frames.
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { applyWal, readShmHeader, readWalContents, walLength } from './wal-frames.js';

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

function apply(copy: string, trusted = false): number {
  const fd = openSync(join(copy, 'meta.db-wal'), 'r+');
  try {
    return applyWal(fd, join(copy, 'meta.db'), trusted);
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
});
