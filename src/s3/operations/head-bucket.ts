// HeadBucket — https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
import type { RequestContext, S3Response } from '../context.js';

export async function headBucket(ctx: RequestContext): Promise<S3Response> {
  const b = await ctx.store.requireBucket(ctx.bucket!);
  return { status: 200, headers: { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false' } };
}
