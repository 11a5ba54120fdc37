// Reading an object for an operation (GetObject, HeadObject, GetObjectAttributes, GetObjectTagging,
// the copy source): a read handle, or the errors S3 distinguishes for a missing key, version or
// bucket and for a delete marker; and the check of a request's version id.
import type { ObjectHandle } from '../store/store.js';
import { NULL_VERSION, type ObjectRecord } from '../store/types.js';
import { checkAccess, resourceOf } from './access.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';

/** The shape of the version ids Strata makes (store/versions.ts newVersionId), or 'null'. */
const VERSION_ID = /^[0-9A-Za-z]{32}$/;

/** Whether a version id has a shape this server's versions can have (the 32-character form or 'null'). */
export function wellFormedVersionId(versionId: string): boolean {
  return versionId === NULL_VERSION || VERSION_ID.test(versionId);
}

/**
 * Refuses a version id that no version of this server can have: S3 answers InvalidArgument
 * "Invalid version id specified" for a malformed id ("Version id cannot be the empty string" for
 * `versionId=`), before looking anything up.
 */
export function checkVersionId(versionId: string | undefined, argumentName = 'versionId'): void {
  if (versionId === undefined || wellFormedVersionId(versionId)) return;
  if (versionId === '') {
    throw new S3Error('InvalidArgument', 'Version id cannot be the empty string', { ArgumentName: argumentName, ArgumentValue: '' });
  }
  throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: argumentName, ArgumentValue: versionId });
}

/** x-amz-version-id of a version a write made (none for the 'null' version, as GET and HEAD). */
export function versionIdHeader(rec: ObjectRecord, name = 'x-amz-version-id'): Record<string, string> {
  return rec.versionId === NULL_VERSION ? {} : { [name]: rec.versionId };
}

/**
 * x-amz-version-id of a version read (GET, HEAD, GetObjectAttributes): its id; the 'null' version
 * only in a bucket that has had versioning (Enabled or Suspended) answers 'null', as S3 does; in a
 * bucket that never had it no header is sent.
 */
export function readVersionHeader(ctx: RequestContext, rec: ObjectRecord): Record<string, string> {
  if (rec.versionId !== NULL_VERSION) return { 'x-amz-version-id': rec.versionId };
  return ctx.bucketRecord !== undefined && ctx.bucketRecord.versioning !== '' ? { 'x-amz-version-id': NULL_VERSION } : {};
}

/** The headers S3 sends about a delete marker: x-amz-delete-marker and its version id. */
export function deleteMarkerHeaders(marker: ObjectRecord): Record<string, string> {
  return { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId };
}

/**
 * The object (the version `versionId`, else the latest) as a read handle, or NoSuchKey /
 * NoSuchBucket / NoSuchVersion as S3 distinguishes them. A delete marker: as the latest version,
 * NoSuchKey (404) with the marker's headers; named by its version id, MethodNotAllowed (405) with
 * them (S3: a marker has no data to GET or HEAD). Its data stay pinned until the handle is
 * streamed or released (otherwise the pin lapses after the store's read lease).
 */
export async function loadObject(ctx: RequestContext, bucket: string, key: string, versionId?: string): Promise<ObjectHandle> {
  checkVersionId(versionId);
  // HEAD never sends the bytes: an inline object's are not even read.
  const handle = await ctx.store.readObject(bucket, key, { versionId, withBytes: ctx.method !== 'HEAD' });
  if (handle) return handle;
  // The request's own bucket was loaded by the pipeline; another one (a copy source) is looked up.
  if (bucket !== ctx.bucket || ctx.bucketRecord === undefined) await ctx.store.requireBucket(bucket);
  const marker = await ctx.store.versionRecord(bucket, key, versionId);
  if (marker?.isDeleteMarker) {
    const headers = deleteMarkerHeaders(marker);
    if (versionId !== undefined) {
      throw new S3Error(
        'MethodNotAllowed',
        undefined,
        { Method: ctx.method, ResourceType: 'DeleteMarker' },
        {
          ...headers,
          'last-modified': new Date(marker.lastModified).toUTCString(),
          allow: 'DELETE',
        },
      );
    }
    throw new S3Error('NoSuchKey', undefined, { Key: key }, headers);
  }
  // A key without that version; versionId=null of a missing key is NoSuchKey.
  if (versionId !== undefined && versionId !== NULL_VERSION) throw new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
  throw new S3Error('NoSuchKey', undefined, { Key: key });
}

/**
 * loadObject for GetObject and HeadObject, with S3's rule for a missing key: the 404 (NoSuchKey,
 * NoSuchVersion, a delete marker's) goes only to a caller who may list the bucket (s3:ListBucket);
 * anyone else gets 403 AccessDenied, so a refusal does not tell whether the key exists. Root may
 * list everything: no check.
 */
export async function loadReadableObject(ctx: RequestContext & { readonly bucket: string }, key: string, versionId?: string): Promise<ObjectHandle> {
  try {
    return await loadObject(ctx, ctx.bucket, key, versionId);
  } catch (err) {
    if (err instanceof S3Error && err.status === 404 && ctx.principal.kind !== 'root' && ctx.bucketRecord !== undefined) {
      await checkAccess(ctx, ['s3:ListBucket'], resourceOf('bucket', ctx.bucket, undefined, ctx.bucketRecord.owner));
    }
    throw err;
  }
}
