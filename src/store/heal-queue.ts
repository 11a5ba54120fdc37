// The heal queue (format 11, docs/drives.md "Healing and scrub"): shards of erasure-coded pieces
// that need rebuilding, one entry per (piece, drive), kept in the metadata store so that it is
// shared by every process of the server and survives restarts. The erasure store reports into it
// through HealSink (its DegradedSink: never waits, batches, dedupes); the heal job (src/jobs/heal.ts)
// takes the due entries, heals and removes them, or puts them off with a backoff.
import type { DegradedReason, DegradedSink } from './data/erasure/types.js';

/** Why a shard is queued: what the erasure store reported, or a scrub's finding. */
export type HealReason = DegradedReason | 'scrub';

/** One shard to heal. Times are ms since the epoch. */
export interface HealEntry {
  readonly pieceId: string;
  readonly drive: number;
  readonly reason: HealReason;
  /** When the shard was first reported (kept while the entry lives). */
  readonly firstSeen: number;
  /** When it was last reported: an entry reported again while it was being healed is kept. */
  readonly lastSeen: number;
  /** Heal attempts that failed or were put off (drive offline). */
  readonly attempts: number;
  /** Not retried before this time. */
  readonly nextTry: number;
}

/** A report of a degraded shard (HealSink's batch). */
export interface HealReport {
  readonly pieceId: string;
  readonly drive: number;
  readonly reason: HealReason;
  /** When it was reported. */
  readonly at: number;
}

/** A queued piece as the heal status shows it, with the object version it belongs to when one does. */
export interface DegradedPiece {
  readonly pieceId: string;
  readonly drives: number[];
  readonly reason: HealReason;
  readonly firstSeen: number;
  readonly attempts: number;
  readonly nextTry: number;
  readonly object?: { bucket: string; key: string; versionId: string };
}

/** What the queue holds, counted. */
export interface HealQueueCounts {
  /** Entries (shards). */
  readonly shards: number;
  /** Distinct pieces. */
  readonly pieces: number;
  /** Entries per drive index. */
  readonly byDrive: Record<number, number>;
  /** The oldest first report, or undefined when the queue is empty. */
  readonly oldest?: number;
}

type MaybeAsync<T> = T | Promise<T>;

/** The heal queue's table in the metadata store (meta/sqlite-heal.ts). */
export interface HealQueueStore {
  /**
   * Adds reports: a new (piece, drive) is due at once; one already queued keeps its first report,
   * attempts and next try, and takes the later last report. Answers how many were new.
   */
  add(reports: readonly HealReport[]): MaybeAsync<number>;
  /** Up to `limit` entries due at `now` (next try ≤ now), oldest next try first, whole pieces where the limit allows. */
  due(now: number, limit: number): HealEntry[];
  /** The entries of one piece. */
  entriesOf(pieceId: string): HealEntry[];
  /** Removes the piece's entries on `drives` last reported at or before `reportedBy` (a later report stays queued). */
  remove(pieceId: string, drives: readonly number[], reportedBy: number): MaybeAsync<void>;
  /** Puts the piece's entries on `drives` off until `nextTry`, one more attempt each. */
  postpone(pieceId: string, drives: readonly number[], nextTry: number): MaybeAsync<void>;
  counts(): HealQueueCounts;
  /** Up to `limit` queued pieces in piece id order after `after`, with their object version when one references them. */
  degraded(limit: number, after?: string): DegradedPiece[];
}

/** Reports kept in memory at most (beyond: dropped and counted; the scrub finds those shards again). */
export const HEAL_SINK_MAX_PENDING = 100_000;

type Log = { warn(obj: object, msg: string): void };

/** HealSink's key of one shard: its pending report and its last write. */
const shardKey = (drive: number, pieceId: string): string => `${drive}/${pieceId}`;

/**
 * A shard this sink reported is written again at most once in this time (ms): a hot object with a
 * bad shard is read many times before the heal job gets to it, and each turn's reports would
 * otherwise cost a metadata write (synced on every metadata copy).
 */
export const HEAL_SINK_REPEAT_MS = 1000;

