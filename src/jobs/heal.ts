// The heal job (docs/drives.md, "Healing and scrub"): takes the due entries of the heal queue
// (store/heal-queue.ts: shards the erasure store, the scrub or a failed rebuild reported), asks the
// erasure store to rebuild each piece's bad shards from the healthy ones (ErasureMaintenance.healPiece)
// and removes the entries it healed. A shard whose drive is offline, or whose heal failed (fewer
// than k healthy shards for now), is put off with a backoff that doubles up to an hour. A few pieces
// per step, a turn of the event loop between steps (runner.ts), a round of at most ROUND_MS so the
// other jobs get their turn; the totals (bytes, shards, pieces healed) are kept in the job state.
import type { DriveState, ErasureMaintenance } from '../store/data/erasure/types.js';
import type { HealEntry } from '../store/heal-queue.js';
import type { Store } from '../store/store.js';
import { loadJobState, saveJobState } from './job-state.js';
import type { Job } from './runner.js';

/** The job's name and the name of its state (the totals). */
export const HEAL_JOB = 'heal';
/** Pieces healed per step. */
export const HEAL_STEP_PIECES = 4;
/** Entries read from the queue per step. */
const DUE_BATCH = 64;
/** A round ends after this long (the runner then runs the other jobs; the next round starts at its next tick). */
export const ROUND_MS = 2000;
/** First retry after a failed or put-off heal; doubled per attempt up to BACKOFF_MAX_MS. */
export const BACKOFF_BASE_MS = 5000;
export const BACKOFF_MAX_MS = 3_600_000;
/** Queued this long, an unreferenced piece whose heal fails is dropped from the queue (an orphan). */
export const ORPHAN_AGE_MS = 60_000;

/** The heal job's state: what it has healed since the queue was first used. */
export interface HealTotals {
  v: 1;
  /** Bytes written into rebuilt shards. */
  bytes: number;
  shards: number;
  pieces: number;
  /** Heal attempts that failed (retried later). */
  failures: number;
  /** ms since the epoch of the last shard healed. */
  lastHealAt?: number;
}

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

/** The wait before the next try of an entry that has had `attempts` attempts. */
export const backoffMs = (attempts: number): number => Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempts, 30));

const stateOf = (m: ErasureMaintenance, drive: number): DriveState | undefined => m.drives.drives[drive]?.state;

export function healJob(store: Store, m: ErasureMaintenance, o: { log?: Log; now?: () => number; intervalMs?: number } = {}): Job {
  const now = o.now ?? Date.now;
  const queue = store.healQueue;
  let totals: HealTotals | undefined;
  let roundStart: number | undefined;

  /** Heals one piece whose due entries are `entries`. */
  async function healOne(pieceId: string, entries: HealEntry[], t: HealTotals, signal: AbortSignal): Promise<void> {
    const started = now();
    const attempts = Math.max(...entries.map((e) => e.attempts));
    const later = started + backoffMs(attempts);
    // A drive the set no longer has: nothing to heal there.
    const gone = entries.filter((e) => stateOf(m, e.drive) === undefined).map((e) => e.drive);
    await queue.remove(pieceId, gone, Number.MAX_SAFE_INTEGER);
    const offline = entries.filter((e) => stateOf(m, e.drive) === 'offline').map((e) => e.drive);
    await queue.postpone(pieceId, offline, later);
    const live = entries.filter((e) => stateOf(m, e.drive) === 'online' || stateOf(m, e.drive) === 'healing').map((e) => e.drive);
    if (live.length === 0) return;
    let result: Awaited<ReturnType<ErasureMaintenance['healPiece']>>;
    try {
      result = await m.healPiece(pieceId, signal);
    } catch (err) {
      if (signal.aborted) return;
      // A piece no object references any more (deleted while queued, and the delete missed a drive)
      // that cannot be healed is an orphan, the orphan sweep's: its entries go, rather than being
      // retried for hours and shown as a degraded object. Not before ORPHAN_AGE_MS (a write in
      // progress has not committed its reference yet).
      if (started - Math.min(...entries.map((e) => e.firstSeen)) >= ORPHAN_AGE_MS && !(await store.isPieceReferenced(pieceId))) {
        await queue.remove(
          pieceId,
          entries.map((e) => e.drive),
          Number.MAX_SAFE_INTEGER,
        );
        o.log?.info({ pieceId }, 'heal: an unreferenced piece that cannot be healed is left to the orphan sweep');
        return;
      }
      t.failures++;
      await queue.postpone(pieceId, live, later);
      o.log?.warn({ err, pieceId, drives: live, attempts: attempts + 1, retryInMs: later - started }, 'heal: could not rebuild the shards, retrying later');
      return;
    }
    if (result === undefined) {
      // The piece was removed meanwhile: nothing left to heal.
      await queue.remove(
        pieceId,
        entries.map((e) => e.drive),
        Number.MAX_SAFE_INTEGER,
      );
      return;
    }
    if (result.healed.length > 0) {
      t.bytes += result.bytesWritten;
      t.shards += result.healed.length;
      t.pieces++;
      t.lastHealAt = now();
      // Counted before the entries leave the queue: heal status never shows a shard gone from the
      // queue and not yet among the healed.
      await saveJobState(store, HEAL_JOB, t);
    }
    // Healed, or found healthy by the heal; a drive that failed during the heal is put off.
    const failedNow = live.filter((d) => stateOf(m, d) === 'offline');
    await queue.postpone(pieceId, failedNow, later);
    await queue.remove(
      pieceId,
      live.filter((d) => !failedNow.includes(d)),
      started,
    );
  }

  return {
    name: HEAL_JOB,
    intervalMs: o.intervalMs ?? 1000,
    async step(signal, count) {
      totals ??= (await loadJobState<HealTotals>(store, HEAL_JOB, 1, o.log)) ?? { v: 1, bytes: 0, shards: 0, pieces: 0, failures: 0 };
      roundStart ??= now();
      const due = queue.due(now(), DUE_BATCH);
      const byPiece = new Map<string, HealEntry[]>();
      for (const e of due) {
        if (!byPiece.has(e.pieceId) && byPiece.size >= HEAL_STEP_PIECES) continue;
        byPiece.set(e.pieceId, [...(byPiece.get(e.pieceId) ?? []), e]);
      }
      const failuresBefore = totals.failures;
      let n = 0;
      for (const [pieceId, entries] of byPiece) {
        if (signal.aborted) break;
        await healOne(pieceId, entries, totals, signal);
        n++;
      }
      count?.(n);
      // Healed pieces were saved as they were counted (healOne); failures are saved once per step.
      if (totals.failures !== failuresBefore) await saveJobState(store, HEAL_JOB, totals);
      if (due.length === 0 || now() - roundStart >= ROUND_MS) {
        roundStart = undefined;
        return false;
      }
      return true;
    },
  };
}
