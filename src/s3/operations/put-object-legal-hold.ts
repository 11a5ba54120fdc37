// PutObjectLegalHold — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLegalHold.html
// Places (ON) or lifts (OFF) a version's legal hold; anyone allowed s3:PutObjectLegalHold may do
// either, whatever the version's retention.
import type { ObjectRequest, S3Response } from '../context.js';
import { checkVersionId } from '../object-read.js';
import { lockTarget, missingLockConfiguration } from '../object-lock.js';
import { parseLegalHold } from '../object-lock-xml.js';

export async function putObjectLegalHold(ctx: ObjectRequest): Promise<S3Response> {
  if (!ctx.bucketRecord.objectLock) throw missingLockConfiguration();
  checkVersionId(ctx.endpoint.versionId); // malformed → InvalidArgument before any lookup
  const legalHold = parseLegalHold(ctx.bodyText ?? '');
  const updated = await ctx.store.updateObject(ctx.bucket, ctx.key, ctx.endpoint.versionId, { legalHold });
  if (updated === undefined) await lockTarget(ctx); // throws: no such key or version, or a delete marker
  return { status: 200 };
}
