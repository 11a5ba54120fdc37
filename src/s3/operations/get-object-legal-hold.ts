// GetObjectLegalHold — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLegalHold.html
// ON, or OFF once lifted; 404 NoSuchObjectLockConfiguration for a version that never had a legal
// hold, InvalidRequest on a bucket without object lock.
import type { ObjectRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { checkVersionId } from '../object-read.js';
import { lockTarget, missingLockConfiguration } from '../object-lock.js';
import { legalHoldXml } from '../object-lock-xml.js';

export async function getObjectLegalHold(ctx: ObjectRequest): Promise<S3Response> {
  if (!ctx.bucketRecord.objectLock) throw missingLockConfiguration();
  checkVersionId(ctx.endpoint.versionId); // malformed → InvalidArgument before any lookup
  const rec = await lockTarget(ctx);
  if (rec.legalHold === undefined) throw new S3Error('NoSuchObjectLockConfiguration');
  return { status: 200, body: legalHoldXml(rec.legalHold) };
}
