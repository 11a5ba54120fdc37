// DeleteBucketCors — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketCors.html
// 204 whether or not a configuration existed; NoSuchBucket for a missing bucket.
import type { BucketRequest, S3Response } from '../context.js';
import { CORS_CONFIG_NAME } from '../cors.js';

export async function deleteBucketCors(ctx: BucketRequest): Promise<S3Response> {
  await ctx.store.putBucketConfig(ctx.bucket, CORS_CONFIG_NAME, undefined);
  return { status: 204 };
}
