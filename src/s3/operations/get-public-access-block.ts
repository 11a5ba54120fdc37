// GetPublicAccessBlock — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetPublicAccessBlock.html
// The four switches, or 404 NoSuchPublicAccessBlockConfiguration when the bucket has none.
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { loadPublicAccessBlock, publicAccessBlockXml } from '../public-access-block.js';

export async function getPublicAccessBlock(ctx: BucketRequest): Promise<S3Response> {
  const pab = await loadPublicAccessBlock(ctx.store, ctx.bucket);
  if (pab === undefined) throw new S3Error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: ctx.bucket });
  return { status: 200, body: publicAccessBlockXml(pab) };
}
