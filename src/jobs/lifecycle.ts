// The lifecycle job: applies each bucket's lifecycle rules (s3/lifecycle.ts, evaluated by
// s3/lifecycle-eval.ts) in bounded batches — a page of versions or uploads per step, a turn of the
// event loop between steps (runner.ts) — with its cursor in the store's job state after every step,
// so a restarted server resumes the round where it stopped. Nothing expires early: each action is
// re-checked against a fresh read of the version right before the store is asked to do it.
import { evaluateUpload, evaluateVersion, type LifecycleAction, type VersionFacts } from '../s3/lifecycle-eval.js';
import { loadLifecycle, type LifecycleRule } from '../s3/lifecycle.js';
import { StoreError } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { ListedVersion, Tag } from '../store/types.js';
import type { Job } from './runner.js';

/** The name of the job and of its state in the store (Store.getJobState). */
export const LIFECYCLE_JOB = 'lifecycle';
/** Versions (or uploads) examined per step. */
export const LIFECYCLE_STEP = 100;

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

/** What a round did per rule of the bucket at hand (logged when the bucket is done). */
interface RuleCounts {
  /** Current versions expired (removed, or hidden behind a delete marker). */
  objects: number;
  /** Noncurrent versions removed. */
  versions: number;
  /** Expired delete markers removed. */
  markers: number;
  uploads: number;
  /** Actions refused by object lock (skipped; the next round looks again). */
  locked: number;
}

/** The resumable cursor (JSON in the job state). */
interface Cursor {
  v: 1;
  bucket: string;
  phase: 'versions' | 'uploads';
  keyMarker: string;
  versionIdMarker: string;
  /** The key being walked: the lastModified of the version seen last, and how many noncurrent versions are newer. */
  carry?: { key: string; lastModified: number; newerNoncurrent: number };
  uploadKeyMarker: string;
  uploadIdMarker: string;
  counts: Record<string, RuleCounts>;
}

const freshCursor = (bucket: string): Cursor => ({
  v: 1,
  bucket,
  phase: 'versions',
  keyMarker: '',
  versionIdMarker: '',
  uploadKeyMarker: '',
  uploadIdMarker: '',
  counts: {},
});

/** How often a round starts: four times per lifecycle day (every 6 h; every 0.5 s with a 2 s test day). */
export function lifecycleIntervalMs(dayMs: number): number {
  return Math.max(250, Math.round(dayMs / 4));
}

export function lifecycleJob(store: Store, o: { dayMs: number; log?: Log; now?: () => number }): Job {
  const now = o.now ?? Date.now;
  let cursor: Cursor | undefined;
  let loaded = false;

  const save = async (): Promise<void> => store.putJobState(LIFECYCLE_JOB, cursor === undefined ? undefined : JSON.stringify(cursor));

  /** The first bucket after `after` (name order) that has a lifecycle configuration. */
  async function nextBucket(after: string): Promise<string | undefined> {
    const names = (await store.listBuckets()).map((b) => b.name).sort();
    for (const name of names) if (name > after && (await loadLifecycle(store, name)) !== undefined) return name;
    return undefined;
  }

  /** Logs the finished bucket's counts per rule, then moves to the next bucket (or ends the round). */
  async function finishBucket(c: Cursor): Promise<boolean> {
    for (const [rule, n] of Object.entries(c.counts)) {
      if (n.objects + n.versions + n.markers + n.uploads + n.locked > 0) o.log?.info({ bucket: c.bucket, rule, ...n }, 'lifecycle: expired by rule');
    }
    const next = await nextBucket(c.bucket);
    cursor = next === undefined ? undefined : freshCursor(next);
    await save();
    return cursor !== undefined;
  }

  return {
    name: LIFECYCLE_JOB,
    intervalMs: lifecycleIntervalMs(o.dayMs),
    async step(signal, count) {
      if (!loaded) {
        // After a restart: resume the round the previous process was in.
        const saved = await store.getJobState(LIFECYCLE_JOB);
        try {
          cursor = saved === undefined ? undefined : (JSON.parse(saved) as Cursor);
        } catch {
          cursor = undefined;
        }
        if (saved !== undefined && cursor?.v !== 1) {
          o.log?.warn({ saved: saved.slice(0, 200) }, 'lifecycle: unreadable saved cursor, starting a fresh round');
          cursor = undefined;
        }
        loaded = true;
      }
      if (cursor === undefined) {
        const first = await nextBucket('');
        if (first === undefined) return false;
        cursor = freshCursor(first);
      }
      const c = cursor;
      // Items (metrics): the versions, markers and uploads this step expired.
      const before = handled(c);
      try {
        const bucket = await store.getBucket(c.bucket);
        const rules = bucket && (await loadLifecycle(store, c.bucket));
        if (!bucket || !rules) return finishBucket(c); // deleted, or its configuration removed, meanwhile
        const more =
          c.phase === 'versions' ? await versionsStep(store, c, rules, bucket.versioning !== '', o, now, signal) : await uploadsStep(store, c, rules, o, now);
        if (!more && c.phase === 'versions' && rules.some((r) => r.enabled && r.abortIncompleteDays !== undefined)) {
          c.phase = 'uploads';
          await save();
          return true;
        }
        if (!more) return finishBucket(c);
        await save();
        return true;
      } finally {
        count?.(handled(c) - before);
      }
    },
  };
}

