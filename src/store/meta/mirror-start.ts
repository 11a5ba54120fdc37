// The copies' membership and the choice made at start, for mirror.ts (the scheme: its header and
// docs/on-disk-format.md, "Metadata copies"): each copy's `meta-copy.json` (epoch, members, primary),
// read and written durably; a worker follows the newest one; the starting process picks the
// freshest copy, keeps the members byte-identical to it, rebuilds the other slots and records the
// new membership.
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MirrorOptions } from './mirror.js';
import { writeFreshCopy } from './mirror-readmit.js';
import { applyWal, readAll } from './wal-frames.js';

export const COPY_FILE = 'meta-copy.json';
/** The database file in each copy directory. */
export const DB_FILE = 'meta.db';

/** What each copy's `meta-copy.json` says. */
export interface CopyState {
  /** Raised at every membership change; the highest epoch found at start is the truth. */
  epoch: number;
  /** Slots (indexes into the copy directories) holding every acknowledged write at this epoch. */
  members: number[];
  /** The slot whose database the processes write (the others are its copies). */
  primary: number;
}

export function readCopyState(dir: string): CopyState | undefined {
  try {
    const s = JSON.parse(readFileSync(join(dir, COPY_FILE), 'utf8')) as CopyState;
    if (typeof s.epoch === 'number' && Array.isArray(s.members) && typeof s.primary === 'number') return s;
  } catch {
    // Missing or torn: this copy proves nothing (a copy without a state is never chosen).
  }
  return undefined;
}

export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `meta-copy.json` atomically and durably (temp file, fsync, rename, directory fsync). */
export function writeCopyState(dir: string, state: CopyState): void {
  const tmp = join(dir, `${COPY_FILE}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(state)}\n`);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, COPY_FILE));
  syncDir(dir);
}

/** A worker: the newest membership on the drives names the primary and its copies. */
export function followCopies(dirs: readonly string[]): CopyState {
  const states = dirs.map((d) => readCopyState(d));
  const best = states.reduce<CopyState | undefined>((a, s) => (s && (!a || s.epoch > a.epoch) ? s : a), undefined);
  if (!best) throw new Error(`no metadata copy state in ${dirs.join(', ')}: the starting process writes it`);
  return best;
}

/**
 * The starting process: chooses the freshest copy (highest epoch, a member of it, the last primary
 * if present), brings it to a checkpointed state, keeps each other member whose database is
 * byte-identical to it once its own WAL is applied, rebuilds every other copy slot, and records the
 * new membership.
 */
export async function startCopies(dirs: readonly string[], opts: MirrorOptions): Promise<CopyState> {
  const present = dirs.map((d) => {
    try {
      if (opts.createDirs === false) {
        if (!statSync(d).isDirectory()) throw new Error(`${d} is not a directory`);
      } else mkdirSync(d, { recursive: true });
      return true;
    } catch (err) {
      opts.log?.warn({ drive: d, err }, 'metadata copy drive unreachable at start');
      return false;
    }
  });
  const states = dirs.map((d, i) => (present[i] ? readCopyState(d) : undefined));
  const hasDb = dirs.map((d, i) => present[i] === true && existsSync(join(d, DB_FILE)));
  const epoch = Math.max(-1, ...states.map((s) => s?.epoch ?? -1));
  let source: number;
  let inSync: number[];
  if (epoch < 0) {
    // A new set (or one whose first start did not finish): the first database found, else slot 0.
    source = Math.max(0, hasDb.indexOf(true));
    inSync = [];
  } else {
    const latest = states.find((s) => s?.epoch === epoch)!;
    const candidates = dirs.map((_, i) => i).filter((i) => states[i]?.epoch === epoch && latest.members.includes(i) && hasDb[i]);
    if (candidates.length === 0) throw new Error(`no up-to-date metadata copy is present (copies at epoch ${epoch}: slots ${latest.members.join(', ')})`);
    source = candidates.includes(latest.primary) ? latest.primary : candidates[0]!;
    inSync = candidates.filter((i) => i !== source);
    const absent = latest.members.filter((i) => !candidates.includes(i));
    if (absent.length > 0) opts.log?.warn({ absent: absent.map((i) => dirs[i]) }, 'metadata copies missing at start; their drives may hold a newer membership');
  }
  const srcDb = join(dirs[source]!, DB_FILE);
  // Bring the source to one file: SQLite recovers its WAL (a mirror's copy too) and checkpoints it.
  const db = new Database(srcDb);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  const keep = inSync.filter((i) => sameAfterApply(join(dirs[i]!, DB_FILE), srcDb));
  const rebuild = dirs.map((_, i) => i).filter((i) => i !== source && !keep.includes(i) && present[i]);
  if (rebuild.length > 0) {
    // First record that the copies about to be rebuilt are not members (a crash mid-rebuild then
    // leaves them with an older epoch, never chosen), then rebuild, then admit them.
    const interim: CopyState = { epoch: epoch + 1, members: [source, ...keep].sort((x, y) => x - y), primary: source };
    for (const i of interim.members) writeCopyState(dirs[i]!, interim);
    for (const i of rebuild) {
      try {
        rebuildCopy(srcDb, dirs[i]!);
        opts.log?.info({ drive: dirs[i] }, 'metadata copy rebuilt');
      } catch (err) {
        opts.log?.warn({ drive: dirs[i], err }, 'metadata copy could not be rebuilt; running without it');
      }
    }
  }
  const members = dirs.map((_, i) => i).filter((i) => i === source || keep.includes(i) || (rebuild.includes(i) && existsSync(join(dirs[i]!, DB_FILE))));
  let state: CopyState = { epoch: epoch + 2, members, primary: source };
  for (;;) {
    // A copy whose record cannot be written is left out (a new epoch on the others); the source's must succeed.
    const failed = state.members.filter((i) => {
      try {
        writeCopyState(dirs[i]!, state);
        return false;
      } catch (err) {
        if (i === source) throw err;
        opts.log?.warn({ drive: dirs[i], err }, 'metadata copy state could not be written; running without it');
        return true;
      }
    });
    if (failed.length === 0) return state;
    state = { epoch: state.epoch + 1, members: state.members.filter((i) => !failed.includes(i)), primary: source };
  }
}

/** Applies a copy's own WAL to its database, then compares it byte for byte with the source's. */
function sameAfterApply(copyDb: string, srcDb: string): boolean {
  try {
    const walPath = `${copyDb}-wal`;
    if (existsSync(walPath)) {
      const fd = openSync(walPath, 'r+');
      try {
        applyWal(fd, copyDb);
      } finally {
        closeSync(fd);
      }
    }
    return sameBytes(copyDb, srcDb);
  } catch {
    return false;
  }
}

function sameBytes(a: string, b: string): boolean {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const size = fstatSync(fa).size;
    if (size !== fstatSync(fb).size) return false;
    const step = 1 << 20;
    for (let off = 0; off < size; off += step) {
      const end = Math.min(size, off + step);
      if (!readAll(fa, off, end).equals(readAll(fb, off, end))) return false;
    }
    return true;
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/**
 * A fresh copy of the (checkpointed, unused) source database (mirror-readmit.ts writeFreshCopy with
 * no WAL): its old WAL removed first, the database synced and renamed into place. A byte copy, not
 * SQLite's backup API, so that copies stay byte-identical to the source (what the next start compares).
 */
function rebuildCopy(srcDb: string, dir: string): void {
  writeFreshCopy(srcDb, Buffer.alloc(0), dir);
}
