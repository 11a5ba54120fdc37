// DeleteBucketTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketTagging.html
// 204 whether or not the bucket had tags; NoSuchBucket for a missing bucket.
import type { BucketRequest, S3Response } from '../context.js';
import { storeBucketTags } from '../tagging.js';

export async function deleteBucketTagging(ctx: BucketRequest): Promise<S3Response> {
  await storeBucketTags(ctx.store, ctx.bucket, undefined);
  return { status: 204 };
}