/** Everything the cursor's round has expired or aborted so far. */
const handled = (c: Cursor): number => Object.values(c.counts).reduce((n, r) => n + r.objects + r.versions + r.markers + r.uploads, 0);

function countFor(c: Cursor, ruleId: string): RuleCounts {
  c.counts[ruleId] ??= { objects: 0, versions: 0, markers: 0, uploads: 0, locked: 0 };
  return c.counts[ruleId];
}

const needsTags = (rules: readonly LifecycleRule[], key: string): boolean =>
  rules.some((r) => r.enabled && r.filter.tags.length > 0 && key.startsWith(r.filter.prefix));
const hasMarkerRule = (rules: readonly LifecycleRule[]): boolean => rules.some((r) => r.enabled && r.expiration?.expiredObjectDeleteMarker === true);

/** Whether the latest version of `key` is the delete marker `versionId` and nothing is behind it. */
async function markerAlone(store: Store, bucket: string, key: string, versionId: string): Promise<boolean> {
  const vs = (await store.scanVersions(bucket, key, '', '', 2)).filter((v) => v.key === key);
  return vs.length === 1 && vs[0]!.isDeleteMarker && vs[0]!.isLatest && vs[0]!.versionId === versionId;
}

/**
 * The longest prefix every enabled version rule's prefix starts with: the walk skips keys no rule can
 * name (rules for logs/a/ and logs/b/ walk logs/ only; rules for logs/ and tmp/ walk the bucket).
 */
export function scanPrefix(rules: readonly LifecycleRule[]): string {
  const prefixes = rules.filter((r) => r.enabled && (r.expiration || r.noncurrentExpiration)).map((r) => r.filter.prefix);
  if (prefixes.length === 0) return '';
  let p = prefixes[0]!;
  for (const q of prefixes) while (!q.startsWith(p)) p = p.slice(0, -1);
  // Never cut a UTF-16 surrogate pair in half: the prefix is compared as UTF-8 bytes by the store.
  if (/[\ud800-\udbff]$/.test(p)) p = p.slice(0, -1);
  return p;
}

/** One page of versions: evaluate each, act on those due. Resolves true when the bucket has more. */
async function versionsStep(
  store: Store,
  c: Cursor,
  rules: LifecycleRule[],
  versioned: boolean,
  o: { dayMs: number; log?: Log },
  now: () => number,
  signal: AbortSignal,
): Promise<boolean> {
  const page = await store.scanVersions(c.bucket, scanPrefix(rules), c.keyMarker, c.versionIdMarker, LIFECYCLE_STEP);
  // The next page starts after the last version this one leaves in place (one it removed is gone,
  // and the store would then start at the next key, skipping that key's older versions).
  for (const v of page) {
    if (signal.aborted) return true;
    const facts = factsOf(v, c, versioned);
    let removed = false;
    if (facts) {
      if (v.isLatest && v.isDeleteMarker && hasMarkerRule(rules)) facts.onlyVersion = await markerAlone(store, c.bucket, v.key, v.versionId);
      if (needsTags(rules, v.key) && !v.isDeleteMarker) facts.tags = (await store.versionRecord(c.bucket, v.key, v.versionId))?.tags ?? [];
      const action = evaluateVersion(rules, facts, now(), o.dayMs);
      if (action) removed = await apply(store, c, rules, v, facts, action, o, now);
    }
    if (!removed) {
      c.keyMarker = v.key;
      c.versionIdMarker = v.versionId;
    }
    // The walk of this key: what the next (older) version needs to know.
    if (!c.carry || c.carry.key !== v.key) c.carry = { key: v.key, lastModified: v.lastModified, newerNoncurrent: 0 };
    else {
      c.carry.lastModified = v.lastModified;
      if (!removed) c.carry.newerNoncurrent++;
    }
  }
  return page.length === LIFECYCLE_STEP;
}

