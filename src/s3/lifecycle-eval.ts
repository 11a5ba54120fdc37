// The lifecycle evaluator: pure functions saying what the rules do to one object version or upload
// at a given time (used by the lifecycle job, src/jobs/lifecycle.ts, and for x-amz-expiration).
// Days follow S3: creation (or the moment a version became noncurrent) + N days, rounded up to the
// next day boundary (midnight UTC); with --lifecycle-day-seconds the day is shorter and the
// boundaries are multiples of it since the epoch.
import type { Tag } from '../store/types.js';
import type { LifecycleFilter, LifecycleRule } from './lifecycle.js';

export const DAY_MS = 86_400_000;

/** One version as the evaluator sees it. */
export interface VersionFacts {
  key: string;
  size: number;
  tags: readonly Tag[];
  lastModified: number;
  isLatest: boolean;
  isDeleteMarker: boolean;
  /** Noncurrent versions: when it became noncurrent (the lastModified of the next newer version). */
  noncurrentSince?: number;
  /** Noncurrent versions: how many noncurrent versions of the key are newer than this one. */
  newerNoncurrent?: number;
  /** A latest delete marker: whether it is the only remaining version of its key. */
  onlyVersion?: boolean;
  /** The bucket has (or had) versioning: expiring a current version adds a delete marker. */
  versioned: boolean;
}

/**
 * What happens to a version: 'delete-marker' (expire the current version of a versioned bucket:
 * a delete marker is added), 'remove' (the version itself is removed: an unversioned bucket's
 * object, a noncurrent version, an expired delete marker).
 */
export interface LifecycleAction {
  action: 'delete-marker' | 'remove';
  /** Which rule, and why (for the logs). */
  ruleId: string;
  kind: 'expiration' | 'noncurrent' | 'delete-marker';
  /** When it became due (ms). */
  due: number;
}

/** `t` rounded up to the next multiple of the day length (midnight UTC for real days). */
export function ceilToDay(t: number, dayMs: number): number {
  return Math.ceil(t / dayMs) * dayMs;
}

/** When something created at `since` reaches `days` days of age (S3's rounding). */
export function dueAfterDays(since: number, days: number, dayMs: number): number {
  return ceilToDay(since + days * dayMs, dayMs);
}

export function filterMatches(f: LifecycleFilter, key: string, size: number, tags: readonly Tag[]): boolean {
  if (!key.startsWith(f.prefix)) return false;
  if (f.sizeGreaterThan !== undefined && !(size > f.sizeGreaterThan)) return false;
  if (f.sizeLessThan !== undefined && !(size < f.sizeLessThan)) return false;
  return f.tags.every((t) => tags.some((o) => o.key === t.key && o.value === t.value));
}

/**
 * When the current version (not a delete marker) expires by the enabled Expiration rules that
 * apply to it, and by which rule (the earliest); undefined when none does. What x-amz-expiration says.
 */
export function currentExpiry(rules: readonly LifecycleRule[], v: Pick<VersionFacts, 'key' | 'size' | 'tags' | 'lastModified'>, dayMs: number) {
  let best: { due: number; ruleId: string } | undefined;
  for (const r of rules) {
    const e = r.expiration;
    if (!r.enabled || !e || (e.days === undefined && e.date === undefined)) continue;
    if (!filterMatches(r.filter, v.key, v.size, v.tags)) continue;
    const due = e.days !== undefined ? dueAfterDays(v.lastModified, e.days, dayMs) : e.date!;
    if (!best || due < best.due) best = { due, ruleId: r.id };
  }
  return best;
}

/** What the rules do to version `v` at `now`: an action that is due, or undefined (nothing, or not yet). */
export function evaluateVersion(rules: readonly LifecycleRule[], v: VersionFacts, now: number, dayMs: number): LifecycleAction | undefined {
  if (v.isLatest && !v.isDeleteMarker) {
    const exp = currentExpiry(rules, v, dayMs);
    if (exp && exp.due <= now) return { action: v.versioned ? 'delete-marker' : 'remove', ruleId: exp.ruleId, kind: 'expiration', due: exp.due };
    return undefined;
  }
  if (v.isLatest) {
    // A delete marker with no versions left behind it: ExpiredObjectDeleteMarker removes it.
    if (!v.onlyVersion) return undefined;
    for (const r of rules) {
      if (r.enabled && r.expiration?.expiredObjectDeleteMarker === true && filterMatches(r.filter, v.key, 0, [])) {
        return { action: 'remove', ruleId: r.id, kind: 'delete-marker', due: v.lastModified };
      }
    }
    return undefined;
  }
  // A noncurrent version (or noncurrent delete marker).
  if (v.noncurrentSince === undefined) return undefined;
  let best: LifecycleAction | undefined;
  for (const r of rules) {
    const n = r.noncurrentExpiration;
    if (!r.enabled || !n) continue;
    if (!filterMatches(r.filter, v.key, v.isDeleteMarker ? 0 : v.size, v.tags)) continue;
    if (n.newerNoncurrentVersions !== undefined && (v.newerNoncurrent ?? 0) < n.newerNoncurrentVersions) continue;
    const due = dueAfterDays(v.noncurrentSince, n.noncurrentDays, dayMs);
    if (due <= now && (!best || due < best.due)) best = { action: 'remove', ruleId: r.id, kind: 'noncurrent', due };
  }
  return best;
}

/** The rule that aborts an upload of `key` initiated at `initiated`, if one is due at `now`. */
export function evaluateUpload(rules: readonly LifecycleRule[], key: string, initiated: number, now: number, dayMs: number): LifecycleAction | undefined {
  let best: LifecycleAction | undefined;
  for (const r of rules) {
    if (!r.enabled || r.abortIncompleteDays === undefined || !key.startsWith(r.filter.prefix)) continue;
    const due = dueAfterDays(initiated, r.abortIncompleteDays, dayMs);
    if (due <= now && (!best || due < best.due)) best = { action: 'remove', ruleId: r.id, kind: 'expiration', due };
  }
  return best;
}

/** The x-amz-expiration header value: `expiry-date="<HTTP date>", rule-id="<id>"`. */
export function expirationHeaderValue(due: number, ruleId: string): string {
  // The rule id is the user's text: quotes and backslashes escaped as in an HTTP quoted-string, and
  // what a header cannot carry (controls, non-ASCII) percent-encoded as UTF-8.
  const id = ruleId.replace(/["\\]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/gu, (c) => encodeURIComponent(c));
  return `expiry-date="${new Date(due).toUTCString()}", rule-id="${id}"`;
}
