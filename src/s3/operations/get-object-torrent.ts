// GetObjectTorrent — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTorrent.html
// Strata serves no BitTorrent files: a missing key (or bucket) answers as GetObject would
// (NoSuchKey / NoSuchBucket), an existing one NotImplemented — what MinIO answers.
import type { ObjectRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';

export async function getObjectTorrent(ctx: ObjectRequest): Promise<S3Response> {
  const handle = await ctx.store.readObject(ctx.bucket, ctx.key, { withBytes: false }); // metadata only
  if (!handle) {
    throw new S3Error('NoSuchKey', undefined, { Key: ctx.key });
  }
  handle.release();
  throw new S3Error('NotImplemented', 'GetObjectTorrent is not implemented by this server.');
}
