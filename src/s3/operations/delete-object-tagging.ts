// DeleteObjectTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjectTagging.html
// Removes the whole tag set of one version (`versionId`, else the latest): 204, also when it had none.
// The object itself stays (the router keeps `DELETE /b/k?tagging` apart from DeleteObject).
import type { ObjectRequest, S3Response } from '../context.js';
import { retagVersion, versionHeader } from '../object-tagging.js';

export async function deleteObjectTagging(ctx: ObjectRequest): Promise<S3Response> {
  const rec = await retagVersion(ctx, ctx.endpoint.versionId, null);
  return { status: 204, headers: versionHeader(rec) };
}
