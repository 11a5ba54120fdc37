// Keeps pieces on disk while a reader in any process may still read them, and frees them after.
//
// In this process: readers pin the pieces of the record they read (counters, as before: a
// getObject record's pin, taken over by openRead's stream, released when it closes), and a free of
// a pinned piece waits for its last unpin. Across processes (freeGraceMs > 0, several servers on
// one data directory): a free is a row in the metadata store's pending_frees table, with its time,
// and a piece is unlinked only when the grace period has passed since then and no live read pin
// row holds it. A reader read its record before the free was recorded (the record still named the
// piece), so its bytes are safe for the grace period without any write; a stream still open a
// quarter of the grace period after its record was read places a pin row with a lease, renewed
// while it streams, so a GET that streams for hours keeps its bytes. Short GETs write nothing.
// With freeGraceMs 0 the process holds the directory alone and frees at once (after local pins).
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Coordination } from './coord.js';
import type { DataRef, DataStore, ObjectRecord } from './types.js';

/** A getObject record's pin, waiting for openRead (which takes it over) or releaseObject. */
interface ReadLease {
  release: () => void;
  timer: NodeJS.Timeout;
  /** When the record was read (before the metadata read began). */
  readAt: number;
}

/** Pending frees unlinked per reaper batch. */
const REAP_BATCH = 200;

