// Object lock rules of the store (S3 Object Lock: retention modes and legal holds). They are
// checked inside the metadata transaction that removes, replaces or changes a version, so no
// concurrent request can slip past them. s3/ parses the headers and configurations; the rules
// that protect data live here, next to the commits they guard.
import { StoreError } from './errors.js';
import type { LockCheck, Retention, VersionExtras } from './types.js';

/** Whether a retention still binds at `now` (a date that has passed binds nothing). */
export function retentionActive(r: Retention | undefined, now: number): r is Retention {
  return r !== undefined && r.until > now;
}

/**
 * Throws StoreError('ObjectLocked') when the version may not be removed or replaced: a legal hold,
 * an active COMPLIANCE retention, or an active GOVERNANCE retention without `bypassGovernance`.
 */
export function checkRemovable(v: VersionExtras, lock: LockCheck = {}): void {
  if (v.legalHold === true) throw new StoreError('ObjectLocked', 'legal hold');
  const now = lock.now ?? Date.now();
  if (!retentionActive(v.retention, now)) return;
  if (v.retention.mode === 'COMPLIANCE') throw new StoreError('ObjectLocked', 'COMPLIANCE retention');
  if (lock.bypassGovernance !== true) throw new StoreError('ObjectLocked', 'GOVERNANCE retention');
}

/**
 * Throws StoreError('ObjectLocked') when `next` (null: remove) may not replace the version's
 * current retention. While the current one binds: COMPLIANCE may only be kept or extended, as
 * COMPLIANCE; GOVERNANCE may be kept or extended, as GOVERNANCE, freely, and shortened, removed or
 * turned into COMPLIANCE only with `bypassGovernance` (S3 answers AccessDenied to a change of mode
 * without the bypass, even to a stronger one: ceph/s3-tests
 * test_object_lock_changing_mode_from_governance_without_bypass).
 */
export function checkRetentionChange(current: Retention | undefined, next: Retention | null, lock: LockCheck = {}): void {
  const now = lock.now ?? Date.now();
  if (!retentionActive(current, now)) return;
  const extends_ = next !== null && next.until >= current.until;
  if (current.mode === 'COMPLIANCE') {
    if (next !== null && next.mode === 'COMPLIANCE' && extends_) return;
    throw new StoreError('ObjectLocked', 'COMPLIANCE retention');
  }
  if (extends_ && next.mode === 'GOVERNANCE') return;
  if (lock.bypassGovernance !== true) throw new StoreError('ObjectLocked', 'GOVERNANCE retention');
}
