// GetBucketLocation — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
// us-east-1 is answered with an empty element, as AWS does.
import type { BucketRequest, S3Response } from '../context.js';

export async function getBucketLocation(ctx: BucketRequest): Promise<S3Response> {
  const b = ctx.bucketRecord;
  return { status: 200, body: { root: 'LocationConstraint', content: { '#text': b.region === 'us-east-1' ? '' : b.region } } };
}
