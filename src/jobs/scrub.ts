// The scrub job (docs/drives.md, "Healing and scrub"): re-reads every shard of every erasure-coded
// piece (ErasureMaintenance.verifyPiece: every block checked against its checksum) and queues the
// bad ones for the heal job. It walks the piece ids in order with its cursor in the job state after
// every step, so a restarted server resumes the pass where it stopped. Paced in bytes: a round reads
// about one second's worth of `--scrub-rate` (bytes per second), then the job waits until those
// bytes are paid for at that rate; a step reads a few pieces, the event loop runs between steps.
// A pass starts at most once per `passGapMs` (default a day): a small store is not re-read all day.
import type { ErasureMaintenance } from '../store/data/erasure/types.js';
import type { Store } from '../store/store.js';
import { loadJobState, saveJobState } from './job-state.js';
import { PieceWalk } from './piece-walk.js';
import type { Job } from './runner.js';

export const SCRUB_JOB = 'scrub';
/** Pieces verified per step at most. */
export const SCRUB_STEP_PIECES = 8;
/** Bytes read per step at most (a step ends after the piece that crosses it). */
export const SCRUB_STEP_BYTES = 4 * 1024 * 1024;
/** Default time from the start of one pass to the start of the next. */
export const DEFAULT_SCRUB_PASS_GAP_MS = 24 * 3_600_000;

/** One pass's figures. Times are ms since the epoch. */
export interface ScrubPass {
  startedAt: number;
  endedAt?: number;
  pieces: number;
  /** Bytes read (every shard). */
  bytes: number;
  /** Pieces with at least one bad shard (queued for healing). */
  bad: number;
}

/** The scrub's state in the store. */
export interface ScrubState {
  v: 1;
  /** The last piece id verified in the current pass ('' = none yet). */
  cursor: string;
  /** The pass in progress (absent: waiting for the next one). */
  pass?: ScrubPass;
  /** The last full pass. */
  lastPass?: ScrubPass;
  /** When the next pass starts (set at the end of a pass). */
  nextPassAt?: number;
}

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

export interface ScrubOptions {
  /** Bytes per second (> 0). */
  rate: number;
  passGapMs?: number;
  log?: Log;
  now?: () => number;
}

export function scrubJob(store: Store, m: ErasureMaintenance, o: ScrubOptions): Job & { readonly intervalMs: number } {
  if (!(o.rate > 0)) throw new Error('scrubJob: the rate must be positive (0 = no scrub job)');
  const now = o.now ?? Date.now;
  const gap = o.passGapMs ?? DEFAULT_SCRUB_PASS_GAP_MS;
  let state: ScrubState | undefined;
  let walk: PieceWalk | undefined;
  let round: { start: number; bytes: number } | undefined;
  /** The wait after the round that just ended (read by the runner: the job's intervalMs). */
  let wait = 0;

  /** Ends the round: the wait pays for its bytes at the rate (and, between passes, lasts until the next). */
  function endRound(s: ScrubState): false {
    const r = round ?? { start: now(), bytes: 0 };
    round = undefined;
    const paced = Math.ceil((r.bytes * 1000) / o.rate) - (now() - r.start);
    const untilPass = s.pass === undefined && s.nextPassAt !== undefined ? s.nextPassAt - now() : 0;
    wait = Math.max(0, paced, untilPass);
    return false;
  }

  return {
    name: SCRUB_JOB,
    get intervalMs() {
      return wait;
    },
    async step(signal, count) {
      state ??= (await loadJobState<ScrubState>(store, SCRUB_JOB, 1, o.log)) ?? { v: 1, cursor: '' };
      const s = state;
      if (s.pass === undefined) {
        if (s.nextPassAt !== undefined && s.nextPassAt > now()) return endRound(s);
        s.pass = { startedAt: now(), pieces: 0, bytes: 0, bad: 0 };
        s.cursor = '';
        delete s.nextPassAt;
      }
      const pass = s.pass;
      round ??= { start: now(), bytes: 0 };
      walk ??= new PieceWalk(m, s.cursor);
      let stepBytes = 0;
      let pieces = 0;
      let ended = false;
      try {
        while (pieces < SCRUB_STEP_PIECES && stepBytes < SCRUB_STEP_BYTES && round.bytes < o.rate && !signal.aborted) {
          const id = await walk.next();
          if (id === undefined) {
            ended = true;
            break;
          }
          let check: Awaited<ReturnType<ErasureMaintenance['verifyPiece']>>;
          try {
            check = await m.verifyPiece(id, signal);
          } catch (err) {
            if (signal.aborted) throw err;
            // One piece the store cannot check (yet) does not stop the pass: the next pass sees it again.
            o.log?.warn({ err, pieceId: id }, 'scrub: could not verify a piece');
            check = undefined;
          }
          s.cursor = id;
          if (check === undefined) continue; // removed meanwhile
          pieces++;
          stepBytes += check.bytesRead;
          round.bytes += check.bytesRead;
          pass.pieces++;
          pass.bytes += check.bytesRead;
          // A drive being rebuilt is the rebuild's (jobs/rebuild.ts): its missing shards are no news.
          const bad = check.bad.filter((d) => m.drives.drives[d]?.state !== 'healing');
          // A piece no object references (an orphan: the orphan sweep removes it) is not queued:
          // with fewer than k shards its heal could only fail, pass after pass.
          if (bad.length > 0 && (await store.isPieceReferenced(id))) {
            pass.bad++;
            const at = now();
            await store.healQueue.add(bad.map((drive) => ({ pieceId: id, drive, reason: 'scrub' as const, at })));
            o.log?.warn({ pieceId: id, drives: bad }, 'scrub: bad shards queued for healing');
          }
        }
      } finally {
        count?.(pieces);
      }
      if (ended) {
        pass.endedAt = now();
        s.lastPass = pass;
        delete s.pass;
        s.cursor = '';
        s.nextPassAt = pass.startedAt + gap;
        walk = undefined;
        o.log?.info({ pieces: pass.pieces, bytes: pass.bytes, bad: pass.bad }, 'scrub: pass done');
      }
      await saveJobState(store, SCRUB_JOB, s);
      if (ended || signal.aborted || round.bytes >= o.rate) return endRound(s);
      return true;
    },
  };
}
