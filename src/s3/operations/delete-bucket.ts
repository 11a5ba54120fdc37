// DeleteBucket — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
import type { BucketRequest, S3Response } from '../context.js';

export async function deleteBucket(ctx: BucketRequest): Promise<S3Response> {
  await ctx.store.deleteBucket(ctx.bucket);
  return { status: 204 };
}
