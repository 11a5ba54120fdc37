// AbortMultipartUpload — https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
// Removes the upload and frees its parts' data. Unknown (or already completed) uploads → NoSuchUpload.
import type { ObjectRequest, S3Response } from '../context.js';
import { uploadIdOf } from '../multipart.js';

export async function abortMultipartUpload(ctx: ObjectRequest): Promise<S3Response> {
  await ctx.store.requireUpload(ctx.bucket, ctx.key, uploadIdOf(ctx)); // NoSuchBucket before NoSuchUpload
  await ctx.store.abortUpload(ctx.bucket, ctx.key, uploadIdOf(ctx));
  return { status: 204 };
}
