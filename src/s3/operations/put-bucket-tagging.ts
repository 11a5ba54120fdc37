// PutBucketTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html
// Replaces the bucket's tag set (at most 50 tags; stored as bucket config 'tagging'). S3 answers
// 204 No Content. An empty TagSet leaves the bucket without tags (GetBucketTagging: NoSuchTagSet).
import type { BucketRequest, S3Response } from '../context.js';
import { parseTaggingXml, storeBucketTags } from '../tagging.js';

export async function putBucketTagging(ctx: BucketRequest): Promise<S3Response> {
  const tags = parseTaggingXml(ctx.bodyText ?? '', 'bucket');
  await storeBucketTags(ctx.store, ctx.bucket, tags);
  return { status: 204 };
}
