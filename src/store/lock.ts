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
// Workers (--workers N ≥ 2, src/primary.ts): the cluster primary takes strata.lock as a server
// would (EXCLUSIVE, or SHARED with --shared), so every other server is refused as before. Its
// workers cannot join that lock (they are other processes); each holds a SHARED lock on a second
// file, `strata.workers.lock` (holdWorkerLock). The primary's lock dies with the primary, but
// after a SIGKILL its workers live on for a moment (they exit once they notice the IPC channel
// closed): a server that takes strata.lock exclusively then checks that no worker still holds
// strata.workers.lock (taking it EXCLUSIVE for an instant), waiting up to WORKERS_EXIT_WAIT_MS for
// lingering workers to exit, and refuses to start if they do not, before any startup sweep would
// delete their writes in progress. A --shared server skips the check: it sweeps nothing that
// another process may be using, so lingering workers (which run with the shared rules) are safe.
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
/** Held SHARED by every worker of a cluster (see the header). */
export const WORKERS_LOCK_FILE = 'strata.workers.lock';
/** How long an exclusive start waits for the lingering workers of a server that died (ms). */
export const WORKERS_EXIT_WAIT_MS = 5000;

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

/** Workers of a server that is gone still hold the directory (a primary SIGKILLed, its workers not yet out). */
export class LingeringWorkersError extends Error {
  constructor(readonly dataDir: string) {
    super(
      `the data directory ${dataDir} is still in use by worker processes of a Strata server that stopped without them ` +
        `(${join(dataDir, WORKERS_LOCK_FILE)} is locked); they exit once they notice: retry in a moment, or stop them (ps: their --data is ${dataDir})`,
    );
    this.name = 'LingeringWorkersError';
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
export function lockDataDir(dataDir: string, opts: { shared?: boolean; workersExitWaitMs?: number; checkWorkers?: boolean } = {}): DataDirLock {
  const shared = opts.shared ?? false;
  const lock = takeLock(dataDir, LOCK_FILE, shared, () => new DataDirLockedError(dataDir, shared));
  if (!shared && opts.checkWorkers !== false) {
    try {
      awaitNoWorkers(dataDir, opts.workersExitWaitMs ?? WORKERS_EXIT_WAIT_MS);
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  return lock;
}

/**
 * A worker's hold on the directory (SHARED on strata.workers.lock, for its whole life): what tells a
 * starting server that this worker still runs after its primary is gone. The primary holds
 * strata.lock, so nothing contends for this but an exclusive start's instant check: a few retries.
 */
export function holdWorkerLock(dataDir: string): DataDirLock {
  for (let attempt = 0; ; attempt++) {
    try {
      return takeLock(dataDir, WORKERS_LOCK_FILE, true, () => new LingeringWorkersError(dataDir));
    } catch (err) {
      if (!(err instanceof LingeringWorkersError) || attempt >= 50) throw err;
      sleepSync(20);
    }
  }
}

/**
 * Waits (synchronously: this runs at startup, before anything else) until no worker holds
 * strata.workers.lock, at most `waitMs`; throws LingeringWorkersError after that. No file: no
 * worker ever ran on the directory.
 */
function awaitNoWorkers(dataDir: string, waitMs: number): void {
  let db: Database.Database;
  try {
    db = new Database(join(dataDir, WORKERS_LOCK_FILE), { timeout: 0, fileMustExist: true });
  } catch {
    return;
  }
  try {
    db.pragma('journal_mode = MEMORY');
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        db.exec('BEGIN EXCLUSIVE');
        db.exec('ROLLBACK');
        return;
      } catch (err) {
        if (!isBusy(err)) throw new Error(`cannot check the workers lock of ${dataDir}: ${err instanceof Error ? err.message : String(err)}`);
        if (Date.now() >= deadline) throw new LingeringWorkersError(dataDir);
        sleepSync(50);
      }
    }
  } finally {
    db.close();
  }
}

const isBusy = (err: unknown): boolean => (err as { code?: string }).code === 'SQLITE_BUSY' || (err as { code?: string }).code === 'SQLITE_LOCKED';

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** SHARED (a read transaction) or EXCLUSIVE on the SQLite file `name` of the directory, without waiting. */
function takeLock(dataDir: string, name: string, shared: boolean, busy: () => Error): DataDirLock {
  const db = new Database(join(dataDir, name), { timeout: 0 });
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
    if (isBusy(err)) throw busy();
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

/**
 * The locks of every drive of a set (issue 16, docs/drives.md): each drive is locked as a data
 * directory is, so a second server is refused any drive already in use. A drive that cannot be
 * opened (missing, unreadable) is skipped: the drive set takes it offline, and locks it with
 * `lockLater` before it brings it back. One drive: exactly lockDataDir / holdWorkerLock.
 */
export interface DrivesLock extends DataDirLock {
  /** The drives whose lock is held. */
  readonly locked: readonly string[];
  /**
   * Locks a drive skipped at start (it came back; a drive already locked: nothing to do); throws as
   * the start would have, except that workers holding the drive are taken for the server's own.
   */
  lockLater(dir: string): void;
}

/**
 * Locks `dirs` as lockDataDir (a server or a cluster primary) or holdWorkerLock (`worker`) lock one
 * directory. A drive held by another server throws (DataDirLockedError naming it) after the locks
 * already taken are released.
 */
export function lockDrives(dirs: readonly string[], opts: { shared?: boolean; worker?: boolean; workersExitWaitMs?: number } = {}): DrivesLock {
  const held: DataDirLock[] = [];
  const locked: string[] = [];
  const lockOne = (dir: string, skipUnopenable: boolean): void => {
    if (locked.includes(dir)) return;
    try {
      // Later (a drive back while the server runs), the workers holding this drive are the server's
      // own (a cluster primary's workers lock a returning drive first): no lingering-worker check.
      held.push(opts.worker ? holdWorkerLock(dir) : lockDataDir(dir, { ...opts, ...(!skipUnopenable && { checkWorkers: false }) }));
      locked.push(dir);
    } catch (err) {
      if (err instanceof DataDirLockedError || err instanceof LingeringWorkersError || !skipUnopenable || dirs.length === 1) throw err;
    }
  };
  const release = () => {
    for (const l of held.splice(0)) l.release();
  };
  try {
    for (const dir of dirs) lockOne(dir, true);
  } catch (err) {
    release();
    throw err;
  }
  return { dataDir: dirs[0]!, locked, release, lockLater: (dir) => lockOne(dir, false) };
}