/**
 * The erasure store's DegradedSink over the heal queue: `degraded()` only notes the report (deduped
 * by piece and drive) and returns; the reports of a turn of the event loop are written in one
 * transaction right after it. A shard written less than HEAL_SINK_REPEAT_MS ago is held back until
 * that time has passed, then written with its latest report time: the entry's last report still
 * moves (a report made while the shard was being healed keeps it queued, HealQueueStore.remove), one
 * write later. A failed write is retried with the next reports (after a second); more than
 * HEAL_SINK_MAX_PENDING waiting reports are dropped and counted (the scrub finds them).
 */
export class HealSink implements DegradedSink {
  private pending = new Map<string, HealReport>();
  private scheduled = false;
  private flushing: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** Reports held back (written less than HEAL_SINK_REPEAT_MS ago) are looked at again then. */
  private held: NodeJS.Timeout | undefined;
  /** When this sink last wrote each shard (oldest write first), for the last HEAL_SINK_REPEAT_MS. */
  private written = new Map<string, number>();
  /** Reports dropped because too many were waiting. */
  dropped = 0;
  private closed = false;

  constructor(
    private readonly queue: HealQueueStore,
    private readonly log?: Log,
    private readonly now: () => number = Date.now,
  ) {}

  degraded(pieceId: string, drives: readonly number[], reason: DegradedReason): void {
    const at = this.now();
    for (const drive of drives) {
      const k = shardKey(drive, pieceId);
      if (!this.pending.has(k) && this.pending.size >= HEAL_SINK_MAX_PENDING) {
        this.dropped++;
        continue;
      }
      this.pending.set(k, { pieceId, drive, reason, at });
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.closed || this.retry !== undefined || this.pending.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush(false);
    });
  }

  /**
   * Writes what is pending (resolves once written, or once the write failed: it is retried later);
   * with `all` false, not the shards written less than HEAL_SINK_REPEAT_MS ago (they stay pending,
   * looked at again when that time has passed).
   */
  flush(all = true): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush(all));
    if (this.pending.size === 0) return Promise.resolve();
    const now = this.now();
    for (const [k, t] of this.written) {
      if (now - t < HEAL_SINK_REPEAT_MS) break;
      this.written.delete(k);
    }
    let batch: HealReport[];
    if (all) {
      batch = [...this.pending.values()];
      this.pending = new Map();
    } else {
      batch = [];
      for (const [k, r] of this.pending) {
        if (this.written.has(k)) continue;
        batch.push(r);
        this.pending.delete(k);
      }
      if (this.pending.size > 0 && this.held === undefined && !this.closed) {
        this.held = setTimeout(() => {
          this.held = undefined;
          this.schedule();
        }, HEAL_SINK_REPEAT_MS);
        this.held.unref();
      }
      if (batch.length === 0) return Promise.resolve();
    }
    const write = async (): Promise<void> => {
      try {
        await this.queue.add(batch);
        const at = this.now();
        for (const r of batch) {
          const k = shardKey(r.drive, r.pieceId);
          this.written.delete(k);
          this.written.set(k, at);
        }
      } catch (err) {
        // The metadata store closed (shutdown): what is left is found again by reads and the scrub.
        if (err instanceof TypeError && /not open/.test(err.message)) {
          this.closed = true;
          return;
        }
        // Put back (newer reports of the same shard win), and try again in a second.
        for (const r of batch) {
          const k = shardKey(r.drive, r.pieceId);
          if (!this.pending.has(k) && this.pending.size < HEAL_SINK_MAX_PENDING) this.pending.set(k, r);
        }
        this.log?.warn({ err, reports: batch.length }, 'heal queue: could not record degraded shards, retrying');
        if (!this.closed && this.retry === undefined) {
          this.retry = setTimeout(() => {
            this.retry = undefined;
            this.schedule();
          }, 1000);
          this.retry.unref();
        }
      }
    };
    // Cleared in a later microtask than this assignment, even when the write finishes at once.
    const flushing: Promise<void> = write().finally(() => {
      if (this.flushing === flushing) this.flushing = undefined;
    });
    this.flushing = flushing;
    return flushing;
  }

  /** Reports waiting to be written (tests, diagnostics). */
  get waiting(): number {
    return this.pending.size;
  }

  /** Writes what is pending once more, then stops (before the metadata store closes). */
  async close(): Promise<void> {
    clearTimeout(this.retry);
    this.retry = undefined;
    clearTimeout(this.held);
    this.held = undefined;
    await this.flush();
    this.closed = true;
  }
}
