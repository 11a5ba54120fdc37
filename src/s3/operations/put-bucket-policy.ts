// PutBucketPolicy — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
// Stores the JSON document as sent (at most 20 KiB: the body stage) after the policy language
// validated it as a bucket policy of this bucket (MalformedPolicy with AWS's reason; a Resource
// outside the bucket is "Policy has invalid resource", a user of this server that does not exist
// "Invalid principal in policy"). With BlockPublicPolicy on, a public policy is refused with
// AccessDenied. 204 No Content.
import { POLICY_CONFIG_NAME, PUBLIC_ACCESS_BLOCK_CONFIG_NAME } from '../bucket-access.js';
import { validateBucketPolicy } from '../bucket-policy.js';
import type { BucketRequest, S3Response } from '../context.js';

export async function putBucketPolicy(ctx: BucketRequest): Promise<S3Response> {
  const text = ctx.bodyText ?? '';
  const publicAccessBlock = await ctx.store.getBucketConfig(ctx.bucket, PUBLIC_ACCESS_BLOCK_CONFIG_NAME);
  validateBucketPolicy(text, ctx.bucket, { publicAccessBlock }, (name) => ctx.store.identities.getUser(name) !== undefined);
  await ctx.store.putBucketConfig(ctx.bucket, POLICY_CONFIG_NAME, text);
  return { status: 204 };
}
