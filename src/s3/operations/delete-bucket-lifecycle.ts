// DeleteBucketLifecycle — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketLifecycle.html
// 204 whether or not a configuration existed; from then on nothing in the bucket expires.
import type { BucketRequest, S3Response } from '../context.js';
import { forgetLifecycle, LIFECYCLE_CONFIG_NAME } from '../lifecycle.js';

export async function deleteBucketLifecycle(ctx: BucketRequest): Promise<S3Response> {
  await ctx.store.putBucketConfig(ctx.bucket, LIFECYCLE_CONFIG_NAME, undefined);
  forgetLifecycle(ctx.store, ctx.bucket);
  return { status: 204 };
}
