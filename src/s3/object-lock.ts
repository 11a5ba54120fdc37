// Object lock in the S3 protocol: the x-amz-object-lock-* headers of writes, the bucket's default
// retention, x-amz-bypass-governance-retention, and the headers GET/HEAD answer. The rules that
// protect versions are the store's (store/object-lock.ts), checked in its transactions. The XML
// documents (ObjectLockConfiguration, Retention, LegalHold) are object-lock-xml.ts's.
import { authorize } from '../iam/authorize.js';
import { allows } from './access.js';
import { type BucketRecord, type LockCheck, NULL_VERSION, type ObjectRecord, type Retention, type RetentionMode, type VersionExtras } from '../store/types.js';
import { CHECKSUM_ALGORITHMS } from './checksums.js';
import type { ObjectRequest, RequestContext } from './context.js';
import { header } from './context.js';
import { S3Error } from './errors.js';
import { type DefaultRetention, LOCK_CONFIG_NAME, isoDate, parseIsoDateTime, parseStoredDefault } from './object-lock-xml.js';
import type { ExtrasSource } from './version-extras.js';
import { sourceValue } from './version-extras.js';

const MODES: readonly RetentionMode[] = ['GOVERNANCE', 'COMPLIANCE'];
const MODE = 'x-amz-object-lock-mode';
const UNTIL = 'x-amz-object-lock-retain-until-date';
const HOLD = 'x-amz-object-lock-legal-hold';

/** What S3 answers an object-lock request or header on a bucket made without object lock. */
export function missingLockConfiguration(): S3Error {
  return new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
}

/**
 * The retention and legal hold a write asks for (x-amz-object-lock-mode, -retain-until-date,
 * -legal-hold; a POST form's fields of the same names). Refused as S3 refuses them: an unknown
 * mode, a date that is not ISO 8601 or not in the future, one of mode/date without the other, a
 * legal hold other than ON/OFF (InvalidArgument), then any of them on a bucket without object
 * lock (InvalidRequest). A bucket that does not exist (undefined) is left to NoSuchBucket.
 */
export function lockFromRequest(src: ExtrasSource, bucket: BucketRecord | undefined, now = Date.now()): Pick<VersionExtras, 'retention' | 'legalHold'> {
  const mode = sourceValue(src, MODE);
  const until = sourceValue(src, UNTIL);
  const hold = sourceValue(src, HOLD);
  if (mode === undefined && until === undefined && hold === undefined) return {};
  const out: Pick<VersionExtras, 'retention' | 'legalHold'> = {};
  if (mode !== undefined && !(MODES as readonly string[]).includes(mode)) {
    throw new S3Error('InvalidArgument', 'Unknown wormMode directive.', { ArgumentName: MODE, ArgumentValue: mode });
  }
  let untilMs: number | undefined;
  if (until !== undefined) {
    untilMs = parseIsoDateTime(until);
    if (untilMs === undefined) {
      throw new S3Error('InvalidArgument', 'The retain until date must be provided in ISO 8601 format', { ArgumentName: UNTIL, ArgumentValue: until });
    }
  }
  if ((mode === undefined) !== (until === undefined)) {
    throw new S3Error('InvalidArgument', `${UNTIL} and ${MODE} must both be supplied`);
  }
  if (mode !== undefined && untilMs !== undefined) {
    if (untilMs <= now) throw new S3Error('InvalidArgument', 'The retain until date must be in the future!', { ArgumentName: UNTIL, ArgumentValue: until });
    out.retention = { mode: mode as RetentionMode, until: untilMs };
  }
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF') {
      throw new S3Error('InvalidArgument', "Legal Hold must be either of 'ON' or 'OFF'", { ArgumentName: HOLD, ArgumentValue: hold });
    }
    out.legalHold = hold === 'ON';
  }
  if (bucket !== undefined && !bucket.objectLock) throw missingLockConfiguration();
  return out;
}

/** The date a default retention of the bucket gives a version written at `now`. */
export function defaultUntil(rule: DefaultRetention, now: number): number {
  if (rule.days !== undefined) return now + rule.days * 86_400_000;
  // Years are calendar years (29 February of a leap year becomes 1 March).
  const d = new Date(now);
  d.setUTCFullYear(d.getUTCFullYear() + (rule.years ?? 0));
  return d.getTime();
}

/** The bucket's default retention (PutObjectLockConfiguration's Rule), if it has one. */
export async function loadDefaultRetention(ctx: RequestContext, bucket: BucketRecord): Promise<DefaultRetention | undefined> {
  if (!bucket.objectLock) return undefined;
  const stored = await ctx.store.getBucketConfig(bucket.name, LOCK_CONFIG_NAME);
  return stored === undefined ? undefined : parseStoredDefault(stored);
}

/**
 * The bucket's default retention applied to a write that names none (no x-amz-object-lock-mode /
 * -retain-until-date): its mode, until `now` + the rule's days or years. A legal hold alone does
 * not stop the default retention.
 */
export async function withDefaultRetention(ctx: RequestContext, bucket: BucketRecord, extras: VersionExtras, now: number): Promise<VersionExtras> {
  if (extras.retention !== undefined || !bucket.objectLock) return extras;
  const rule = await loadDefaultRetention(ctx, bucket);
  if (rule === undefined) return extras;
  const retention: Retention = { mode: rule.mode, until: defaultUntil(rule, now) };
  return { ...extras, retention };
}

/**
 * S3 takes the bytes of a version it will protect only with an integrity check the client computed:
 * a PutObject (or UploadPart of an upload) with object-lock parameters — its own headers or the
 * bucket's default retention — needs Content-MD5 or an x-amz-checksum-* (header, or trailer named
 * by x-amz-trailer), else 400 InvalidRequest, with S3's message. `what`: 'Put Object' / 'Put Part'.
 */
