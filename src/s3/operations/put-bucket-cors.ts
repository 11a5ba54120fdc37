// PutBucketCors — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html
// Validates the whole configuration before storing it (as JSON, bucket config 'cors'); a new
// configuration replaces the old one. Content-MD5 / x-amz-checksum-* are verified by the body stage.
import type { BucketRequest, S3Response } from '../context.js';
import { CORS_CONFIG_NAME, parseCorsXml, serializeCors } from '../cors.js';

export async function putBucketCors(ctx: BucketRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  const rules = parseCorsXml(ctx.bodyText ?? '');
  await ctx.store.putBucketConfig(bucket, CORS_CONFIG_NAME, serializeCors(rules));
  return { status: 200 };
}
