// DeleteBucketPolicy — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html
// Removes the bucket's policy: 204 whether or not it had one.
import { POLICY_CONFIG_NAME } from '../bucket-access.js';
import type { BucketRequest, S3Response } from '../context.js';

export async function deleteBucketPolicy(ctx: BucketRequest): Promise<S3Response> {
  await ctx.store.putBucketConfig(ctx.bucket, POLICY_CONFIG_NAME, undefined);
  return { status: 204 };
}
