// The background jobs of a Strata server (run by runner.ts, one runner per data directory): the
// orphan sweep, the reaper of pending frees (several processes on one directory), and the cleanup
// of multipart uploads abandoned longer than a configured age; with several drives, the heal,
// drive-rebuild and scrub jobs (heal.ts, rebuild.ts, scrub.ts). The lifecycle job is lifecycle.ts.
import { StoreError } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { ErasureMaintenance } from '../store/data/erasure/types.js';
import { healJob } from './heal.js';
import { rebuildJob } from './rebuild.js';
import type { Job } from './runner.js';
import { scrubJob } from './scrub.js';

/** Pieces examined per step of the orphan sweep. */
const SWEEP_STEP = 100;
/** Uploads aborted per step of the stale-upload cleanup. */
const ABORT_STEP = 50;

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; debug?(obj: object, msg: string): void };

/**
 * Removes pieces no metadata references and no write in progress (in any process) may still
 * commit (Store.sweepOrphans), and in shared mode old temp files. The first round runs at start.
 */
export function orphanSweepJob(store: Store, o: { intervalMs: number; shared: boolean; log?: Log }): Job {
  let it: AsyncGenerator<boolean> | undefined;
  let found = 0;
  let examined = 0;
  return {
    name: 'orphan-sweep',
    intervalMs: o.intervalMs,
    async step(signal, count) {
      if (!it) {
        found = 0;
        examined = 0;
        if (o.shared) {
          const temp = await store.sweepTemp(true);
          if (temp > 0) o.log?.info({ files: temp }, 'removed leftovers of interrupted uploads');
        }
        it = store.sweepOrphans(signal);
      }
      for (let i = 0; i < SWEEP_STEP; i++) {
        const next = await it.next();
        if (next.done || signal.aborted) {
          count?.(i);
          it = undefined;
          o.log?.debug?.({ examined, orphans: found }, 'orphan sweep round done');
          if (found > 0) o.log?.info({ pieces: found }, 'removed orphaned data left by an earlier crash');
          return false;
        }
        examined++;
        if (next.value) found++;
      }
      count?.(SWEEP_STEP);
      return true;
    },
  };
}

/** Shared mode: unlinks pieces whose free is past its grace period and that no reader pins. */
export function freeReaperJob(store: Store, o: { intervalMs: number }): Job {
  return {
    name: 'free-reaper',
    intervalMs: o.intervalMs,
    async step(_signal, count) {
      const n = await store.reapFrees();
      count?.(n);
      return n > 0;
    },
  };
}

/** Aborts multipart uploads initiated more than `maxAgeMs` ago (what S3 does with a lifecycle rule). */
export function staleUploadsJob(store: Store, o: { maxAgeMs: number; intervalMs: number; log?: Log }): Job {
  return {
    name: 'stale-uploads',
    intervalMs: o.intervalMs,
    async step(signal, count) {
      const n = await abortUploadsBefore(store, Date.now() - o.maxAgeMs, ABORT_STEP, signal);
      count?.(n);
      if (n > 0) o.log?.info({ uploads: n }, 'aborted multipart uploads abandoned longer than the configured age');
      return n === ABORT_STEP;
    },
  };
}

/**
 * Aborts up to `limit` in-progress multipart uploads initiated before `initiatedBefore`, bucket by
 * bucket in key order, through the Store façade; returns how many (fewer than `limit`: none left).
 */
export async function abortUploadsBefore(store: Store, initiatedBefore: number, limit: number, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for (const b of await store.listBuckets()) {
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      if (signal?.aborted || n >= limit) return n;
      let page;
      try {
        page = await store.listUploadPage({ bucket: b.name, prefix: '', delimiter: '', keyMarker, uploadIdMarker, maxUploads: 1000 });
      } catch (err) {
        if (err instanceof StoreError && err.code === 'NoSuchBucket') break; // deleted meanwhile
        throw err;
      }
      for (const u of page.uploads) {
        if (n >= limit || signal?.aborted) return n;
        if (u.initiated >= initiatedBefore) continue;
        try {
          await store.abortUpload(u.bucket, u.key, u.uploadId);
          n++;
        } catch (err) {
          if (!(err instanceof StoreError && err.code === 'NoSuchUpload')) throw err; // completed or aborted meanwhile
        }
      }
      if (!page.isTruncated || page.nextKeyMarker === undefined) break;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker ?? '';
    }
  }
  return n;
}

/**
 * The background jobs of an erasure-coded data store (serve.ts registers them when Store.erasure is
 * set): the heal of the queue, the rebuild of healing drives and, unless `scrubRate` is 0, the scrub.
 */
export function erasureJobs(store: Store, m: ErasureMaintenance, o: { scrubRate: number; scrubPassGapMs?: number; log?: Log }): Job[] {
  const jobs: Job[] = [healJob(store, m, { log: o.log }), rebuildJob(store, m, { log: o.log })];
  if (o.scrubRate > 0) jobs.push(scrubJob(store, m, { rate: o.scrubRate, passGapMs: o.scrubPassGapMs, log: o.log }));
  return jobs;
}