export class PieceKeeper {
  /** Data id → number of readers in this process holding it. */
  private readonly pins = new Map<string, number>();
  /** Pinned ids whose removal was requested (exclusive mode): removed at their last unpin. */
  private readonly deferredFrees = new Set<string>();
  /** Counts removals started (getObject's check that none happened between its read and its pin). */
  freeGen = 0;
  private readonly leases = new WeakMap<ObjectRecord, ReadLease>();
  private activeLeases = 0;
  private readonly pendingRemovals = new Set<Promise<unknown>>();
  private reapTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly coord: Coordination,
    private readonly data: DataStore,
    private readonly readLeaseMs: number,
    /** 0: this process owns the directory alone. */
    readonly freeGraceMs: number,
    private readonly log?: Logger,
  ) {}

  stats(): { pinnedIds: number; deferredFrees: number; leases: number } {
    return { pinnedIds: this.pins.size, deferredFrees: this.deferredFrees.size, leases: this.activeLeases };
  }

  /** Pins the pieces in this process; returns an idempotent release. */
  pin(refs: DataRef[]): () => void {
    const ids = refs.map((r) => r.id);
    for (const id of ids) this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of ids) {
        const n = (this.pins.get(id) ?? 1) - 1;
        if (n > 0) {
          this.pins.set(id, n);
          continue;
        }
        this.pins.delete(id);
        if (this.deferredFrees.delete(id)) this.track(this.removeNow(id));
      }
    };
  }

  /** Attaches a pin to the record until openRead takes it over, releaseObject, or the lease ends. */
  lease(record: ObjectRecord, release: () => void, readAt: number): ObjectRecord {
    if (record.data.length === 0) return record; // nothing pinned, nothing to release
    const timer = setTimeout(() => this.releaseObject(record), this.readLeaseMs);
    timer.unref();
    this.leases.set(record, { release, timer, readAt });
    this.activeLeases++;
    return record;
  }

  releaseObject(record: ObjectRecord): void {
    this.takeLease(record)?.release();
  }

  /** Removes and returns the record's lease (openRead takes its pin over). */
  takeLease(record: ObjectRecord): { release: () => void; readAt: number } | undefined {
    const l = this.leases.get(record);
    if (!l) return undefined;
    this.leases.delete(record);
    this.activeLeases--;
    clearTimeout(l.timer);
    return l;
  }

  /**
   * Shared mode: keeps the pieces pinned in the metadata store while `stream` is open, from a
   * quarter of the grace period after `readAt` (frees recorded after readAt wait at least the
   * grace period), renewing the pin's lease every eighth of the grace period for half of it.
   */
  holdWhileStreaming(refs: DataRef[], readAt: number, stream: Readable): void {
    if (this.freeGraceMs === 0 || refs.length === 0) return;
    const ids = refs.map((r) => r.id);
    const pinId = randomUUID();
    const grace = this.freeGraceMs;
    let placed = false;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const place = async (): Promise<void> => {
      try {
        await this.coord.pin(pinId, ids, Date.now() + grace / 2);
        placed = true;
      } catch (err) {
        this.log?.warn({ err }, 'could not pin the pieces of a long read (retried)');
      }
      if (done && placed) await this.coord.unpin(pinId).catch(() => undefined);
    };
    const tick = (): void => {
      if (done) return;
      void place().finally(() => {
        if (done) return;
        timer = setTimeout(tick, Math.max(1, grace / 8));
        timer.unref();
      });
    };
    timer = setTimeout(tick, Math.max(0, readAt + grace / 4 - Date.now()));
    timer.unref();
    stream.once('close', () => {
      done = true;
      clearTimeout(timer);
      if (placed) this.track(this.coord.unpin(pinId).catch((err: unknown) => this.log?.warn({ err }, 'could not drop a read pin (it expires)')));
    });
  }

  /** Frees pieces nothing references any more (see the file comment for when they are unlinked). */
  async free(refs: DataRef[]): Promise<void> {
    if (refs.length === 0) return;
    if (this.freeGraceMs === 0) {
      for (const ref of refs) {
        if (this.pins.has(ref.id)) this.deferredFrees.add(ref.id);
        else await this.removeNow(ref.id);
      }
      return;
    }
    try {
      await this.coord.addPendingFrees(
        refs.map((r) => r.id),
        Date.now(),
      );
    } catch (err) {
      // Not fatal for the request: the orphan sweep finds the pieces.
      this.log?.warn({ err }, 'could not record pieces to free');
      return;
    }
    this.scheduleReap(this.freeGraceMs + 50);
  }

  private scheduleReap(delayMs: number): void {
    if (this.reapTimer || this.closed) return;
    this.reapTimer = setTimeout(() => {
      this.reapTimer = undefined;
      this.track(this.reap().catch((err: unknown) => this.log?.warn({ err }, 'could not free pending pieces')));
    }, delayMs);
    this.reapTimer.unref();
  }

  /**
   * Unlinks one batch of pending frees whose grace period is over and that no reader holds (in
   * any process: pin rows; in this one: local pins). Returns how many; more may be due.
   */
  async reap(limit = REAP_BATCH): Promise<number> {
    if (this.freeGraceMs === 0) return 0;
    const now = Date.now();
    const ids = await this.coord.takeDueFrees(now - this.freeGraceMs, now, limit, (id) => this.pins.has(id));
    for (const id of ids) await this.removeNow(id);
    if (ids.length === limit) this.scheduleReap(0);
    else if ((await this.coord.pendingFrees()) > 0) this.scheduleReap(Math.max(50, this.freeGraceMs / 4));
    return ids.length;
  }

  /** Whether this process has readers on the piece. */
  pinned(id: string): boolean {
    return this.pins.has(id);
  }

  /** Exclusive mode: removes now, or at the last local unpin. */
  deferOrRemove(id: string): Promise<void> {
    if (this.pins.has(id)) {
      this.deferredFrees.add(id);
      return Promise.resolve();
    }
    return this.removeNow(id);
  }

  async removeNow(id: string): Promise<void> {
    this.freeGen++;
    try {
      await this.data.remove(id);
    } catch (err) {
      // Not fatal for the request: the orphan sweep removes it.
      this.log?.warn({ err, dataId: id }, 'could not free data');
    }
  }

  private track(p: Promise<unknown>): void {
    const t = p.finally(() => this.pendingRemovals.delete(t));
    this.pendingRemovals.add(t);
  }

  /** Waits for removals in flight; deferred frees still pinned stay on disk for the sweep. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reapTimer);
    await Promise.all([...this.pendingRemovals]);
  }
}
