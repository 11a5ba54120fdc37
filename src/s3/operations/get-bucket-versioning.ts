// GetBucketVersioning — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html
// A bucket whose versioning was never set answers an empty configuration.
import type { BucketRequest, S3Response } from '../context.js';

export async function getBucketVersioning(ctx: BucketRequest): Promise<S3Response> {
  const b = ctx.bucketRecord;
  return { status: 200, body: { root: 'VersioningConfiguration', content: { Status: b.versioning === '' ? undefined : b.versioning } } };
}
