// Object lock in the S3 protocol: the x-amz-object-lock-* headers of writes, the bucket's default
// retention, x-amz-bypass-governance-retention, and the headers GET/HEAD answer. The rules that
// protect versions are the store's (store/object-lock.ts), checked in its transactions.
import type { BucketRecord, LockCheck, ObjectRecord, VersionExtras } from '../store/types.js';
import type { RequestContext } from './context.js';
import { header } from './context.js';
import type { ExtrasSource } from './version-extras.js';

/** The retention and legal hold a write asks for (x-amz-object-lock-*). */
export function lockFromRequest(_src: ExtrasSource, _bucket: BucketRecord | undefined): Pick<VersionExtras, 'retention' | 'legalHold'> {
  return {}; // the object-lock work fills this in (issue 11)
}

/** The bucket's default retention applied to a write that names none. */
export async function withDefaultRetention(_ctx: RequestContext, _bucket: BucketRecord, extras: VersionExtras, _now: number): Promise<VersionExtras> {
  return extras; // the object-lock work fills this in (issue 11)
}

/** How a delete or overwrite by this request treats GOVERNANCE retention (x-amz-bypass-governance-retention: true). */
export function lockCheckOf(ctx: RequestContext): LockCheck {
  return { bypassGovernance: (header(ctx, 'x-amz-bypass-governance-retention') ?? '').trim().toLowerCase() === 'true' };
}

/** x-amz-object-lock-mode, -retain-until-date, -legal-hold on GET/HEAD. */
export function lockHeaders(rec: ObjectRecord): Record<string, string> {
  const h: Record<string, string> = {};
  if (rec.retention !== undefined) {
    h['x-amz-object-lock-mode'] = rec.retention.mode;
    h['x-amz-object-lock-retain-until-date'] = new Date(rec.retention.until).toISOString();
  }
  if (rec.legalHold === true) h['x-amz-object-lock-legal-hold'] = 'ON';
  return h;
}
