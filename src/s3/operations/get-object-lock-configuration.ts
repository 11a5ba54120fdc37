// GetObjectLockConfiguration — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLockConfiguration.html
// ObjectLockEnabled and the default retention, if any; 404 ObjectLockConfigurationNotFoundError
// for a bucket without object lock.
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { loadDefaultRetention } from '../object-lock.js';
import { lockConfigurationXml } from '../object-lock-xml.js';

export async function getObjectLockConfiguration(ctx: BucketRequest): Promise<S3Response> {
  if (!ctx.bucketRecord.objectLock) throw new S3Error('ObjectLockConfigurationNotFoundError', undefined, { BucketName: ctx.bucket });
  return { status: 200, body: lockConfigurationXml(await loadDefaultRetention(ctx, ctx.bucketRecord)) };
}
