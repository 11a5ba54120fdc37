// Large writes of a piece file: the buffers given to add() are gathered (by reference, no copy)
// until WRITE_BATCH bytes, then written by one writev — one system call and one thread-pool round
// trip per batch instead of one per 64 KiB socket chunk — with at most one write in flight while
// the next batch gathers. Measured in docs/performance.md, "Round two: large objects".
import type { FileHandle } from 'node:fs/promises';

/** Bytes gathered before a write. */
export const WRITE_BATCH = 2 * 1024 * 1024;

/** Counts of what the writers of one data store did (tests check the write sizes with it). */
export interface WriteStats {
  /** writev calls issued. */
  writes: number;
  /** Bytes they wrote. */
  bytes: number;
  /** The smallest write that was not the last of its file (0 before any). */
  smallestInner: number;
}

export function newWriteStats(): WriteStats {
  return { writes: 0, bytes: 0, smallestInner: 0 };
}

/** Writes all of `bufs` at the file's current position (writev may write less than asked). */
async function writevAll(fh: FileHandle, bufs: Buffer[], total: number): Promise<void> {
  let done = (await fh.writev(bufs)).bytesWritten;
  while (done < total) {
    // Short write (rare on a regular file): drop what went out, go on from there.
    let skip = done;
    const rest: Buffer[] = [];
    for (const b of bufs) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    bufs = rest;
    done += (await fh.writev(bufs)).bytesWritten;
  }
}

export class BatchWriter {
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private inFlight: Promise<void> | undefined;
  private lastSize = 0;

  /**
   * `release`: called with every buffer added once the write that carried it has ended (written,
   * or failed): the writer was its last user (the heal hands its rebuilt shards back to the block
   * pool so). A buffer of a batch never written (a failure before it was issued) is not released.
   */
  constructor(
    private readonly fh: FileHandle,
    private readonly stats?: WriteStats,
    private readonly min = WRITE_BATCH,
    private readonly release?: (buf: Buffer) => void,
  ) {}

  /**
   * Adds `buf` (kept by reference until written: the caller must not change it). When a batch is
   * full it is written; if the previous write is still in flight, the returned promise says when
   * it is done (await it before adding more: memory stays bounded at two batches). A failed
   * write is thrown there or by flush().
   */
  add(buf: Buffer): Promise<void> | undefined {
    if (buf.length === 0) return undefined;
    this.batch.push(buf);
    this.batchBytes += buf.length;
    return this.batchBytes >= this.min ? this.issue() : undefined;
  }

  /** Writes what is gathered and waits for every write. */
  async flush(): Promise<void> {
    if (this.batchBytes > 0) await this.issue();
    await this.inFlight;
  }

  /** Waits for a write in flight, ignoring its outcome (before the file is closed after a failure). */
  async settle(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }

  private issue(): Promise<void> | undefined {
    const bufs = this.batch;
    const total = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    if (this.stats) {
      this.stats.writes++;
      this.stats.bytes += total;
      if (this.lastSize > 0 && (this.stats.smallestInner === 0 || this.lastSize < this.stats.smallestInner)) this.stats.smallestInner = this.lastSize;
      this.lastSize = total;
    }
    // Chained after the write in flight: writes reach the file in order, and none after a failure.
    const prev = this.inFlight;
    const p = prev ? prev.then(() => writevAll(this.fh, bufs, total)) : writevAll(this.fh, bufs, total);
    p.catch(() => undefined); // observed by the caller's await, flush() or settle()
    const release = this.release;
    if (release) {
      const done = (): void => bufs.forEach(release);
      p.then(done, done);
    }
    this.inFlight = p;
    return prev;
  }
}
