// A fresh copy of the metadata database written while the server runs (mirror.ts WalMirror.readmit:
// a copy drive that failed and came back, or was replaced by an empty one), and the copies' state
// for the heal status. The copy is made under SQLite's write lock, so nothing commits or
// checkpoints meanwhile: the primary's database file and its WAL's committed frames are a
// consistent pair, copied byte for byte (the frames at their own offsets, as every round copies
// them), synced, then admitted by a new epoch (docs/on-disk-format.md, "Metadata copies").
import { closeSync, constants, copyFileSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readCopyState, syncDir } from './mirror-start.js';
import { writeAll } from './wal-frames.js';

const DB_FILE = 'meta.db';

/** Writes `bytes` to `path` (created or truncated) and fsyncs it. */
function writeSynced(path: string, bytes: Buffer): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
  try {
    writeAll(fd, bytes, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Whether `dir` is a directory now (a copy drive that is back; never created here). */
export function reachable(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Replaces the copy in `dir` by the primary's database `primaryDb` and `wal` (the primary WAL's
 * committed bytes from offset 0; empty when the WAL holds no frame). Call under the write lock.
 * The copy's old WAL goes first (never replayed over the new database), then the database, then
 * the WAL, each synced, renamed into place and the directory synced. Its `meta-copy.json` stays as
 * it was (an older epoch: a crash midway leaves a copy that is never chosen) until admitted.
 */
export function writeFreshCopy(primaryDb: string, wal: Buffer, dir: string): void {
  rmSync(join(dir, `${DB_FILE}-wal`), { force: true });
  rmSync(join(dir, `${DB_FILE}-shm`), { force: true });
  syncDir(dir);
  const tmpDb = join(dir, `${DB_FILE}.rebuild`);
  copyFileSync(primaryDb, tmpDb);
  const fd = openSync(tmpDb, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmpDb, join(dir, DB_FILE));
  if (wal.length > 0) {
    const tmpWal = join(dir, `${DB_FILE}-wal.rebuild`);
    writeSynced(tmpWal, wal);
    renameSync(tmpWal, join(dir, `${DB_FILE}-wal`));
  }
  syncDir(dir);
}

/** One copy drive as the heal status shows it. */
export interface MetaCopyStatus {
  path: string;
  /** `primary`: the database the processes write; `in-sync`: a copy holding every acknowledged write; `out`: dropped (not a member). */
  state: 'primary' | 'in-sync' | 'out';
}

/** The copies' state from the newest membership on the drives (the same whichever process asks). */
export function metaCopyStatus(dirs: readonly string[]): { epoch: number; copies: MetaCopyStatus[] } | undefined {
  if (dirs.length <= 1) return undefined;
  const newest = dirs.map((d) => readCopyState(d)).reduce((a, s) => (s && (!a || s.epoch > a.epoch) ? s : a), undefined);
  if (!newest) return undefined;
  return {
    epoch: newest.epoch,
    copies: dirs.map((path, i) => ({ path, state: i === newest.primary ? 'primary' : newest.members.includes(i) ? 'in-sync' : 'out' })),
  };
}
