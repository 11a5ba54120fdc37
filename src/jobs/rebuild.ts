// The drive rebuild job (docs/drives.md, "Healing and scrub"): a drive in state 'healing' (a fresh
// empty directory adopted into a known slot: store/data/erasure/drives.ts) gets every shard it
// should hold rebuilt from the other drives while the server serves. The job first counts the
// pieces (the total of the progress), then walks every piece id (ErasureMaintenance.pieceIds, in
// order) and heals each piece (healPiece rebuilds whatever shard is missing, the new drive's
// among them). Its progress (phase, cursor, pieces done and total, bytes) is in the job state
// after every step, keyed by the drive's id, so a restart resumes it; at the end the drive set
// marks the drive online (DriveSet.healed). A piece it cannot heal (fewer than k healthy shards
// for now) goes to the heal queue, retried there with a backoff. One drive at a time, lowest index
// first; bounded steps and rounds of at most ROUND_MS, like the heal job.
import type { Drive, ErasureMaintenance } from '../store/data/erasure/types.js';
import type { Store } from '../store/store.js';
import { ROUND_MS } from './heal.js';
import { loadJobState, saveJobState } from './job-state.js';
import { PieceWalk } from './piece-walk.js';
import type { Job } from './runner.js';

export const REBUILD_JOB = 'drive-rebuild';
/** Pieces counted per step. */
export const REBUILD_COUNT_STEP = 1000;
/** Pieces healed per step. */
export const REBUILD_STEP_PIECES = 4;

/** One drive's rebuild. */
export interface DriveRebuild {
  index: number;
  phase: 'count' | 'heal';
  /** The last piece id counted or healed in the current phase ('' = none yet). */
  cursor: string;
  /** Pieces counted (the walk's total; writes made meanwhile may add a few). */
  total: number;
  /** Pieces walked in the heal phase. */
  done: number;
  /** Bytes written into rebuilt shards (on any drive). */
  bytes: number;
  /** Pieces that could not be healed now (queued for the heal job). */
  failed: number;
  startedAt: number;
}

/** The job's state: the rebuilds in progress by drive id. */
export interface RebuildState {
  v: 1;
  drives: Record<string, DriveRebuild>;
}

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

export function rebuildJob(store: Store, m: ErasureMaintenance, o: { log?: Log; now?: () => number } = {}): Job {
  const now = o.now ?? Date.now;
  let state: RebuildState | undefined;
  let walk: { driveId: string; phase: DriveRebuild['phase']; walk: PieceWalk } | undefined;
  let roundStart: number | undefined;

  const end = (): false => {
    roundStart = undefined;
    return false;
  };

  /** Heals the next few pieces for `d`; true when the phase is done. */
  async function healSome(d: Drive, r: DriveRebuild, w: PieceWalk, signal: AbortSignal, count?: (n: number) => void): Promise<boolean> {
    let n = 0;
    try {
      while (n < REBUILD_STEP_PIECES && !signal.aborted) {
        const id = await w.next();
        if (id === undefined) return true;
        const started = now();
        try {
          const healed = await m.healPiece(id, signal);
          if (healed) r.bytes += healed.bytesWritten;
          // Queue entries this heal made moot (a write that missed the drive while it was out) go now.
          const moot = store.healQueue.entriesOf(id).filter((e) => e.drive === d.index || healed?.healed.includes(e.drive));
          if (moot.length > 0)
            await store.healQueue.remove(
              id,
              moot.map((e) => e.drive),
              started,
            );
        } catch (err) {
          if (signal.aborted) throw err;
          r.failed++;
          await store.healQueue.add([{ pieceId: id, drive: d.index, reason: 'missing', at: now() }]);
          o.log?.warn({ err, pieceId: id, drive: d.index }, 'drive rebuild: a piece could not be healed now (queued)');
        }
        r.cursor = id;
        r.done++;
        n++;
      }
      return false;
    } finally {
      count?.(n);
    }
  }

  return {
    name: REBUILD_JOB,
    intervalMs: 0,
    async step(signal, count) {
      state ??= (await loadJobState<RebuildState>(store, REBUILD_JOB, 1, o.log)) ?? { v: 1, drives: {} };
      const s = state;
      // A drive another process adopted (or took offline) is seen here from this step on.
      await m.drives.sync?.();
      const healing = m.drives.drives.filter((d) => d.state === 'healing');
      // Rebuilds of drives no longer in the set (replaced again) or online are over; an offline one resumes when it returns.
      const stale = Object.keys(s.drives).filter((id) => !m.drives.drives.some((d) => d.id === id && d.state !== 'online'));
      if (stale.length > 0) {
        for (const id of stale) delete s.drives[id];
        await saveJobState(store, REBUILD_JOB, s);
      }
      const d = healing[0];
      if (d === undefined) {
        walk?.walk.close();
        walk = undefined;
        return end();
      }
      roundStart ??= now();
      let r = s.drives[d.id];
      if (r === undefined) {
        r = s.drives[d.id] = { index: d.index, phase: 'count', cursor: '', total: 0, done: 0, bytes: 0, failed: 0, startedAt: now() };
        o.log?.info({ drive: d.index, path: d.path }, 'drive rebuild: started');
      }
      if (walk === undefined || walk.driveId !== d.id || walk.phase !== r.phase) {
        walk?.walk.close();
        walk = { driveId: d.id, phase: r.phase, walk: new PieceWalk(m, r.cursor) };
      }
      let phaseDone = false;
      if (r.phase === 'count') {
        for (let i = 0; i < REBUILD_COUNT_STEP; i++) {
          const id = await walk.walk.next();
          if (id === undefined) {
            phaseDone = true;
            break;
          }
          r.cursor = id;
          r.total++;
        }
        if (phaseDone) {
          r.phase = 'heal';
          r.cursor = '';
          walk = undefined;
        }
      } else {
        phaseDone = await healSome(d, r, walk.walk, signal, count);
        if (phaseDone) {
          walk = undefined;
          await m.drives.healed(d.index);
          delete s.drives[d.id];
          o.log?.info({ drive: d.index, path: d.path, pieces: r.done, bytes: r.bytes, failed: r.failed }, 'drive rebuild: done, the drive is online');
        }
      }
      await saveJobState(store, REBUILD_JOB, s);
      if (signal.aborted || now() - roundStart >= ROUND_MS) return end();
      return true;
    },
  };
}
