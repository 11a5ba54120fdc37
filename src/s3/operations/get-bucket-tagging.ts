// GetBucketTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html
// The bucket's tag set as a Tagging document, or 404 NoSuchTagSet when it has none.
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { loadBucketTags, taggingXml } from '../tagging.js';

export async function getBucketTagging(ctx: BucketRequest): Promise<S3Response> {
  const tags = await loadBucketTags(ctx.store, ctx.bucket);
  if (tags === undefined) throw new S3Error('NoSuchTagSet', undefined, { BucketName: ctx.bucket });
  return { status: 200, body: taggingXml(tags) };
}
