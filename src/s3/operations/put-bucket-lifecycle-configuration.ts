// PutBucketLifecycleConfiguration — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
// Validates the whole configuration (s3/lifecycle.ts) before storing it as JSON (bucket config
// 'lifecycle'); a new configuration replaces the old one. The lifecycle job applies it.
import type { BucketRequest, S3Response } from '../context.js';
import { forgetLifecycle, LIFECYCLE_CONFIG_NAME, parseLifecycleXml, serializeLifecycle } from '../lifecycle.js';

export async function putBucketLifecycleConfiguration(ctx: BucketRequest): Promise<S3Response> {
  const rules = parseLifecycleXml(ctx.bodyText ?? '');
  await ctx.store.putBucketConfig(ctx.bucket, LIFECYCLE_CONFIG_NAME, serializeLifecycle(rules));
  forgetLifecycle(ctx.store, ctx.bucket);
  return { status: 200 };
}
