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

/** Wait before retry `attempt` (0-based) of a write that found the database locked: 5 ms doubling to 200 ms. */
export function busyBackoff(attempt: number): number {
  return Math.min(200, 5 * 2 ** Math.min(attempt, 6));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a read; a lock conflict (rare in WAL mode: readers never wait for writers) is StoreError('Busy'). */
export function read<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (isBusyError(err)) throw busyError();
    throw err;
  }
}

export function busyError(): StoreError {
  return new StoreError('Busy', 'the metadata database is locked by another connection');
}