export function requireIntegrityForLock(ctx: RequestContext, extras: VersionExtras, what: 'Put Object' | 'Put Part'): void {
  if (extras.retention === undefined && extras.legalHold === undefined) return;
  if (hasIntegrityHeader(ctx)) return;
  throw new S3Error('InvalidRequest', `Content-MD5 OR x-amz-checksum- HTTP header is required for ${what} requests with Object Lock parameters`);
}

/** Content-MD5, an x-amz-checksum-<alg> header, or an x-amz-trailer naming one. */
export function hasIntegrityHeader(ctx: RequestContext): boolean {
  if (header(ctx, 'content-md5') !== undefined) return true;
  for (const alg of CHECKSUM_ALGORITHMS) if (header(ctx, `x-amz-checksum-${alg}`) !== undefined) return true;
  return (header(ctx, 'x-amz-trailer') ?? '').trim().toLowerCase().startsWith('x-amz-checksum-');
}

/**
 * The object-lock configuration, retention and legal hold PUTs: S3 requires Content-MD5 or an
 * x-amz-checksum-* header (every SDK sends one; body.ts verifies whichever comes).
 */
export function requireBodyIntegrity(ctx: RequestContext): undefined {
  if (!hasIntegrityHeader(ctx)) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
  return undefined;
}

/**
 * How a delete or overwrite by this request treats GOVERNANCE retention: bypassed when the request
 * says x-amz-bypass-governance-retention: true and its principal may s3:BypassGovernanceRetention on
 * the object (`key`, default the request's). Without that permission the header is ignored, as S3
 * does: the retention then binds.
 */
export function lockCheckOf(ctx: RequestContext, key: string | undefined = ctx.key): LockCheck {
  const asked = (header(ctx, 'x-amz-bypass-governance-retention') ?? '').trim().toLowerCase() === 'true';
  if (!asked || ctx.bucket === undefined) return { bypassGovernance: false };
  const resource = { kind: 'object' as const, bucket: ctx.bucket, key: key ?? '*', owner: ctx.bucketRecord?.owner };
  return { bypassGovernance: authorize(ctx.principal, 's3:BypassGovernanceRetention', resource, {}, ctx.bucketAccess).allowed };
}

/** Which of a version's lock headers a caller may see on GET/HEAD (lockVisibility). */
export interface LockVisibility {
  readonly retention: boolean;
  readonly legalHold: boolean;
}

const ALL_VISIBLE: LockVisibility = Object.freeze({ retention: true, legalHold: true });

/**
 * What S3 documents for GET/HEAD: the retention headers only when the caller may
 * s3:GetObjectRetention on the object, the legal-hold header only when it may s3:GetObjectLegalHold
 * (else they are left out, the request still succeeds). Asked only of a version that has them.
 */
export async function lockVisibility(ctx: RequestContext, rec: ObjectRecord): Promise<LockVisibility> {
  if ((rec.retention === undefined && rec.legalHold === undefined) || ctx.principal.kind === 'root') return ALL_VISIBLE;
  const resource = { kind: 'object' as const, bucket: rec.bucket, key: rec.key, owner: ctx.bucketRecord?.owner, versionId: rec.versionId };
  const facts = { existingTags: rec.tags };
  return {
    retention: rec.retention !== undefined && (await allows(ctx, 's3:GetObjectRetention', resource, facts)),
    legalHold: rec.legalHold !== undefined && (await allows(ctx, 's3:GetObjectLegalHold', resource, facts)),
  };
}

/** x-amz-object-lock-mode, -retain-until-date, -legal-hold (ON, or OFF once lifted) on GET/HEAD, as `visible` lets. */
export function lockHeaders(rec: ObjectRecord, visible: LockVisibility = ALL_VISIBLE): Record<string, string> {
  const h: Record<string, string> = {};
  if (rec.retention !== undefined && visible.retention) {
    h['x-amz-object-lock-mode'] = rec.retention.mode;
    h['x-amz-object-lock-retain-until-date'] = isoDate(rec.retention.until);
  }
  if (rec.legalHold !== undefined && visible.legalHold) h['x-amz-object-lock-legal-hold'] = rec.legalHold ? 'ON' : 'OFF';
  return h;
}

/**
 * The version an object-lock operation (Put/GetObjectRetention, Put/GetObjectLegalHold) acts on:
 * `versionId`, else the latest. NoSuchKey / NoSuchVersion when there is none; a delete marker, which
 * carries no lock, is 404 NoSuchKey as the latest and 405 MethodNotAllowed named by its version id
 * (as GetObject answers them), with x-amz-delete-marker and its x-amz-version-id.
 */
export async function lockTarget(ctx: ObjectRequest): Promise<ObjectRecord> {
  const versionId = ctx.endpoint.versionId;
  const rec = await ctx.store.versionRecord(ctx.bucket, ctx.key, versionId);
  if (rec === undefined) {
    if (versionId !== undefined && versionId !== NULL_VERSION) throw new S3Error('NoSuchVersion', undefined, { Key: ctx.key, VersionId: versionId });
    throw new S3Error('NoSuchKey', undefined, { Key: ctx.key });
  }
  if (!rec.isDeleteMarker) return rec;
  const headers = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': rec.versionId };
  if (versionId === undefined) throw new S3Error('NoSuchKey', undefined, { Key: ctx.key }, headers);
  throw new S3Error('MethodNotAllowed', undefined, { Method: ctx.method, ResourceType: 'DeleteMarker' }, headers);
}
