// The version an object-tagging request names (PutObjectTagging, GetObjectTagging,
// DeleteObjectTagging): `versionId`, else the latest; S3's errors for a missing key or version and
// for a delete marker; and the x-amz-version-id these operations answer.
import type { ObjectRecord } from '../store/types.js';
import { NULL_VERSION } from '../store/types.js';
import type { ObjectRequest } from './context.js';
import { S3Error } from './errors.js';

/**
 * Why `versionId` (or the latest version) of the request's key has no tags to read or change:
 * NoSuchKey for a missing key or a latest delete marker (with x-amz-delete-marker), NoSuchVersion
 * for an unknown version id, 405 MethodNotAllowed for a delete marker named by its version id.
 */
export async function noTaggableVersion(ctx: ObjectRequest, versionId: string | undefined): Promise<S3Error> {
  const rec = await ctx.store.versionRecord(ctx.bucket, ctx.key, versionId);
  // Not there (or, after a racing write, there now: it was not when the caller looked).
  if (rec === undefined || !rec.isDeleteMarker) {
    if (versionId !== undefined && versionId !== NULL_VERSION) return new S3Error('NoSuchVersion', undefined, { Key: ctx.key, VersionId: versionId });
    return new S3Error('NoSuchKey', undefined, { Key: ctx.key });
  }
  const markerHeaders = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': rec.versionId };
  if (versionId === undefined) return new S3Error('NoSuchKey', undefined, { Key: ctx.key }, markerHeaders);
  return new S3Error('MethodNotAllowed', undefined, { Method: ctx.method, ResourceType: 'DeleteMarker' }, { ...markerHeaders, allow: 'DELETE' });
}

/** The version as a record for reading its tags, or the error of noTaggableVersion. */
export async function taggableVersion(ctx: ObjectRequest, versionId: string | undefined): Promise<ObjectRecord> {
  const rec = await ctx.store.versionRecord(ctx.bucket, ctx.key, versionId);
  if (rec !== undefined && !rec.isDeleteMarker) return rec;
  throw await noTaggableVersion(ctx, versionId);
}

/** x-amz-version-id of a tagging answer: in a bucket that has (had) versioning, or when the request named a version. */
export function versionHeader(ctx: ObjectRequest, rec: ObjectRecord): Record<string, string> {
  return ctx.bucketRecord.versioning !== '' || ctx.endpoint.versionId !== undefined ? { 'x-amz-version-id': rec.versionId } : {};
}
