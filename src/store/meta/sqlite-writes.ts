// How the SQLite metadata store's write transactions run: at once or batched per event-loop turn,
// retried off the event loop while another process holds the write lock, and resolved only after
// the group commit's WAL fdatasync (wal-sync.ts) covers them. SqliteMetaStore builds the
// transactions; this decides when they run and when their callers hear of it.
import { busyBackoff, busyError, isBusyError, sleep, storeErrorOf } from './sqlite-busy.js';
import type { Db } from './sqlite-sql.js';
import type { WalSync } from './wal-sync.js';

export class WriteScheduler {
  private readonly batchTx: (runs: Array<() => unknown>) => Array<{ ok: boolean; value: unknown }>;

  /**
   * `wal` undefined: no group commit (durability 'none' or `:memory:`); `busyRetryMs`: how long a
   * write keeps retrying while another connection holds the write lock.
   */
  constructor(
    db: Db,
    private readonly wal: WalSync | undefined,
    private readonly busyRetryMs: number,
  ) {
    this.batchTx = db.transaction((runs: Array<() => unknown>) =>
      runs.map((run) => {
        try {
          return { ok: true, value: run() };
        } catch (err) {
          return { ok: false, value: err };
        }
      }),
    ).immediate;
  }

  /**
   * `value` once the transactions committed so far are on disk: every write method returns through
   * here (a promise with durability 'fsync', the value itself with 'none').
   */
  durable<T>(value: T): T | Promise<T> {
    return this.wal
      ? this.wal.sync().then(
          () => value,
          (err: unknown) => {
            throw storeErrorOf(err);
          },
        )
      : value;
  }

  /**
   * Runs a write transaction now and returns through durable(). If another connection holds the
   * write lock (SQLITE_BUSY at BEGIN IMMEDIATE: nothing happened), it is retried off the event loop
   * with backoff for up to busyRetryMs, then fails with StoreError('Busy').
   */
  now<T>(run: () => T): T | Promise<T> {
    let value: T;
    try {
      value = run();
    } catch (err) {
      if (!isBusyError(err)) throw storeErrorOf(err);
      return this.retryBusy(run).then((v) => this.durable(v));
    }
    return this.durable(value);
  }

  private async retryBusy<T>(run: () => T): Promise<T> {
    const deadline = Date.now() + this.busyRetryMs;
    for (let attempt = 0; ; attempt++) {
      await sleep(busyBackoff(attempt));
      try {
        return run();
      } catch (err) {
        if (!isBusyError(err)) throw storeErrorOf(err);
        if (Date.now() >= deadline) throw busyError();
      }
    }
  }

  /** Object writes waiting for the next batch (see batched()), each with the time it gives up on a locked database. */
  private batch: Array<{ run: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void; deadline: number }> = [];
  /** A flush is scheduled (next turn, or after a backoff while the database is locked). */
  private flushScheduled = false;
  /** Consecutive batches that found the database locked (for the backoff). */
  private busyAttempts = 0;

  /** Transactions in which a batch ran (tests: object writes of one turn share one). */
  batches = 0;

  /**
   * Object writes (PutObject, DeleteObject) of one event-loop turn run in one transaction, each in
   * its own savepoint (better-sqlite3 nests a transaction function as a SAVEPOINT), so one write's
   * failed condition or missing bucket undoes only that write. The commit's WAL frames then cover
   * the B-tree pages the writes share once instead of once each, and one sync covers them all. A
   * write that fails is refused at once; the others resolve once the batch is on disk. While
   * another process holds the write lock the batch waits (flushBatch retries it with backoff),
   * each write until its own deadline. Without group commit (durability 'none') writes run at
   * once, synchronously, unless the database is locked (then as now()).
   */
  batched<T>(run: () => T): T | Promise<T> {
    if (!this.wal) return this.now(run);
    return new Promise<T>((resolve, reject) => {
      this.batch.push({ run, resolve: resolve as (v: unknown) => void, reject, deadline: Date.now() + this.busyRetryMs });
      this.scheduleFlush(0);
    });
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const go = (): void => {
      this.flushScheduled = false;
      this.flushBatch();
    };
    if (delayMs === 0) setImmediate(go);
    else setTimeout(go, delayMs);
  }

  private flushBatch(): void {
    const items = this.batch;
    this.batch = [];
    if (items.length === 0) return;
    let results: Array<{ ok: boolean; value: unknown }>;
    try {
      results = this.batchTx(items.map((i) => i.run));
    } catch (err) {
      if (isBusyError(err)) {
        // Another connection holds the write lock (BEGIN IMMEDIATE failed: nothing happened). The
        // writes wait for a later batch, in order, ahead of those queued meanwhile; a write whose
        // retry time is up fails with Busy.
        const now = Date.now();
        const waiting = items.filter((i) => {
          if (now < i.deadline) return true;
          i.reject(busyError());
          return false;
        });
        this.batch = [...waiting, ...this.batch];
        if (this.batch.length > 0) this.scheduleFlush(busyBackoff(this.busyAttempts++));
        return;
      }
      // The batch's own BEGIN or COMMIT failed (disk full, I/O error): none of it happened.
      for (const i of items) i.reject(storeErrorOf(err));
      return;
    }
    this.busyAttempts = 0;
    this.batches++;
    const done: Array<{ item: (typeof items)[number]; value: unknown }> = [];
    results.forEach((r, n) => {
      if (r.ok) done.push({ item: items[n]!, value: r.value });
      else items[n]!.reject(storeErrorOf(r.value));
    });
    if (done.length === 0) return;
    this.wal!.sync().then(
      () => done.forEach((d) => d.item.resolve(d.value)),
      (err: unknown) => done.forEach((d) => d.item.reject(storeErrorOf(err))),
    );
  }
}
