// PutObjectRetention — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html
// Sets, extends, shortens or (an empty Retention) removes a version's retention. Whether the change
// is allowed (COMPLIANCE only extended; GOVERNANCE shortened, removed or made COMPLIANCE only with
// x-amz-bypass-governance-retention) is the store's rule, checked in its transaction.
import type { ObjectRequest, S3Response } from '../context.js';
import { checkVersionId } from '../object-read.js';
import { lockCheckOf, lockTarget, missingLockConfiguration } from '../object-lock.js';
import { parseRetention } from '../object-lock-xml.js';

export async function putObjectRetention(ctx: ObjectRequest): Promise<S3Response> {
  if (!ctx.bucketRecord.objectLock) throw missingLockConfiguration();
  checkVersionId(ctx.endpoint.versionId); // malformed → InvalidArgument before any lookup
  const retention = parseRetention(ctx.bodyText ?? '', Date.now());
  const updated = await ctx.store.updateObject(ctx.bucket, ctx.key, ctx.endpoint.versionId, { retention, lock: lockCheckOf(ctx) });
  if (updated === undefined) await lockTarget(ctx); // throws: no such key or version, or a delete marker
  return { status: 200 };
}
