// DeleteObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
// 204 whether or not the key existed.
import type { ObjectRequest, S3Response } from '../context.js';

export async function deleteObject(ctx: ObjectRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  const versionId = ctx.endpoint.versionId;
  if (versionId === undefined || versionId === 'null') await ctx.store.deleteObject(bucket, ctx.key);
  return { status: 204 };
}
