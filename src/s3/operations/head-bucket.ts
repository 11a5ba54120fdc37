// HeadBucket — https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
import type { BucketRequest, S3Response } from '../context.js';

export async function headBucket(ctx: BucketRequest): Promise<S3Response> {
  const b = ctx.bucketRecord;
  return { status: 200, headers: { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false' } };
}
