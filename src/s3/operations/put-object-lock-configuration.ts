// PutObjectLockConfiguration — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html
// Sets the bucket's default retention (or removes it: no Rule), stored as the bucket config
// document 'object-lock'. On a bucket made without object lock it enables object lock, as S3 does
// for a bucket whose versioning is Enabled (409 InvalidBucketState otherwise, from the store).
import type { BucketRequest, S3Response } from '../context.js';
import { LOCK_CONFIG_NAME, parseLockConfiguration, serializeDefault } from '../object-lock-xml.js';

export async function putObjectLockConfiguration(ctx: BucketRequest): Promise<S3Response> {
  const conf = parseLockConfiguration(ctx.bodyText ?? '');
  if (!ctx.bucketRecord.objectLock) await ctx.store.updateBucket(ctx.bucket, { objectLock: true });
  await ctx.store.putBucketConfig(ctx.bucket, LOCK_CONFIG_NAME, conf.rule === undefined ? undefined : serializeDefault(conf.rule));
  return { status: 200 };
}
