// DeletePublicAccessBlock — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeletePublicAccessBlock.html
// Removes the bucket's switches (all off again): 204 whether or not it had them.
import type { BucketRequest, S3Response } from '../context.js';
import { storePublicAccessBlock } from '../public-access-block.js';

export async function deletePublicAccessBlock(ctx: BucketRequest): Promise<S3Response> {
  await storePublicAccessBlock(ctx.store, ctx.bucket, undefined);
  return { status: 204 };
}
