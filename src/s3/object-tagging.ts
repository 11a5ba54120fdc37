// The version an object-tagging request names (PutObjectTagging, GetObjectTagging,
// DeleteObjectTagging): `versionId`, else the latest; S3's errors for a malformed, missing or
// unknown version and for a delete marker; and the x-amz-version-id these operations answer.
import type { ObjectRecord } from '../store/types.js';
import { NULL_VERSION } from '../store/types.js';
import type { ObjectRequest } from './context.js';
import { S3Error } from './errors.js';
import { checkVersionId, deleteMarkerHeaders, versionIdHeader } from './object-read.js';

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
  const headers = deleteMarkerHeaders(rec);
  if (versionId === undefined) return new S3Error('NoSuchKey', undefined, { Key: ctx.key }, headers);
  return new S3Error('MethodNotAllowed', undefined, { Method: ctx.method, ResourceType: 'DeleteMarker' }, { ...headers, allow: 'DELETE' });
}

/** The version as a record for reading its tags, or the error of noTaggableVersion. */
export async function taggableVersion(ctx: ObjectRequest, versionId: string | undefined): Promise<ObjectRecord> {
  checkVersionId(versionId);
  const rec = await ctx.store.versionRecord(ctx.bucket, ctx.key, versionId);
  if (rec !== undefined && !rec.isDeleteMarker) return rec;
  throw await noTaggableVersion(ctx, versionId);
}

/** Changes the tags of the version (null removes them), or throws noTaggableVersion's error. */
export async function retagVersion(ctx: ObjectRequest, versionId: string | undefined, tags: ObjectRecord['tags'] | null): Promise<ObjectRecord> {
  checkVersionId(versionId);
  const rec = await ctx.store.updateObject(ctx.bucket, ctx.key, versionId, { tags: tags !== null && tags !== undefined && tags.length > 0 ? tags : null });
  if (rec === undefined) throw await noTaggableVersion(ctx, versionId);
  return rec;
}

/** x-amz-version-id of a tagging answer: the version's id (none for the 'null' version, as GET and HEAD). */
export function versionHeader(rec: ObjectRecord): Record<string, string> {
  return versionIdHeader(rec);
}
