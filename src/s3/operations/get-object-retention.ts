// GetObjectRetention — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html
// The version's retention (also one whose date has passed); 404 NoSuchObjectLockConfiguration when
// it has none, InvalidRequest on a bucket without object lock.
import type { ObjectRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { checkVersionId } from '../object-read.js';
import { lockTarget, missingLockConfiguration } from '../object-lock.js';
import { retentionXml } from '../object-lock-xml.js';

export async function getObjectRetention(ctx: ObjectRequest): Promise<S3Response> {
  if (!ctx.bucketRecord.objectLock) throw missingLockConfiguration();
  checkVersionId(ctx.endpoint.versionId); // malformed → InvalidArgument before any lookup
  const rec = await lockTarget(ctx);
  if (rec.retention === undefined) throw new S3Error('NoSuchObjectLockConfiguration');
  return { status: 200, body: retentionXml(rec.retention) };
}
