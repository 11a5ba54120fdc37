// The data-directory lock: one Strata process owns a data directory at a time, or (--shared)
// several processes that all said so share it (the performance setup: one server per core).
//
// Why SQLite: the lock must die with its process (a SIGKILLed server is restarted at once, so a
// pid file with a stale-lock timeout will not do), and Node has no flock() without native code.
// SQLite's unix VFS takes POSIX fcntl() locks, which the kernel releases when the process ends,
// however it ends. So `<data>/strata.lock` is an empty SQLite database on which this process
// holds an EXCLUSIVE transaction for its whole life (BEGIN EXCLUSIVE, never committed). Nothing is
// ever written to it (journal_mode=MEMORY: not even a journal file), so no crash can damage it.
// A second opener, in another process or this one, gets SQLITE_BUSY at once (busy timeout 0).
// Shared mode holds a read transaction instead (SQLite's SHARED lock, also an fcntl lock): any
// number of shared holders coexist, and an exclusive opener is refused while one lives, as a shared
// opener is while an exclusive holder lives. What must then hold across the processes (upload
// locks, read pins, frees, write intents, the jobs runner) lives in the metadata store (coord.ts).
//
// Why a separate file rather than `locking_mode=EXCLUSIVE` on meta.db: that would also shut out
// read-only connections (diagnostics, the crash harness checking the data directory, tests
// looking at the file) and change how WAL works (no shared memory index); the lock file leaves
// meta.db's behaviour untouched.
//
// Limits: a local file system is assumed (fcntl locks over NFS depend on the server's lock
// manager); deleting strata.lock while a server runs defeats the lock; and POSIX drops a
// process's fcntl locks when it closes *any* descriptor of the file, so nothing else in the
// process may open strata.lock (SQLite itself takes care of its own descriptors).
import { join } from 'node:path';
import Database from 'better-sqlite3';

export const LOCK_FILE = 'strata.lock';

/**
 * The connections holding locks. A strong reference: a Database object that is garbage collected
 * is closed, which would silently drop the lock of a caller that did not keep the handle.
 */
const held = new Set<Database.Database>();

/** The directory is in use by another process (or by another lock in this one). */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    shared = false,
  ) {
    super(
      shared
        ? `the data directory ${dataDir} is in use by a Strata process started without --shared ` +
            `(${join(dataDir, LOCK_FILE)} is locked); stop that server first, or start every server on it with --shared yes`
        : `the data directory ${dataDir} is in use by another Strata process ` +
            `(${join(dataDir, LOCK_FILE)} is locked); stop that server first, use another --data directory, ` +
            'or start every server on it with --shared yes',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly dataDir: string;
  /** Releases the lock (idempotent). Process exit releases it too, including SIGKILL. */
  release(): void;
}

/**
 * Takes the lock on an existing directory, without waiting: throws DataDirLockedError if another
 * holder has it. Call before opening the stores and before any startup sweep (the temp sweep
 * would delete another server's writes in progress).
 */
export function lockDataDir(dataDir: string, opts: { shared?: boolean } = {}): DataDirLock {
  const shared = opts.shared ?? false;
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    db.pragma('journal_mode = MEMORY');
    if (shared) {
      // A read transaction holds SHARED until released: reading the schema takes it.
      db.exec('BEGIN');
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } else {
      db.exec('BEGIN EXCLUSIVE');
    }
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY' || (err as { code?: string }).code === 'SQLITE_LOCKED') {
      throw new DataDirLockedError(dataDir, shared);
    }
    throw new Error(`cannot lock the data directory ${dataDir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  held.add(db);
  return {
    dataDir,
    release: () => {
      held.delete(db);
      if (db.open) db.close(); // rolls the empty transaction back and drops the fcntl locks
    },
  };
}
