// Lock conflicts on the metadata database: another process (a backup tool, sqlite3 at the shell) may
// hold SQLite's write lock. The store never waits inside SQLite (that would block the event loop):
// a conflict is detected at once, writes retry asynchronously (sqlite.ts), and what cannot wait is
// StoreError('Busy'), which the S3 layer answers as 503 SlowDown.
import { StoreError } from '../errors.js';

/** SQLITE_BUSY / SQLITE_LOCKED, with any extended code: another connection holds a lock we need. */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

export const DEFAULT_BUSY_RETRY_MS = 3000;

/**
 * Wait before retry `attempt` (0-based) of a write that found the database locked: 1 ms doubling to
 * 200 ms. The usual holder is the other worker of the same server (its batch's transaction, or its
 * metadata copies' round), which lets go within a millisecond or two; a first wait of 5 ms left a
 * worker's whole batch idle for longer than the lock was held (docs/performance.md, "Waiting for the
 * other worker's lock"). A long holder (a backup, a shell) still costs only a few more attempts.
 */
export function busyBackoff(attempt: number): number {
  return Math.min(200, 2 ** Math.min(attempt, 8));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a read; a lock conflict (rare in WAL mode: readers never wait for writers) is StoreError('Busy'). */
export function read<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw storeErrorOf(err);
  }
}

/**
 * The typed StoreError for an error of the SQLite engine, so that nothing above the store knows
 * SQLite exists: SQLITE_FULL (and a full disk met by the WAL sync: ENOSPC, EDQUOT) is NoSpace,
 * SQLITE_BUSY / SQLITE_LOCKED is Busy, any other SQLITE_* code (I/O error, corruption, read-only
 * file...) is Internal with the engine's code and message (logged, never sent to a client).
 * Anything else (StoreErrors, programming errors) is returned unchanged.
 */
export function storeErrorOf(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  const message = err instanceof Error ? err.message : String(err);
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT') return withCause(new StoreError('NoSpace', message), err);
  if (isBusyError(err)) return withCause(busyError(), err);
  if (code.startsWith('SQLITE_')) return withCause(new StoreError('Internal', `metadata store: ${code}: ${message}`), err);
  return err;
}

function withCause(e: StoreError, cause: unknown): StoreError {
  (e as { cause?: unknown }).cause = cause;
  return e;
}

export function busyError(): StoreError {
  return new StoreError('Busy', 'the metadata database is locked by another connection');
}
