// DeleteBucketLifecycle — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketLifecycle.html
// 204 whether or not a configuration existed; from then on nothing in the bucket expires.
import type { BucketRequest, S3Response } from '../context.js';
import { LIFECYCLE_CONFIG_NAME } from '../lifecycle.js';

export async function deleteBucketLifecycle(ctx: BucketRequest): Promise<S3Response> {
  await ctx.store.putBucketConfig(ctx.bucket, LIFECYCLE_CONFIG_NAME, undefined);
  return { status: 204 };
}
