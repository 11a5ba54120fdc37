// GetBucketLifecycleConfiguration — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLifecycleConfiguration.html
// The stored rules as LifecycleConfiguration (generated IDs included), or 404 NoSuchLifecycleConfiguration.
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { lifecycleToXml, loadLifecycle } from '../lifecycle.js';

export async function getBucketLifecycleConfiguration(ctx: BucketRequest): Promise<S3Response> {
  const rules = await loadLifecycle(ctx.store, ctx.bucket);
  if (rules === undefined) throw new S3Error('NoSuchLifecycleConfiguration', undefined, { BucketName: ctx.bucket });
  return { status: 200, body: lifecycleToXml(rules) };
}
