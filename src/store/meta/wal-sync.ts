// Group commit for the SQLite store. Transactions commit with synchronous=NORMAL (no fsync on the
// event loop); before a write is acknowledged, the WAL file is fdatasync'ed on libuv's thread
// pool. Every commit that happened before a sync started is durable when it ends, so the writes of
// many concurrent requests share one fdatasync (docs/on-disk-format.md, "Durability").
import { closeSync, fdatasync, openSync } from 'node:fs';
import { syncSkipped } from '../sync-switch.js';

/**
 * The sync a WalSync makes. Injectable only so a test can record the order of the write protocol
 * (src/store/write-order.test.ts); the default honours the test-only STRATA_TEST_SKIP_SYNC switch
 * (../sync-switch.ts), which the power-cut test uses to prove it fails.
 *
 * No directory fsync is needed for the WAL's own entry: SQLite creates the WAL when a connection
 * opens the database (again after each clean shutdown, which deletes it) and syncs the new WAL's
 * header at its first commit, and its first sync of a newly created WAL also fsyncs the directory.
 * The power-cut test covers this (a clean restart, then writes, then the cut).
 */
export interface WalSyncCalls {
  fdatasync(fd: number): Promise<void>;
}

export const WAL_SYNC_CALLS: WalSyncCalls = {
  fdatasync: (fd) => (syncSkipped('wal') ? Promise.resolve() : new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())))),
};

/**
 * Copies of the WAL on other drives (mirror.ts). A sync then runs `round`: it copies what was
 * committed so far to every copy and resolves once the WAL (`syncPrimary`) and every copy are on disk.
 */
export interface WalMirrorHook {
  round(syncPrimary: () => Promise<void>): Promise<void>;
  /** At close, after the last sync: the copies' last round and checkpoint. */
  close(syncPrimary: () => Promise<void>): Promise<void>;
}

export class WalSync {
  private fd: number | undefined;
  /** The fdatasync running now. */
  private current: Promise<void> | undefined;
  /** The one queued behind it: covers every commit made while `current` runs. */
  private next: Promise<void> | undefined;
  /** Completed fdatasync calls (tests and diagnostics). */
  syncs = 0;

  constructor(
    private readonly walPath: string,
    private readonly calls: WalSyncCalls = WAL_SYNC_CALLS,
    private readonly mirror?: WalMirrorHook,
  ) {}

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (this.next) return this.next;
    if (this.current) {
      // The running sync may have started before our commit was written: queue one more.
      const after = (): Promise<void> => {
        this.next = undefined;
        return this.start();
      };
      this.next = this.current.then(after, after);
      return this.next;
    }
    return this.start();
  }

  private start(): Promise<void> {
    // Opened on first use: the WAL exists once the connection has written (migrate() does).
    const fd = (this.fd ??= openSync(this.walPath, 'r'));
    const one = (): Promise<void> => this.calls.fdatasync(fd);
    const p = (this.mirror ? this.mirror.round(one) : one()).then(() => {
      this.syncs++;
    });
    this.current = p;
    const clear = (): void => {
      if (this.current === p) this.current = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  /** Waits for syncs in flight, then closes the file descriptor. */
  async close(): Promise<void> {
    await Promise.allSettled([this.current, this.next]);
    try {
      if (this.mirror) {
        const fd = (this.fd ??= openSync(this.walPath, 'r'));
        await this.mirror.close(() => this.calls.fdatasync(fd));
      }
    } finally {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
