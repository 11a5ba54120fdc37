// DeleteObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
// 204 whether or not the key existed.
import type { RequestContext, S3Response } from '../context.js';

export async function deleteObject(ctx: RequestContext): Promise<S3Response> {
  const bucket = ctx.bucket!;
  await ctx.store.requireBucket(bucket);
  const versionId = ctx.query.get('versionId');
  if (versionId === undefined || versionId === 'null') await ctx.store.deleteObject(bucket, ctx.key!);
  return { status: 204 };
}
