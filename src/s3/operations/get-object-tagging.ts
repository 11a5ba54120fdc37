// GetObjectTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html
// Strata stores no object tags (PutObjectTagging answers 501, x-amz-tagging is not kept), so an
// existing object's tag set is empty. Clients read it before copying: `aws s3 cp`/`mv` between S3
// locations above the multipart threshold (--copy-props default) fail if this answers 501.
import type { ObjectRequest, S3Response } from '../context.js';
import { loadObject } from '../object-read.js';

export async function getObjectTagging(ctx: ObjectRequest): Promise<S3Response> {
  // NoSuchBucket / NoSuchKey / NoSuchVersion as GetObject; no data is read.
  const handle = await loadObject(ctx, ctx.bucket, ctx.key, ctx.endpoint.versionId);
  handle.release(); // metadata only: no data is read
  const rec = handle.record;
  const headers: Record<string, string> = {};
  if (ctx.endpoint.versionId !== undefined) headers['x-amz-version-id'] = rec.versionId;
  return { status: 200, headers, body: { root: 'Tagging', content: { TagSet: '' } } };
}
