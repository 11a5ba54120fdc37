// GetBucketPolicy — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html
// The policy document exactly as PutBucketPolicy stored it, or 404 NoSuchBucketPolicy.
import { POLICY_CONFIG_NAME } from '../bucket-access.js';
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';

export async function getBucketPolicy(ctx: BucketRequest): Promise<S3Response> {
  const text = await ctx.store.getBucketConfig(ctx.bucket, POLICY_CONFIG_NAME);
  if (text === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: ctx.bucket });
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(text, 'utf8') };
}