/** The evaluator's view of a scanned version, from the scan and the carry of its key. */
function factsOf(v: ListedVersion, c: Cursor, versioned: boolean): VersionFacts | undefined {
  const facts: VersionFacts = {
    key: v.key,
    size: v.size,
    tags: [],
    lastModified: v.lastModified,
    isLatest: v.isLatest,
    isDeleteMarker: v.isDeleteMarker,
    versioned,
  };
  if (!v.isLatest) {
    // The next newer version was seen just before (same key): without it (a version the scan met
    // first, e.g. the latest was written meanwhile) nothing is known of its age as noncurrent.
    if (!c.carry || c.carry.key !== v.key) return undefined;
    facts.noncurrentSince = c.carry.lastModified;
    facts.newerNoncurrent = c.carry.newerNoncurrent;
  }
  return facts;
}

/**
 * Does what the evaluator decided, after re-reading the version: it must still be the one
 * evaluated (same version, latest or not as it was, same time) and still due with its current
 * tags. Object-lock refusals are counted and logged, never retried in this round. Resolves true
 * when the scanned version is gone (removed), false when it stays (a delete marker hides it, or skipped).
 */
async function apply(
  store: Store,
  c: Cursor,
  rules: LifecycleRule[],
  v: ListedVersion,
  facts: VersionFacts,
  action: LifecycleAction,
  o: { dayMs: number; log?: Log },
  now: () => number,
): Promise<boolean> {
  const fresh = await store.versionRecord(c.bucket, v.key, v.versionId);
  if (!fresh || fresh.isLatest !== v.isLatest || fresh.lastModified !== v.lastModified || fresh.isDeleteMarker !== v.isDeleteMarker) return false;
  const tags: Tag[] = fresh.tags ?? [];
  if (action.kind === 'delete-marker' && !(await markerAlone(store, c.bucket, v.key, v.versionId))) return false;
  const again = evaluateVersion(rules, { ...facts, size: fresh.size, tags }, now(), o.dayMs);
  if (!again) return false;
  const n = countFor(c, again.ruleId);
  try {
    if (again.action === 'delete-marker') await store.deleteObject(c.bucket, v.key);
    else await store.deleteObject(c.bucket, v.key, { versionId: v.versionId, ifLastModified: v.lastModified });
  } catch (err) {
    if (err instanceof StoreError && err.code === 'ObjectLocked') {
      n.locked++;
      o.log?.warn({ bucket: c.bucket, key: v.key, versionId: v.versionId, rule: again.ruleId }, 'lifecycle: object lock protects the version, skipped');
      return false;
    }
    // Replaced since the re-check (a new 'null' version), or the bucket is gone: not this version's time.
    if (err instanceof StoreError && (err.code === 'NoSuchBucket' || err.code === 'PreconditionFailed')) return false;
    throw err;
  }
  if (again.kind === 'expiration') n.objects++;
  else if (again.kind === 'noncurrent') n.versions++;
  else n.markers++;
  return again.action === 'remove';
}

/** One page of the bucket's multipart uploads: abort those a rule says are due. True when more remain. */
async function uploadsStep(store: Store, c: Cursor, rules: LifecycleRule[], o: { dayMs: number; log?: Log }, now: () => number): Promise<boolean> {
  const page = await store.listUploadPage({
    bucket: c.bucket,
    prefix: '',
    delimiter: '',
    keyMarker: c.uploadKeyMarker,
    uploadIdMarker: c.uploadIdMarker,
    maxUploads: LIFECYCLE_STEP,
  });
  for (const u of page.uploads) {
    const action = evaluateUpload(rules, u.key, u.initiated, now(), o.dayMs);
    if (!action) continue;
    try {
      await store.abortUpload(u.bucket, u.key, u.uploadId);
      countFor(c, action.ruleId).uploads++;
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'NoSuchUpload')) throw err; // completed or aborted meanwhile
    }
  }
  if (!page.isTruncated || page.nextKeyMarker === undefined) return false;
  c.uploadKeyMarker = page.nextKeyMarker;
  c.uploadIdMarker = page.nextUploadIdMarker ?? '';
  return true;
}
