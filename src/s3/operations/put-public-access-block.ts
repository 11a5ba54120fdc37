// PutPublicAccessBlock — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html
// Replaces the bucket's four Block Public Access switches (absent elements are off); 200 with no body.
import type { BucketRequest, S3Response } from '../context.js';
import { parsePublicAccessBlockXml, storePublicAccessBlock } from '../public-access-block.js';

export async function putPublicAccessBlock(ctx: BucketRequest): Promise<S3Response> {
  const pab = parsePublicAccessBlockXml(ctx.bodyText ?? '');
  await storePublicAccessBlock(ctx.store, ctx.bucket, pab);
  return { status: 200 };
}
