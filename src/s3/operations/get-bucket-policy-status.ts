// GetBucketPolicyStatus — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicyStatus.html
// <PolicyStatus><IsPublic>: whether the bucket's policy is public as AWS defines it (bucket-policy.ts,
// isPublicPolicy); 404 NoSuchBucketPolicy when the bucket has no policy, as S3 answers.
import { POLICY_CONFIG_NAME } from '../bucket-access.js';
import { compiledBucketPolicy } from '../bucket-policy.js';
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';

export async function getBucketPolicyStatus(ctx: BucketRequest): Promise<S3Response> {
  const text = await ctx.store.getBucketConfig(ctx.bucket, POLICY_CONFIG_NAME);
  if (text === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: ctx.bucket });
  const isPublic = compiledBucketPolicy(text)?.public === true;
  return { status: 200, body: { root: 'PolicyStatus', content: { IsPublic: isPublic } } };
}
