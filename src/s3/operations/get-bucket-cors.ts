// GetBucketCors — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html
// The stored rules as CORSConfiguration, or 404 NoSuchCORSConfiguration.
import type { BucketRequest, S3Response } from '../context.js';
import { corsToXml, loadBucketCors } from '../cors.js';
import { S3Error } from '../errors.js';

export async function getBucketCors(ctx: BucketRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  const rules = await loadBucketCors(ctx.store, bucket);
  if (rules === undefined) throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: bucket });
  return { status: 200, body: corsToXml(rules) };
}
