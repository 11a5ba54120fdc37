// DeleteObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
// 204 whether or not the key existed. Without versionId the bucket's versioning state decides (a
// delete marker when versioning is Enabled or Suspended, see Store.deleteObject); with one, exactly
// that version goes (object lock permitting: x-amz-bypass-governance-retention for GOVERNANCE).
import type { ObjectRequest, S3Response } from '../context.js';
import { lockCheckOf } from '../object-lock.js';
import { checkVersionId } from '../object-read.js';

export async function deleteObject(ctx: ObjectRequest): Promise<S3Response> {
  const versionId = ctx.endpoint.versionId;
  checkVersionId(versionId);
  const out = await ctx.store.deleteObject(ctx.bucket, ctx.key, { versionId, lock: lockCheckOf(ctx) });
  const headers: Record<string, string> = {};
  if (out.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  // The version removed or the marker added; a bucket that never had versioning answers none.
  if (out.versionId !== undefined && (versionId !== undefined || ctx.bucketRecord.versioning !== '')) headers['x-amz-version-id'] = out.versionId;
  return { status: 204, headers };
}
